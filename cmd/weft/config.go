package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/weftdata/weft/extractors"
)

// A weft.yaml lists the sources to extract from:
//
//	store: weft.db          # weft extract's store (default ./weft.db)
//	retention: 30d          # query-log edges not seen for this long end
//	links:                  # user-declared identities (see links.go)
//	  - from: databricks://adb-1/sf_analytics.*.*
//	    to: snowflake://acme/ANALYTICS.{1}.{2}
//	    case: upper
//	sources:
//	  - type: dbt
//	    name: risk
//	    manifest: target/manifest.json
//
// Each entry's keys other than type are the yaml keys of that source's
// Config. Any string key can instead be read from an environment variable
// by appending _env to it ("password_env: SNOWFLAKE_PASSWORD"), so secrets
// stay out of the file. Relative paths resolve against the directory of
// the config file. YAML merge keys share keys between entries: "<<: *d"
// copies the keys of the mapping anchored "&d" that the entry does not
// set itself (see resolveMerges).

// configKeys are the keys allowed at the top of weft.yaml, sorted.
var configKeys = []string{"links", "retention", "sources", "store"}

// weftConfig is a loaded weft.yaml.
type weftConfig struct {
	Sources []source
	// Store is the store path of the "store:" key, resolved against the
	// config file's directory; empty when the file names none.
	Store string
	// Retention is how long a query-log edge stays current without being
	// seen again ("retention:"); 0 when the file names none.
	Retention time.Duration
	// Links are the user-declared identity links ("links:").
	Links []linkRule
}

// sourceType is one entry of the source registry: how to turn a yaml
// mapping into a running extractor.
type sourceType struct {
	// configType is the source's Config struct type.
	configType reflect.Type
	// pathKeys are the yaml keys holding file paths, resolved against the
	// config file's directory.
	pathKeys []string
	// envDefaults fill empty string keys from environment variables: the
	// platform's usual variables (SNOWFLAKE_PASSWORD), as its own tools read
	// them. Pairs of yaml key and variable name.
	envDefaults [][2]string
	// prepare, when set, fills what yaml cannot (a logger, the config
	// file's directory) into a decoded *Config.
	prepare func(cfg any, sc sourceContext)
	// build validates a decoded *Config and constructs the extractor.
	build func(cfg any) (extractors.Extractor, error)
	// replace marks a source whose every extraction is its whole truth (a
	// dbt manifest): weft extract replaces what it recorded before instead
	// of adding to it.
	replace bool
}

// sourceContext is what prepare may use.
type sourceContext struct {
	dir    string // the config file's directory
	logger *slog.Logger
	getenv func(string) string
}

// withEnv returns st with environment defaults for empty keys.
func (st sourceType) withEnv(pairs ...[2]string) sourceType {
	st.envDefaults = pairs
	return st
}

// replacing returns st marked as a whole-truth source (see sourceType.replace).
func (st sourceType) replacing() sourceType {
	st.replace = true
	return st
}

// withPrepare returns st with a typed prepare hook.
func withPrepare[C any](st sourceType, f func(cfg *C, sc sourceContext)) sourceType {
	st.prepare = func(cfg any, sc sourceContext) { f(cfg.(*C), sc) }
	return st
}

// registry maps a source type name ("dbt") to how to build it. It is a
// value built by sourceRegistry, never a mutable global.
type registry map[string]sourceType

// names returns the registered source types, sorted.
func (r registry) names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// newSourceType registers an extractor package: its New function (whose
// argument is the package's Config, with yaml tags) and the yaml keys of
// Config that are file paths.
func newSourceType[C any, E extractors.Extractor](newFn func(C) (E, error), pathKeys ...string) sourceType {
	return sourceType{
		configType: reflect.TypeFor[C](),
		pathKeys:   pathKeys,
		build: func(cfg any) (extractors.Extractor, error) {
			return newFn(*cfg.(*C))
		},
	}
}

// source is one configured, constructed extractor.
type source struct {
	Type      string
	Name      string
	Location  string // "weft.yaml:7", or "flags"
	Extractor extractors.Extractor
	// Replace is set for sources whose extraction is their whole truth
	// (dbt): weft extract commits them with store.ReplaceSource.
	Replace bool
	// From, when not nil, builds the extractor again reading from t on
	// (the store's watermark), or from the configured "from" if later. It
	// is nil for sources without a time window.
	From func(t time.Time) (extractors.Extractor, error)
}

// String names the source in messages: `dbt source "risk"`.
func (s source) String() string { return fmt.Sprintf("%s source %q", s.Type, s.Name) }

// configLoader reads weft.yaml files against a registry.
type configLoader struct {
	registry registry
	getenv   func(string) string
	logger   *slog.Logger // handed to extractors that log; nil discards
}

// loadFile reads and validates a config file and constructs its sources.
// Every problem in the file is reported, sorted by line, in one error.
func (l configLoader) loadFile(path string) ([]source, error) {
	cfg, err := l.loadConfigFile(path)
	if err != nil {
		return nil, err
	}
	return cfg.Sources, nil
}

// loadConfigFile is loadFile returning every top-level key.
func (l configLoader) loadConfigFile(path string) (*weftConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return l.parse(path, filepath.Dir(path), data)
}

// load parses config data; file names it in messages and dir resolves its
// relative paths.
func (l configLoader) load(file, dir string, data []byte) ([]source, error) {
	cfg, err := l.parse(file, dir, data)
	if err != nil {
		return nil, err
	}
	return cfg.Sources, nil
}

// parse is load returning every top-level key.
func (l configLoader) parse(file, dir string, data []byte) (*weftConfig, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no sources configured (add a \"sources:\" list)", file)
		}
		return nil, fmt.Errorf("%s:%s", file, yamlMessage(err))
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil && len(next.Content) > 0 && next.Content[0].Tag != "!!null" {
		// Reading only the first would drop the rest silently.
		return nil, fmt.Errorf("%s:%d: a second YAML document (after ---): weft reads one; put all sources in one \"sources:\" list", file, next.Content[0].Line)
	} else if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s:%s", file, yamlMessage(err))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: expected a mapping with a \"sources:\" list", file, root.Line)
	}

	var errs configErrors
	if resolveMerges(file, root, &errs); len(errs.list) > 0 {
		// A mapping whose merge failed lacks keys: what follows would
		// report them missing, hiding the cause.
		return nil, errs.err()
	}
	var list *yaml.Node
	cfg := &weftConfig{}
	keyLines := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if line, dup := keyLines[k.Value]; dup {
			// yaml keeps both; reading either would drop the other silently.
			errs.add(file, k.Line, "mapping key %q already defined at line %d", k.Value, line)
			continue
		}
		keyLines[k.Value] = k.Line
		switch k.Value {
		case "sources":
			list = v
		case "store":
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Value == "" {
				errs.add(file, v.Line, "store: expected a file path, got %s", nodeKind(v))
				continue
			}
			cfg.Store = resolvePath(v.Value, dir)
		case "retention":
			d, err := parseRetention(v)
			if err != nil {
				errs.add(file, v.Line, "retention: %v", err)
				continue
			}
			cfg.Retention = d
		case "links":
			cfg.Links = parseLinks(file, v, &errs)
		default:
			errs.add(file, k.Line, "unknown key %q (valid: %s)", k.Value, strings.Join(configKeys, ", "))
		}
	}
	if list == nil {
		errs.add(file, root.Line, "no sources configured (add a \"sources:\" list)")
		return nil, errs.err()
	}
	if list.Kind != yaml.SequenceNode {
		errs.add(file, list.Line, "sources: expected a list, got %s", nodeKind(list))
		return nil, errs.err()
	}
	if len(list.Content) == 0 {
		errs.add(file, list.Line, "sources: the list is empty")
	}

	var out []source
	seen := map[string]int{}
	for _, item := range list.Content {
		src, ok := l.loadSource(file, dir, item, &errs)
		if !ok {
			continue
		}
		if line, dup := seen[src.Name]; dup {
			errs.add(file, item.Line, "duplicate source name %q (also at line %d): give each source a distinct name", src.Name, line)
			continue
		}
		seen[src.Name] = item.Line
		out = append(out, src)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	cfg.Sources = out
	return cfg, nil
}

// resolveMerges expands the YAML merge keys ("<<: *defaults") of every
// mapping under n in place, as yaml.v3 does when it decodes: a mapping's
// own keys override merged ones, and of several merged mappings
// ("<<: [*a, *b]") the first that has a key gives it. weft reads the node
// tree itself, to report every problem with its line, so merged keys must
// be keys of the mapping there. A merged key keeps its node, and so the
// line where it is written.
func resolveMerges(file string, n *yaml.Node, errs *configErrors) {
	r := mergeResolver{file: file, errs: errs, state: map[*yaml.Node]mergeState{}}
	r.walk(n)
}

type mergeState int

const (
	unvisited mergeState = iota
	resolving
	resolved
)

type mergeResolver struct {
	file  string
	errs  *configErrors
	state map[*yaml.Node]mergeState
}

// walk resolves the merge keys of n and of the nodes below it. Aliases are
// not followed: their anchors are walked where they are written, and a
// merge walks its mappings first.
func (r *mergeResolver) walk(n *yaml.Node) {
	if n == nil || r.state[n] != unvisited {
		return
	}
	r.state[n] = resolving
	defer func() { r.state[n] = resolved }()
	if n.Kind != yaml.MappingNode {
		for _, c := range n.Content {
			r.walk(c)
		}
		return
	}
	own := map[string]bool{}
	merges := 0
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMergeKey(n.Content[i]) {
			merges++
			continue
		}
		own[n.Content[i].Value] = true
		r.walk(n.Content[i+1])
	}
	if merges == 0 {
		return
	}
	content := make([]*yaml.Node, 0, len(n.Content))
	mergeLine := 0
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			content = append(content, k, v)
			continue
		}
		if mergeLine > 0 {
			r.errs.add(r.file, k.Line, "mapping key \"<<\" already defined at line %d (merge several mappings with <<: [*a, *b])", mergeLine)
			continue
		}
		mergeLine = k.Line
		// Merged keys go where the "<<" is, so the mapping reads in order.
		for _, m := range r.mergeSources(v) {
			for j := 0; j+1 < len(m.Content); j += 2 {
				if mk := m.Content[j]; !own[mk.Value] {
					own[mk.Value] = true
					content = append(content, mk, m.Content[j+1])
				}
			}
		}
	}
	n.Content = content
}

// mergeSources returns the resolved mappings a merge key's value names: a
// mapping, an alias of one, or a list of those.
func (r *mergeResolver) mergeSources(v *yaml.Node) []*yaml.Node {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	var out []*yaml.Node
	for _, it := range items {
		m := it
		if m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		if m.Kind != yaml.MappingNode {
			r.errs.add(r.file, it.Line, "merge key (<<): expected a mapping or a list of mappings such as *defaults, got %s", nodeKind(m))
			continue
		}
		if r.state[m] == resolving {
			r.errs.add(r.file, it.Line, "merge key (<<): *%s merges a mapping into itself", it.Value)
			continue
		}
		r.walk(m)
		out = append(out, m)
	}
	return out
}

// isMergeKey reports whether k is the merge key "<<" (unquoted, or tagged
// !!merge), by yaml.v3's rule.
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// parseRetention reads a retention: a Go duration ("720h") or a number of
// days or weeks ("30d", "2w").
func parseRetention(v *yaml.Node) (time.Duration, error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return 0, fmt.Errorf("expected a duration such as 30d or 720h, got %s", nodeKind(v))
	}
	d, err := parseDuration(v.Value)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive, got %q", v.Value)
	}
	return d, nil
}

// parseDuration parses a Go duration, or a whole number of days ("30d")
// or weeks ("2w"), which Go durations lack.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			if v, err := strconv.Atoi(n); err == nil {
				return time.Duration(v) * unit, nil
			}
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (examples: 30d, 2w, 720h, 90m)", s)
	}
	return d, nil
}

// fromFlags builds a source from command-line values, as if it were an
// entry of weft.yaml in the working directory, named after its type. Empty
// values are left out.
func (l configLoader) fromFlags(typ string, values [][2]string) (source, error) {
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	item := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	item.Content = append(item.Content, str("type"), str(typ))
	for _, kv := range values {
		if kv[1] != "" {
			item.Content = append(item.Content, str(kv[0]), str(kv[1]))
		}
	}
	var errs configErrors
	src, ok := l.loadSource("command line", ".", item, &errs)
	if !ok {
		return source{}, errs.err()
	}
	src.Location = "command line"
	return src, nil
}

// loadSource decodes one entry of the sources list.
func (l configLoader) loadSource(file, dir string, item *yaml.Node, errs *configErrors) (source, bool) {
	if item.Kind != yaml.MappingNode {
		errs.add(file, item.Line, "source: expected a mapping with a type, got %s", nodeKind(item))
		return source{}, false
	}
	var typeNode, nameNode *yaml.Node
	keyLines := map[string]int{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k := item.Content[i]
		if k.Value != "type" && k.Value != "name" {
			continue // the other keys' duplicates fail to decode below
		}
		if line, dup := keyLines[k.Value]; dup {
			errs.add(file, k.Line, "source: mapping key %q already defined at line %d", k.Value, line)
			return source{}, false
		}
		keyLines[k.Value] = k.Line
		if k.Value == "type" {
			typeNode = item.Content[i+1]
		} else {
			nameNode = item.Content[i+1]
		}
	}
	known := strings.Join(l.registry.names(), ", ")
	if typeNode == nil {
		errs.add(file, item.Line, "source has no type (known: %s)", known)
		return source{}, false
	}
	st, ok := l.registry[typeNode.Value]
	if !ok {
		errs.add(file, typeNode.Line, "unknown source type %q (known: %s)", typeNode.Value, known)
		return source{}, false
	}
	name := typeNode.Value
	if nameNode != nil && nameNode.Value != "" {
		name = nameNode.Value
	}
	what := fmt.Sprintf("%s source %q", typeNode.Value, name)

	keys := yamlKeys(st.configType)
	hasName := slices.Contains(keys, "name")
	n := len(errs.list)
	// The entry without "type" (and without "name" when Config has none),
	// with "<key>_env" replaced by the environment variable's value.
	body := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: item.Line, Column: item.Column}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		switch {
		case k.Value == "type", k.Value == "name" && !hasName:
			continue
		case slices.Contains(keys, k.Value):
			checkKeys(file, what+" "+k.Value, v, fieldType(st.configType, k.Value), errs)
			body.Content = append(body.Content, k, v)
		case strings.HasSuffix(k.Value, "_env") && isStringKey(st.configType, strings.TrimSuffix(k.Value, "_env")):
			base := strings.TrimSuffix(k.Value, "_env")
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				errs.add(file, v.Line, "%s: %s: expected the name of an environment variable", what, k.Value)
				continue
			}
			val := l.getenv(v.Value)
			if val == "" {
				errs.add(file, v.Line, "%s: %s: environment variable %s is not set", what, k.Value, v.Value)
				continue
			}
			body.Content = append(body.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: base, Line: k.Line, Column: k.Column},
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: val, Line: v.Line, Column: v.Column})
		default:
			valid := append([]string{"type"}, keys...)
			if !hasName {
				valid = append(valid, "name")
			}
			sort.Strings(valid)
			errs.add(file, k.Line, "%s: unknown key %q (valid: %s)", what, k.Value, strings.Join(valid, ", "))
		}
	}
	if len(errs.list) > n {
		return source{}, false
	}

	cfg := reflect.New(st.configType)
	if err := body.Decode(cfg.Interface()); err != nil {
		errs.addYAML(file, what, err)
		return source{}, false
	}
	resolvePaths(cfg.Elem(), st.pathKeys, dir)
	for _, kv := range st.envDefaults {
		setEmptyString(cfg.Elem(), kv[0], l.getenv(kv[1]))
	}
	if st.prepare != nil {
		logger := l.logger
		if logger == nil {
			logger = slog.New(slog.DiscardHandler)
		}
		st.prepare(cfg.Interface(), sourceContext{dir: dir, logger: logger.With("source", name), getenv: l.getenv})
	}
	ext, err := st.build(cfg.Interface())
	if err != nil {
		errs.add(file, item.Line, "%s: %v", what, err)
		return source{}, false
	}
	src := source{Type: typeNode.Value, Name: name, Location: fmt.Sprintf("%s:%d", file, item.Line), Extractor: ext, Replace: st.replace}
	if f, ok := timeField(st.configType, "from"); ok {
		decoded := cfg.Elem()
		src.From = func(t time.Time) (extractors.Extractor, error) {
			c := reflect.New(st.configType)
			c.Elem().Set(decoded)
			fv := c.Elem().FieldByIndex(f.index)
			if cur := fv.Interface().(time.Time); t.After(cur) {
				fv.Set(reflect.ValueOf(t))
			}
			return st.build(c.Interface())
		}
	}
	return src, true
}

// timeField finds the time.Time field of struct type t with yaml key.
func timeField(t reflect.Type, key string) (yamlField, bool) {
	for f := range structFields(t) {
		if f.key == key && f.typ == reflect.TypeFor[time.Time]() {
			return f, true
		}
	}
	return yamlField{}, false
}

// checkKeys reports keys of node that the Go type t does not have, at any
// depth. Types it cannot see into (maps, interfaces) accept anything.
func checkKeys(file, what string, node *yaml.Node, t reflect.Type, errs *configErrors) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return
	}
	switch {
	case node.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		keys := yamlKeys(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k := node.Content[i]
			if !slices.Contains(keys, k.Value) {
				errs.add(file, k.Line, "%s: unknown key %q (valid: %s)", what, k.Value, strings.Join(keys, ", "))
				continue
			}
			checkKeys(file, what+"."+k.Value, node.Content[i+1], fieldType(t, k.Value), errs)
		}
	case node.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for _, item := range node.Content {
			checkKeys(file, what, item, t.Elem(), errs)
		}
	}
}

// yamlKeys returns the sorted yaml keys of struct type t, following
// yaml.v3's rules: the tag's name, or the lowercased field name; inline
// structs contribute their keys; "-" hides a field.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range structFields(t) {
		keys = append(keys, f.key)
	}
	sort.Strings(keys)
	return keys
}

type yamlField struct {
	key   string
	index []int
	typ   reflect.Type
}

func structFields(t reflect.Type) func(yield func(yamlField) bool) {
	return func(yield func(yamlField) bool) {
		var walk func(t reflect.Type, index []int) bool
		walk = func(t reflect.Type, index []int) bool {
			for i := range t.NumField() {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				tag := f.Tag.Get("yaml")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				idx := append(slices.Clone(index), i)
				if strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct {
					if !walk(f.Type, idx) {
						return false
					}
					continue
				}
				if name == "" {
					name = strings.ToLower(f.Name)
				}
				if !yield(yamlField{key: name, index: idx, typ: f.Type}) {
					return false
				}
			}
			return true
		}
		if t.Kind() == reflect.Struct {
			walk(t, nil)
		}
	}
}

// fieldType returns the type of the field with yaml key, or nil.
func fieldType(t reflect.Type, key string) reflect.Type {
	for f := range structFields(t) {
		if f.key == key {
			return f.typ
		}
	}
	return nil
}

func isStringKey(t reflect.Type, key string) bool {
	ft := fieldType(t, key)
	return ft != nil && ft.Kind() == reflect.String
}

// resolvePaths makes the relative paths in the named string fields of the
// struct v relative to dir, and expands a leading "~/".
func resolvePaths(v reflect.Value, keys []string, dir string) {
	for f := range structFields(v.Type()) {
		if !slices.Contains(keys, f.key) || f.typ.Kind() != reflect.String {
			continue
		}
		fv := v.FieldByIndex(f.index)
		fv.SetString(resolvePath(fv.String(), dir))
	}
}

// setEmptyString sets the string field with yaml key to val when it is
// empty.
func setEmptyString(v reflect.Value, key, val string) {
	if val == "" {
		return
	}
	for f := range structFields(v.Type()) {
		if f.key == key && f.typ.Kind() == reflect.String {
			if fv := v.FieldByIndex(f.index); fv.String() == "" {
				fv.SetString(val)
			}
			return
		}
	}
}

func resolvePath(p, dir string) string {
	switch {
	case p == "", p == "-", strings.Contains(p, "://"):
		return p
	case strings.HasPrefix(p, "~/"):
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
		return p
	case filepath.IsAbs(p):
		return p
	}
	return filepath.Join(dir, p)
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

// configErrors collects every problem in a config file.
type configErrors struct {
	list []configError
}

type configError struct {
	file string
	line int
	msg  string
}

func (e *configErrors) add(file string, line int, format string, args ...any) {
	e.list = append(e.list, configError{file, line, fmt.Sprintf(format, args...)})
}

// addYAML turns yaml.v3's "line 7: cannot unmarshal ..." messages into
// "weft.yaml:7: dbt source "x": cannot unmarshal ...".
func (e *configErrors) addYAML(file, what string, err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, m := range te.Errors {
			line := 0
			if rest, ok := strings.CutPrefix(m, "line "); ok {
				if n, msg, ok := strings.Cut(rest, ": "); ok {
					if _, serr := fmt.Sscanf(n, "%d", &line); serr == nil {
						m = msg
					}
				}
			}
			e.add(file, line, "%s: %s", what, m)
		}
		return
	}
	e.add(file, 0, "%s: %s", what, strings.TrimPrefix(err.Error(), "yaml: "))
}

func (e *configErrors) err() error {
	if len(e.list) == 0 {
		return nil
	}
	sort.SliceStable(e.list, func(i, j int) bool { return e.list[i].line < e.list[j].line })
	var b strings.Builder
	for i, ce := range e.list {
		if i > 0 {
			b.WriteString("\n")
		}
		if ce.line > 0 {
			fmt.Fprintf(&b, "%s:%d: %s", ce.file, ce.line, ce.msg)
		} else {
			fmt.Fprintf(&b, "%s: %s", ce.file, ce.msg)
		}
	}
	return errors.New(b.String())
}

// yamlMessage rewrites yaml.v3's "yaml: line N: msg" into "N: msg" (and
// other messages into " msg") so that it reads "weft.yaml:N: msg" after the
// file name.
func yamlMessage(err error) string {
	m := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(m, "line "); ok {
		if n, msg, ok := strings.Cut(rest, ": "); ok {
			return n + ": " + msg
		}
	}
	return " " + m
}
