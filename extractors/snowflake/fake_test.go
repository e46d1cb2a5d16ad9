package snowflake

// A fake Snowflake that the real gosnowflake driver talks to over HTTP on
// 127.0.0.1: login, query-request with JSON rowsets (large results split
// into chunks the driver downloads), token renewal after 390112, HTTP 429 and
// 503 (the driver retries), SQL errors as success:false, session delete.
//
// It answers weft's history query from a dataset of raw logged queries
// (one JSON object per query, the shape of the demo export) by doing what
// Snowflake would do with the SQL: filter by the bound window, status and
// the QUERY_TYPE list written in the SQL, resolve stored procedure children
// to their CALL, and group by query shape. It does not reuse the package's
// own dedup code, so that the online == offline test compares two
// implementations.

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeQuery is one logged query of the fake's dataset.
type fakeQuery map[string]any

func (q fakeQuery) str(k string) string {
	switch v := q[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	}
	return ""
}

func (q fakeQuery) start(t *testing.T) time.Time {
	ts, err := time.Parse("2006-01-02 15:04:05.000 -0700", q.str("START_TIME"))
	if err != nil {
		t.Fatalf("fake: START_TIME: %v", err)
	}
	return ts.UTC()
}

// fakeSnowflake is the server. Knobs are set before the driver connects
// (or under mu).
type fakeSnowflake struct {
	t    *testing.T
	srv  *httptest.Server
	data []fakeQuery

	mu sync.Mutex
	// behaviour
	chunkRows   int            // rows per result part: the first part is inline, the rest chunks
	expire      int            // answer the next N query-requests with 390112 (session expired)
	throttle    int            // answer the next N query-requests with HTTP 429
	unavailable int            // answer the next N query-requests with HTTP 503
	failSQL     string         // a query containing this gets success:false 002003
	publicKey   *rsa.PublicKey // when set, login must carry a JWT signed by its key
	onQuery     func(n int)    // called (without mu) when history query n (1-based) arrives
	// state
	token, master string
	sessionSeq    int
	// record
	paths    []string
	queries  []fakeRequest
	logins   []map[string]any
	renewals int
	pings    int
	seq      int
	deletes  int
	chunks   map[string][]byte
}

type fakeRequest struct {
	SQL      string
	Bindings map[string]struct{ Type, Value string }
}

// newFake starts a fake Snowflake serving the raw queries of export (a
// JSON-lines file).
func newFake(t *testing.T, export string) *fakeSnowflake {
	t.Helper()
	f := &fakeSnowflake{t: t, chunkRows: 5, chunks: map[string][]byte{}}
	if export != "" {
		file, err := os.Open(export)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		sc := bufio.NewScanner(file)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var q fakeQuery
			if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
				t.Fatal(err)
			}
			f.data = append(f.data, q)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Listener = l
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

// port returns the fake's TCP port.
func (f *fakeSnowflake) port() int { return f.srv.Listener.Addr().(*net.TCPAddr).Port }

// config returns a Config pointing at the fake with password auth.
func (f *fakeSnowflake) config() Config {
	return Config{
		Name: "prod", Account: "acmebank-prod", User: "WEFT_READER", Role: "WEFT_LINEAGE", Warehouse: "WEFT_WH",
		Password: "fake-password-Xq9!", Host: "127.0.0.1", Port: f.port(), Protocol: "http",
		LoginTimeout: 10 * time.Second, RequestTimeout: 30 * time.Second, MaxRetryCount: 5,
	}
}

func (f *fakeSnowflake) writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Errorf("fake: write: %v", err)
	}
}

func (f *fakeSnowflake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	switch {
	case r.URL.Path == "/session/v1/login-request":
		f.login(w, body)
	case r.URL.Path == "/session/token-request":
		var req map[string]string
		_ = json.Unmarshal(body, &req)
		if r.Header.Get("Authorization") != `Snowflake Token="`+f.master+`"` || req["oldSessionToken"] != f.token {
			f.writeJSON(w, map[string]any{"success": false, "code": "390114", "message": "bad renew request"})
			return
		}
		f.renewals++
		f.sessionSeq++
		f.token = fmt.Sprintf("session-token-%d", f.sessionSeq)
		f.writeJSON(w, map[string]any{"success": true, "data": map[string]any{
			"sessionToken": f.token, "masterToken": f.master, "sessionId": 4242, "validityInSecondsST": 3600, "validityInSecondsMT": 14400}})
	case r.URL.Path == "/queries/v1/query-request":
		f.query(w, r, body)
	case strings.HasPrefix(r.URL.Path, "/chunks/"):
		b, ok := f.chunks[strings.TrimPrefix(r.URL.Path, "/chunks/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	case r.URL.Path == "/session" && r.URL.Query().Get("delete") == "true":
		f.deletes++
		f.writeJSON(w, map[string]any{"success": true})
	case r.URL.Path == "/queries/v1/abort-request":
		f.writeJSON(w, map[string]any{"success": true})
	case r.URL.Path == "/telemetry/send":
		f.writeJSON(w, map[string]any{"success": true})
	default:
		f.t.Errorf("fake: unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	}
}

func (f *fakeSnowflake) login(w http.ResponseWriter, body []byte) {
	var req struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("fake: login body: %v", err)
	}
	f.logins = append(f.logins, req.Data)
	if f.publicKey != nil {
		if err := verifyJWT(fmt.Sprint(req.Data["TOKEN"]), f.publicKey); err != nil || req.Data["AUTHENTICATOR"] != "SNOWFLAKE_JWT" {
			f.writeJSON(w, map[string]any{"success": false, "code": "390144", "message": "JWT token is invalid.", "data": nil})
			return
		}
	}
	if env, _ := req.Data["CLIENT_ENVIRONMENT"].(map[string]any); env != nil {
		if p := fmt.Sprint(env["PLATFORM"]); p != "[disabled]" {
			f.t.Errorf("fake: platform detection ran (PLATFORM=%s): it probes cloud metadata addresses", p)
		}
	}
	f.sessionSeq++
	f.token = fmt.Sprintf("session-token-%d", f.sessionSeq)
	f.master = "master-token"
	f.writeJSON(w, map[string]any{"success": true, "data": map[string]any{
		"token": f.token, "masterToken": f.master, "sessionId": 4242,
		"parameters": []map[string]any{{"name": "TIMEZONE", "value": "UTC"}}}})
}

// verifyJWT checks an RS256 JWT's signature.
func verifyJWT(tok string, pub *rsa.PublicKey) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
}

func (f *fakeSnowflake) query(w http.ResponseWriter, r *http.Request, body []byte) {
	if hook := f.onQuery; hook != nil && bytes.Contains(body, []byte("query_history")) {
		n := len(f.queries) + 1
		f.mu.Unlock()
		hook(n)
		f.mu.Lock()
	}
	if f.throttle > 0 {
		f.throttle--
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if f.unavailable > 0 {
		f.unavailable--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if f.expire > 0 {
		f.expire--
		f.writeJSON(w, map[string]any{"success": false, "code": "390112", "message": "Your session has expired. Please login again.", "data": nil})
		return
	}
	if got := r.Header.Get("Authorization"); got != `Snowflake Token="`+f.token+`"` {
		f.writeJSON(w, map[string]any{"success": false, "code": "390104", "message": "bad token " + got, "data": nil})
		return
	}
	var req struct {
		SQLText  string                                  `json:"sqlText"`
		Bindings map[string]struct{ Type, Value string } `json:"bindings"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("fake: query body: %v", err)
	}
	f.seq++
	queryID := fmt.Sprintf("01bdfa4e-0602-7e3a-0000-%012d", f.seq)
	if strings.TrimSpace(req.SQLText) == "SELECT 1" {
		f.pings++ // the driver's Ping
	} else {
		f.queries = append(f.queries, fakeRequest{SQL: req.SQLText, Bindings: req.Bindings})
	}
	if f.failSQL != "" && strings.Contains(req.SQLText, f.failSQL) {
		f.writeJSON(w, map[string]any{"success": false, "code": "002003",
			"message": "SQL compilation error:\nObject 'SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY' does not exist or not authorized.",
			"data":    map[string]any{"internalError": false, "errorCode": "002003", "age": 0, "sqlState": "02000", "queryId": queryID}})
		return
	}
	var cols []map[string]any
	var rows [][]*string
	switch {
	case strings.Contains(req.SQLText, "snowflake.account_usage.query_history"):
		cols, rows = f.history(req.SQLText, req.Bindings)
	case strings.Contains(req.SQLText, "snowflake.account_usage.columns"):
		cols, rows = f.columns()
	case strings.HasPrefix(strings.TrimSpace(strings.ToUpper(req.SQLText)), "SELECT 1"):
		cols, rows = []map[string]any{{"name": "1", "type": "fixed", "scale": 0, "precision": 1, "nullable": false}}, [][]*string{{ptr("1")}}
	default:
		f.t.Errorf("fake: unexpected query %q", req.SQLText)
	}
	data := map[string]any{
		"parameters": []map[string]any{{"name": "TIMEZONE", "value": "UTC"}},
		"rowtype":    cols, "queryId": queryID, "queryResultFormat": "json",
		"total": len(rows), "returned": len(rows),
		"finalDatabaseName": "SNOWFLAKE", "finalSchemaName": "ACCOUNT_USAGE",
	}
	inline := rows
	if f.chunkRows > 0 && len(rows) > f.chunkRows {
		inline = rows[:f.chunkRows]
		var chunks []map[string]any
		for i, n := f.chunkRows, 0; i < len(rows); i, n = i+f.chunkRows, n+1 {
			part := rows[i:min(i+f.chunkRows, len(rows))]
			var b strings.Builder
			for j, row := range part {
				if j > 0 {
					b.WriteString(",")
				}
				enc, _ := json.Marshal(row)
				b.Write(enc)
			}
			key := fmt.Sprintf("%s/%d", queryID, n)
			f.chunks[key] = []byte(b.String())
			chunks = append(chunks, map[string]any{
				"url": f.srv.URL + "/chunks/" + key, "rowCount": len(part),
				"uncompressedSize": b.Len(), "compressedSize": b.Len()})
		}
		data["chunks"] = chunks
		data["chunkHeaders"] = map[string]string{"x-fake-chunk": "1"}
	}
	data["rowset"] = inline
	f.writeJSON(w, map[string]any{"success": true, "code": nil, "message": nil, "data": data})
}

func ptr(s string) *string { return &s }

// history answers the history query: see the package comment.
func (f *fakeSnowflake) history(sql string, binds map[string]struct{ Type, Value string }) ([]map[string]any, [][]*string) {
	t := f.t
	bind := func(i int) int64 {
		b, ok := binds[strconv.Itoa(i)]
		if !ok {
			t.Fatalf("fake: no binding %d", i)
		}
		n, err := strconv.ParseInt(b.Value, 10, 64)
		if err != nil {
			t.Fatalf("fake: binding %d = %q: %v", i, b.Value, err)
		}
		return n
	}
	from, to := time.UnixMilli(bind(1)), time.UnixMilli(bind(2))
	bucket := bind(len(binds))
	m := regexp.MustCompile(`query_type IN \(([^)]*)\)`).FindStringSubmatch(sql)
	if m == nil {
		t.Fatalf("fake: no query_type list in %s", sql)
	}
	types := map[string]bool{}
	for _, s := range strings.Split(m[1], ",") {
		types[strings.Trim(strings.TrimSpace(s), "'")] = true
	}
	if !strings.Contains(sql, "execution_status = 'SUCCESS'") {
		t.Errorf("fake: query does not filter on execution_status")
	}
	access := strings.Contains(sql, "snowflake.account_usage.access_history")

	type q struct {
		fakeQuery
		start time.Time
		ord   string
		shape string
	}
	var in []q
	calls := map[string]string{}
	for _, d := range f.data {
		st := d.start(t)
		if st.Before(from) || !st.Before(to) || d.str("EXECUTION_STATUS") != "SUCCESS" || !types[d.str("QUERY_TYPE")] {
			continue
		}
		x := q{fakeQuery: d, start: st, ord: st.Format("2006-01-02 15:04:05.000000000") + d.str("QUERY_ID"),
			shape: cmpOr(d.str("QUERY_PARAMETERIZED_HASH"), d.str("QUERY_HASH"))}
		in = append(in, x)
		if d.str("QUERY_TYPE") == "CALL" {
			calls[d.str("QUERY_ID")] = x.shape
		}
	}
	type group struct {
		first, last q
		count       int64
		rootShape   *string
	}
	groups := map[[3]string]*group{}
	var order [][3]string
	for _, x := range in {
		root := ""
		if access {
			root = x.str("ROOT_QUERY_ID")
		}
		var rootShape *string
		if s, ok := calls[root]; ok && root != "" {
			rootShape = &s
		}
		k := [3]string{x.shape, "", ""}
		if rootShape != nil {
			k[1] = *rootShape
		} else {
			k[2] = root
		}
		g := groups[k]
		if g == nil {
			g = &group{first: x, last: x, rootShape: rootShape}
			groups[k] = g
			order = append(order, k)
		}
		g.count++
		if x.ord < g.first.ord {
			g.first = x
		}
		if x.ord > g.last.ord {
			g.last = x
		}
	}
	slices.SortFunc(order, func(a, b [3]string) int {
		ga, gb := groups[a], groups[b]
		return strings.Compare(ga.first.ord, gb.first.ord)
	})
	ts := func(t time.Time) *string {
		return ptr(fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()))
	}
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	variant := func(d fakeQuery, k string) *string {
		v, ok := d[k]
		if !ok || v == nil || !access {
			return nil
		}
		// Snowflake pretty-prints semi-structured values.
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return ptr(string(b))
	}
	var rows [][]*string
	for _, k := range order {
		g := groups[k]
		d := g.first.fakeQuery
		root := (*string)(nil)
		if access {
			root = str(d.str("ROOT_QUERY_ID"))
		}
		rows = append(rows, []*string{
			ptr(g.first.shape), g.rootShape, ts(time.UnixMilli(bucket)), ptr(strconv.FormatInt(g.count, 10)),
			ptr(d.str("QUERY_ID")), ptr(g.last.str("QUERY_ID")), ts(g.first.start), ts(g.last.start),
			ptr(d.str("QUERY_TEXT")), str(d.str("QUERY_TYPE")), str(d.str("DATABASE_NAME")), str(d.str("SCHEMA_NAME")),
			str(d.str("USER_NAME")), str(d.str("ROLE_NAME")), str(d.str("WAREHOUSE_NAME")), str(d.str("SESSION_ID")),
			root, str(d.str("QUERY_TAG")), str(d.str("EXECUTION_STATUS")),
			variant(d, "DIRECT_OBJECTS_ACCESSED"), variant(d, "BASE_OBJECTS_ACCESSED"), variant(d, "OBJECTS_MODIFIED"),
		})
	}
	var cols []map[string]any
	for _, name := range historyColumns() {
		c := map[string]any{"name": name, "type": "text", "nullable": true, "length": 16777216, "byteLength": 16777216}
		switch name {
		case "BUCKET", "FIRST_START_TIME", "LAST_START_TIME":
			c = map[string]any{"name": name, "type": "timestamp_ltz", "nullable": true, "precision": 0, "scale": 9}
		case "QUERY_COUNT", "SESSION_ID":
			c = map[string]any{"name": name, "type": "fixed", "nullable": true, "precision": 38, "scale": 0}
		case "DIRECT_OBJECTS_ACCESSED", "BASE_OBJECTS_ACCESSED", "OBJECTS_MODIFIED":
			c = map[string]any{"name": name, "type": "array", "nullable": true, "length": 16777216, "byteLength": 16777216}
		}
		cols = append(cols, c)
	}
	return cols, rows
}

// columns answers ACCOUNT_USAGE.COLUMNS with two small tables.
func (f *fakeSnowflake) columns() ([]map[string]any, [][]*string) {
	cols := []map[string]any{
		{"name": "TABLE_CATALOG", "type": "text", "nullable": true},
		{"name": "TABLE_SCHEMA", "type": "text", "nullable": true},
		{"name": "TABLE_NAME", "type": "text", "nullable": true},
		{"name": "COLUMN_NAME", "type": "text", "nullable": true},
		{"name": "ORDINAL_POSITION", "type": "fixed", "nullable": true, "precision": 9, "scale": 0},
		{"name": "DATA_TYPE", "type": "text", "nullable": true},
	}
	var rows [][]*string
	for _, r := range [][]string{
		{"RAW", "MARKET", "FX_RATES", "RATE_DATE", "1", "DATE"},
		{"RAW", "MARKET", "FX_RATES", "FROM_CURRENCY", "2", "TEXT"},
		{"RAW", "MARKET", "FX_RATES", "TO_CURRENCY", "3", "TEXT"},
		{"RAW", "MARKET", "FX_RATES", "RATE", "4", "NUMBER"},
		{"RAW", "MARKET", "FX_RATES", "RATE_SOURCE", "5", "TEXT"},
		{"RAW", "MARKET", "FX_RATES", "_LOADED_AT", "6", "TIMESTAMP_NTZ"},
		{"RAW", "UTIL", "LOAD_AUDIT", "FILE_NAME", "1", "TEXT"},
		{"RAW", "UTIL", "LOAD_AUDIT", "ROWS_LOADED", "2", "NUMBER"},
	} {
		row := make([]*string, len(r))
		for i := range r {
			row[i] = ptr(r[i])
		}
		rows = append(rows, row)
	}
	return cols, rows
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestMain keeps the driver from probing cloud metadata addresses, before
// any test connects (openDB sets it too; this covers tests that might
// build a driver config themselves).
func TestMain(m *testing.M) {
	os.Setenv(disablePlatformDetection, "true")
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// closedPort returns a TCP port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p
}
