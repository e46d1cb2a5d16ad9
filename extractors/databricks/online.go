package databricks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	sdk "github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/client"
	"github.com/databricks/databricks-sdk-go/logger"
	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/sql"
)

// online reads a live workspace through databricks-sdk-go. It implements
// source. Typed SDK calls serve the Jobs and Unity Catalog APIs; the
// generic client serves the Statement Execution API (to keep NULLs) and
// the lineage-tracking REST API (not typed in v0.60.0), returning raw
// bytes that the decoder shares with offline mode.
type online struct {
	e   *Extractor
	w   *sdk.WorkspaceClient
	raw *client.DatabricksClient
	// retryBudget bounds weft's own retries of 5xx answers the SDK does
	// not retry (it retries 429 and 503 itself).
	retryBudget time.Duration
	pollMax     time.Duration
}

func (e *Extractor) newOnline() (*online, error) {
	c := e.cfg
	cfg := &sdk.Config{
		Host:                c.Host,
		Token:               c.Token,
		Profile:             c.Profile,
		AuthType:            c.AuthType,
		ClientID:            c.ClientID,
		ClientSecret:        c.ClientSecret,
		RetryTimeoutSeconds: c.RetryTimeoutSeconds,
		RateLimitPerSecond:  c.RateLimitPerSecond,
		Loaders:             e.sdkLoaders,
	}
	if cfg.AuthType == "" && c.Token != "" && c.ClientSecret == "" {
		// An explicit token wins over OAuth variables that happen to be in
		// the environment (else the SDK refuses to choose).
		cfg.AuthType = "pat"
	}
	w, err := sdk.NewWorkspaceClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("databricks %s: %v", e.host, redact(err, c))
	}
	raw, err := client.New(w.Config)
	if err != nil {
		return nil, fmt.Errorf("databricks %s: %v", e.host, redact(err, c))
	}
	budget := time.Duration(c.RetryTimeoutSeconds) * time.Second
	if budget == 0 {
		budget = 5 * time.Minute
	}
	return &online{e: e, w: w, raw: raw, retryBudget: budget, pollMax: 5 * time.Second}, nil
}

// redact removes secrets from an error text, in case a library echoes
// its configuration.
func redact(err error, c Config) error {
	msg := err.Error()
	for _, s := range []string{c.Token, c.ClientSecret} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "REDACTED")
		}
	}
	return errors.New(msg)
}

// retry runs call again after 5xx answers that the SDK gives up on at once
// (500, 502), with back-off, within the retry budget.
func (o *online) retry(ctx context.Context, call func() error) error {
	deadline := time.Now().Add(o.retryBudget)
	wait := 200 * time.Millisecond
	for {
		err := call()
		var ae *apierr.APIError
		if err == nil || !errors.As(err, &ae) || ae.StatusCode != http.StatusInternalServerError && ae.StatusCode != http.StatusBadGateway {
			return err
		}
		if time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// apiErr renders an SDK error with its error code.
func apiErr(err error) error {
	var ae *apierr.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode
		if code == "" {
			code = http.StatusText(ae.StatusCode)
		}
		return fmt.Errorf("%d %s: %s: %w", ae.StatusCode, code, ae.Message, errNoText{err})
	}
	return err
}

// errNoText keeps an error in the chain for errors.Is/As without repeating
// its text.
type errNoText struct{ err error }

func (e errNoText) Error() string { return "" }
func (e errNoText) Unwrap() error { return e.err }

func wrapAPI(where string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := apiErr(err)
	return fmt.Errorf("databricks %s: %s%w", where, strings.TrimSuffix(msg.Error(), ": "), errNoText{err})
}

func (o *online) connections(ctx context.Context) ([]catalog.ConnectionInfo, error) {
	var out []catalog.ConnectionInfo
	err := o.retry(ctx, func() error {
		var err error
		out, err = o.w.Connections.ListAll(ctx, catalog.ListConnectionsRequest{})
		return err
	})
	if err != nil {
		var ae *apierr.APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusForbidden || ae.StatusCode == http.StatusNotFound) {
			return nil, nil // no Lakehouse Federation or no privilege: no foreign identities
		}
		return nil, wrapAPI("unity-catalog/connections", err)
	}
	return out, nil
}

func (o *online) catalogs(ctx context.Context) ([]catalog.CatalogInfo, error) {
	var out []catalog.CatalogInfo
	err := o.retry(ctx, func() error {
		var err error
		out, err = o.w.Catalogs.ListAll(ctx, catalog.ListCatalogsRequest{})
		return err
	})
	return out, wrapAPI("unity-catalog/catalogs", err)
}

func (o *online) tables(ctx context.Context, cats []catalog.CatalogInfo, fn func(catalog.TableInfo) error) error {
	for _, c := range cats {
		var schemas []catalog.SchemaInfo
		err := o.retry(ctx, func() error {
			var err error
			schemas, err = o.w.Schemas.ListAll(ctx, catalog.ListSchemasRequest{CatalogName: c.Name})
			return err
		})
		if err != nil {
			return wrapAPI("unity-catalog/schemas catalog "+c.Name, err)
		}
		for _, s := range schemas {
			if s.Name == "information_schema" {
				continue
			}
			var ts []catalog.TableInfo
			err := o.retry(ctx, func() error {
				var err error
				ts, err = o.w.Tables.ListAll(ctx, catalog.ListTablesRequest{CatalogName: c.Name, SchemaName: s.Name})
				return err
			})
			if err != nil {
				return wrapAPI("unity-catalog/tables "+c.Name+"."+s.Name, err)
			}
			for _, t := range ts {
				if err := fn(t); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// jobs returns no job definitions: runs carry what weft needs.
func (o *online) jobs(ctx context.Context) ([]jobs.BaseJob, error) { return nil, nil }

func (o *online) listRuns(ctx context.Context, from, to time.Time, fn func(jobs.BaseRun) error) error {
	req := jobs.ListRunsRequest{StartTimeFrom: from.UnixMilli(), StartTimeTo: to.UnixMilli() - 1, Limit: 25}
	// The SDK's iterator follows next_page_token; it retries 429 and 503.
	it := o.w.Jobs.ListRuns(ctx, req)
	for n := 0; it.HasNext(ctx); n++ {
		r, err := it.Next(ctx)
		if err != nil {
			return wrapAPI(fmt.Sprintf("jobs/runs/list after %d runs", n), err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (o *online) getRun(ctx context.Context, b jobs.BaseRun) (jobs.Run, error) {
	var r *jobs.Run
	err := o.retry(ctx, func() error {
		var err error
		r, err = o.w.Jobs.GetRun(ctx, jobs.GetRunRequest{RunId: b.RunId})
		return err
	})
	if err != nil {
		return jobs.Run{}, wrapAPI(fmt.Sprintf("run %d: jobs/runs/get", b.RunId), err)
	}
	return *r, nil
}

// runOutput returns a task run's output, or nil when the API has none for
// it (expired after ~60 days, or not a task run).
func (o *online) runOutput(ctx context.Context, taskRunID int64) (*jobs.RunOutput, error) {
	var out *jobs.RunOutput
	// A dbt task's output holds a presigned link, which the SDK's debug
	// log of the response must not show.
	lctx := logger.NewContext(ctx, scrubLogger{logger.Get(ctx)})
	err := o.retry(ctx, func() error {
		var err error
		out, err = o.w.Jobs.GetRunOutput(lctx, jobs.GetRunOutputRequest{RunId: taskRunID})
		return err
	})
	if err != nil {
		if errors.Is(err, apierr.ErrNotFound) || errors.Is(err, apierr.ErrInvalidParameterValue) || errors.Is(err, apierr.ErrResourceDoesNotExist) {
			return nil, nil
		}
		return nil, wrapAPI(fmt.Sprintf("run %d: jobs/runs/get-output", taskRunID), err)
	}
	return out, nil
}

func (o *online) savedQuery(ctx context.Context, id string) (*savedQuery, error) {
	var q *sql.Query
	err := o.retry(ctx, func() error {
		var err error
		q, err = o.w.Queries.Get(ctx, sql.GetQueryRequest{Id: id})
		return err
	})
	if err != nil {
		if errors.Is(err, apierr.ErrNotFound) || errors.Is(err, apierr.ErrPermissionDenied) {
			return nil, nil
		}
		return nil, wrapAPI("sql/queries/"+id, err)
	}
	sq := fromSDKQuery(q)
	return &sq, nil
}

// lineageSQL returns the query for one lineage system table. It
// aggregates in the warehouse: one row per (source, target, entity run)
// with first and last event time and a count, so repeated events of one
// run cost one row.
func lineageSQL(kind string) string {
	cols := "source_table_full_name, source_path, source_type, target_table_full_name, target_path, target_type"
	order := "1, 2, 4, 5"
	if kind == lineageColumn {
		cols = "source_table_full_name, source_path, source_type, source_column_name, " +
			"target_table_full_name, target_path, target_type, target_column_name"
		order = "1, 2, 4, 5, 6, 8"
	}
	return "SELECT " + cols + ",\n" +
		"  entity_type, entity_id, entity_run_id,\n" +
		"  CAST(entity_metadata.job_info.job_id AS STRING) AS job_id,\n" +
		"  CAST(entity_metadata.job_info.job_run_id AS STRING) AS job_run_id,\n" +
		"  min(event_time) AS first_seen, max(event_time) AS last_seen, count(*) AS event_count\n" +
		"FROM system.access." + kind + "\n" +
		"WHERE event_date BETWEEN :from_date AND :to_date\n" +
		"  AND event_time >= :from_ts AND event_time < :to_ts\n" +
		"GROUP BY ALL\n" +
		"ORDER BY " + order + ", entity_type, entity_id, entity_run_id"
}

type statementRequest struct {
	WarehouseID   string           `json:"warehouse_id"`
	Statement     string           `json:"statement"`
	Parameters    []statementParam `json:"parameters,omitempty"`
	Format        string           `json:"format"`
	Disposition   string           `json:"disposition"`
	WaitTimeout   string           `json:"wait_timeout"`
	OnWaitTimeout string           `json:"on_wait_timeout"`
}

type statementParam struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Type  string `json:"type"`
}

// lineage runs the lineage query for one window on the warehouse, polls
// it until it succeeds, and hands each result chunk to fn as it arrives.
func (o *online) lineage(ctx context.Context, kind string, from, to time.Time, fn func(columns []string, rd *resultData) error) error {
	where := "system.access." + kind
	req := statementRequest{
		WarehouseID: o.e.cfg.WarehouseID,
		Statement:   lineageSQL(kind),
		Parameters: []statementParam{
			{Name: "from_date", Value: from.Format(time.DateOnly), Type: "DATE"},
			{Name: "to_date", Value: to.Format(time.DateOnly), Type: "DATE"},
			{Name: "from_ts", Value: from.Format(time.RFC3339), Type: "TIMESTAMP"},
			{Name: "to_ts", Value: to.Format(time.RFC3339), Type: "TIMESTAMP"},
		},
		Format:        "JSON_ARRAY",
		Disposition:   "INLINE",
		WaitTimeout:   "30s",
		OnWaitTimeout: "CONTINUE",
	}
	var body []byte
	err := o.retry(ctx, func() error {
		return o.raw.Do(ctx, http.MethodPost, "/api/2.0/sql/statements/", nil, nil, req, &body)
	})
	if err != nil {
		return wrapAPI(where+": sql/statements", err)
	}
	st, err := decodeStatement(where, body)
	if err != nil {
		return err
	}
	wait := 100 * time.Millisecond
	for st.Status.State == "PENDING" || st.Status.State == "RUNNING" {
		select {
		case <-ctx.Done():
			o.cancel(st.StatementID)
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, o.pollMax)
		body = nil
		err := o.retry(ctx, func() error {
			return o.raw.Do(ctx, http.MethodGet, "/api/2.0/sql/statements/"+st.StatementID, nil, nil, nil, &body)
		})
		if err != nil {
			return wrapAPI(where+": statement "+st.StatementID, err)
		}
		if st, err = decodeStatement(where, body); err != nil {
			return err
		}
	}
	if st.Status.State != "SUCCEEDED" {
		return fmt.Errorf("%s: statement %s ended in state %q", where, st.StatementID, st.Status.State)
	}
	if st.Manifest == nil {
		return fmt.Errorf("%s: statement %s succeeded without a manifest", where, st.StatementID)
	}
	if st.Manifest.Truncated {
		return fmt.Errorf("%s: statement %s: result truncated by the warehouse (use a smaller chunk)", where, st.StatementID)
	}
	cols := st.Manifest.columns()
	rd := st.Result
	for rd != nil {
		if len(rd.ExternalLinks) > 0 {
			return fmt.Errorf("%s: statement %s answered with EXTERNAL_LINKS, which weft does not read (use a smaller chunk)", where, st.StatementID)
		}
		if err := fn(cols, rd); err != nil {
			return err
		}
		if rd.NextChunkIndex == nil {
			break
		}
		next := *rd.NextChunkIndex
		body = nil
		err := o.retry(ctx, func() error {
			return o.raw.Do(ctx, http.MethodGet, "/api/2.0/sql/statements/"+st.StatementID+"/result/chunks/"+strconv.Itoa(next), nil, nil, nil, &body)
		})
		if err != nil {
			return wrapAPI(fmt.Sprintf("%s: statement %s chunk %d", where, st.StatementID, next), err)
		}
		if rd, err = decodeChunk(fmt.Sprintf("%s chunk %d", where, next), body); err != nil {
			return err
		}
	}
	return nil
}

// cancel asks the warehouse to stop a statement whose caller went away. It
// uses a fresh context: the caller's is already done.
func (o *online) cancel(id string) {
	ctx, stop := context.WithTimeout(context.WithoutCancel(context.TODO()), 5*time.Second)
	defer stop()
	_ = o.raw.Do(ctx, http.MethodPost, "/api/2.0/sql/statements/"+id+"/cancel", nil, nil, nil, nil)
}

func (o *online) restTargets(ctx context.Context, tables []string) ([]string, [][2]string, error) {
	var cols [][2]string
	for _, t := range tables {
		var ti *catalog.TableInfo
		err := o.retry(ctx, func() error {
			var err error
			ti, err = o.w.Tables.Get(ctx, catalog.GetTableRequest{FullName: t})
			return err
		})
		if err != nil {
			return nil, nil, wrapAPI("unity-catalog/tables/"+t, err)
		}
		for _, c := range ti.Columns {
			cols = append(cols, [2]string{t, c.Name})
		}
	}
	return tables, cols, nil
}

func (o *online) restTableLineage(ctx context.Context, table string) (*restTableLineage, error) {
	var body []byte
	err := o.retry(ctx, func() error {
		return o.raw.Do(ctx, http.MethodGet, "/api/2.0/lineage-tracking/table-lineage", nil,
			map[string]any{"table_name": table, "include_entity_lineage": true}, nil, &body)
	})
	if err != nil {
		return nil, wrapAPI("lineage-tracking/table-lineage "+table, err)
	}
	var l restTableLineage
	return &l, unmarshal("lineage-tracking/table-lineage "+table, body, &l)
}

func (o *online) restColumnLineage(ctx context.Context, table, column string) (*restColumnLineage, error) {
	var body []byte
	err := o.retry(ctx, func() error {
		return o.raw.Do(ctx, http.MethodGet, "/api/2.0/lineage-tracking/column-lineage", nil,
			map[string]any{"table_name": table, "column_name": column}, nil, &body)
	})
	if err != nil {
		return nil, wrapAPI("lineage-tracking/column-lineage "+table+"."+column, err)
	}
	var l restColumnLineage
	return &l, unmarshal("lineage-tracking/column-lineage "+table+"."+column, body, &l)
}

func (o *online) queryHistory(ctx context.Context, from, to time.Time) ([]sql.QueryInfo, error) {
	var all []sql.QueryInfo
	req := sql.ListQueryHistoryRequest{
		MaxResults: 1000,
		FilterBy: &sql.QueryFilter{QueryStartTimeRange: &sql.TimeRange{
			StartTimeMs: from.UnixMilli(), EndTimeMs: to.UnixMilli() - 1}},
	}
	for page := 1; ; page++ {
		var resp *sql.ListQueriesResponse
		err := o.retry(ctx, func() error {
			var err error
			resp, err = o.w.QueryHistory.List(ctx, req)
			return err
		})
		if err != nil {
			return nil, wrapAPI(fmt.Sprintf("sql/history/queries page %d", page), err)
		}
		all = append(all, resp.Res...)
		if resp.NextPageToken == "" || !resp.HasNextPage && len(resp.Res) == 0 {
			return all, nil
		}
		req.PageToken = resp.NextPageToken
		req.FilterBy = nil // the token carries the filter
	}
}

func (o *online) openLineage(ctx context.Context) ([]olEvent, error) { return nil, nil }

// pipelines returns no pipeline definitions: UC lineage names pipelines by
// id, which is enough to link rows.
func (o *online) pipelines(ctx context.Context) ([]pipelineInfo, error) { return nil, nil }

// artifactsClient downloads dbt artifacts from their presigned link. It is
// not the workspace's API client: the link points at cloud storage and
// carries its own credential, so the workspace token must not go with it.
// It uses the SDK config's transport when one is set (proxies, tests).
func (o *online) artifactsClient() *http.Client {
	return artifactsHTTPClient(o.w.Config.HTTPTransport)
}

// artifactsHTTPClient builds the download client over rt (nil: a clone of
// the default transport with timeouts).
func artifactsHTTPClient(rt http.RoundTripper) *http.Client {
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = time.Minute
		t.TLSHandshakeTimeout = 30 * time.Second
		rt = t
	}
	return &http.Client{
		Transport: rt,
		Timeout:   30 * time.Minute, // a 512 MiB archive at a slow 300 KiB/s
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			stripCrossHostHeaders(req, via[0])
			return nil
		},
	}
}

// redirectSafeHeaders may follow a redirect to another host; every other
// header of the first request (the artifacts_headers, such as a storage
// encryption key) stays with the host it was meant for.
var redirectSafeHeaders = map[string]bool{"Accept": true, "Accept-Encoding": true, "Range": true, "User-Agent": true}

// stripCrossHostHeaders removes from a redirected request the headers Go
// copies from the first one, when the redirect leaves its host. Go drops
// Authorization and cookies itself, but not custom headers.
func stripCrossHostHeaders(req, first *http.Request) {
	if req.URL.Host == first.URL.Host {
		return
	}
	for k := range req.Header {
		if !redirectSafeHeaders[http.CanonicalHeaderKey(k)] {
			req.Header.Del(k)
		}
	}
}

// dbtArtifacts downloads the archive behind a dbt task output's
// artifacts_link (with its artifacts_headers) and reads the dbt artifacts
// in it. The link and the headers are credentials: no error, finding or
// log line carries them. 4xx answers (an expired or forbidden link) are
// *artifactsUnavailable; 5xx answers and network errors are retried within
// the retry budget, then fail.
func (o *online) dbtArtifacts(ctx context.Context, ref taskRef, out *jobs.RunOutput) (*dbtFiles, error) {
	if out == nil || out.DbtOutput == nil || out.DbtOutput.ArtifactsLink == "" {
		return nil, nil
	}
	link, headers := out.DbtOutput.ArtifactsLink, out.DbtOutput.ArtifactsHeaders
	files, err := o.downloadArtifacts(ctx, link, headers)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var un *artifactsUnavailable
		if errors.As(err, &un) {
			return nil, &artifactsUnavailable{scrub(un.reason, link, headers)}
		}
		return nil, fmt.Errorf("databricks run %d: dbt artifacts: %s", ref.TaskRunID, scrub(err.Error(), link, headers))
	}
	return files, nil
}

func (o *online) downloadArtifacts(ctx context.Context, link string, headers map[string]string) (*dbtFiles, error) {
	limit := o.e.artifactsLimit
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, &artifactsUnavailable{"the artifacts link is not an http(s) URL"}
	}
	client := o.artifactsClient()
	deadline := time.Now().Add(o.retryBudget)
	wait := 200 * time.Millisecond
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
		if err != nil {
			return nil, &artifactsUnavailable{"the artifacts link is not a valid URL"}
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		var retryable error
		switch {
		case err != nil:
			// *url.Error repeats the URL: keep only the cause.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			retryable = fmt.Errorf("download: %v", err)
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			resp.Body.Close()
			retryable = fmt.Errorf("download: the artifacts link answered %s", resp.Status)
		case resp.StatusCode >= 400:
			// Never read the body: storage errors echo the signature
			// (S3's SignatureDoesNotMatch carries the string to sign).
			resp.Body.Close()
			return nil, &artifactsUnavailable{fmt.Sprintf("the artifacts link answered %s (links expire 30 minutes after runs/get-output; or the storage refuses it)", resp.Status)}
		case resp.StatusCode != http.StatusOK:
			resp.Body.Close()
			return nil, fmt.Errorf("download: the artifacts link answered %s", resp.Status)
		}
		if retryable != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if time.Now().Add(wait).After(deadline) {
				return nil, retryable
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
			wait = min(wait*2, 5*time.Second)
			continue
		}
		defer resp.Body.Close()
		if resp.ContentLength > limit {
			return nil, &artifactsUnavailable{fmt.Sprintf("the archive is %d bytes, over weft's limit of %d bytes", resp.ContentLength, limit)}
		}
		body := &limitedReader{r: resp.Body, n: limit}
		found, err := readArtifactsArchive(body, limit)
		if errors.Is(err, errTooLarge) || body.over {
			return nil, &artifactsUnavailable{fmt.Sprintf("the archive (or a file in it) is over weft's limit of %d bytes", limit)}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("the archive from the artifacts link: %v", err)
		}
		f, ok := pickArtifacts(found)
		if !ok {
			return nil, &artifactsUnavailable{"the archive has no manifest.json (did the task's commands run dbt beyond \"dbt deps\"?)"}
		}
		f.from = "the artifacts link"
		return &f, nil
	}
}

// scrub removes the artifacts link, its parts and the artifacts headers'
// values from a message, whatever library wrote it.
func scrub(msg, link string, headers map[string]string) string {
	secrets := []string{link, url.QueryEscape(link), strings.ReplaceAll(link, "&", `\u0026`)}
	if u, err := url.Parse(link); err == nil {
		secrets = append(secrets, u.RawQuery, u.Query().Encode(), u.Path, u.EscapedPath())
		for _, vs := range u.Query() {
			secrets = append(secrets, vs...)
		}
	}
	for _, v := range headers {
		secrets = append(secrets, v)
	}
	// Longest first, so that a part does not break up a longer match.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if len(s) >= 8 {
			msg = strings.ReplaceAll(msg, s, "REDACTED")
		}
	}
	return msg
}

// scrubLogger wraps the SDK's logger for runs/get-output calls: at debug
// level the SDK logs response bodies, and a dbt task's output holds the
// presigned artifacts link and its headers.
type scrubLogger struct{ next logger.Logger }

var (
	reArtifactsLink    = regexp.MustCompile(`"artifacts_link"\s*:\s*"(?:[^"\\]|\\.)*"`)
	reArtifactsHeaders = regexp.MustCompile(`"artifacts_headers"\s*:\s*\{[^}]*\}`)
)

func scrubOutput(s string) string {
	s = reArtifactsLink.ReplaceAllString(s, `"artifacts_link": "REDACTED"`)
	return reArtifactsHeaders.ReplaceAllString(s, `"artifacts_headers": "REDACTED"`)
}

func (l scrubLogger) Enabled(ctx context.Context, level logger.Level) bool {
	return l.next.Enabled(ctx, level)
}
func (l scrubLogger) Tracef(ctx context.Context, format string, v ...any) {
	l.next.Tracef(ctx, "%s", scrubOutput(fmt.Sprintf(format, v...)))
}
func (l scrubLogger) Debugf(ctx context.Context, format string, v ...any) {
	l.next.Debugf(ctx, "%s", scrubOutput(fmt.Sprintf(format, v...)))
}
func (l scrubLogger) Infof(ctx context.Context, format string, v ...any) {
	l.next.Infof(ctx, "%s", scrubOutput(fmt.Sprintf(format, v...)))
}
func (l scrubLogger) Warnf(ctx context.Context, format string, v ...any) {
	l.next.Warnf(ctx, "%s", scrubOutput(fmt.Sprintf(format, v...)))
}
func (l scrubLogger) Errorf(ctx context.Context, format string, v ...any) {
	l.next.Errorf(ctx, "%s", scrubOutput(fmt.Sprintf(format, v...)))
}
