package demo

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Target: what profiles.yml would say for the prod target. The project ships no profiles.yml.
const (
	targetDatabase = "ANALYTICS"
	targetSchema   = "DBT_PROD"
	targetName     = "prod"
)

type yColumn struct {
	Name        string           `yaml:"name"`
	Description string           `yaml:"description"`
	DataType    string           `yaml:"data_type"`
	Meta        map[string]any   `yaml:"meta"`
	Tags        []string         `yaml:"tags"`
	Granularity string           `yaml:"granularity"`
	Constraints []map[string]any `yaml:"constraints"`
	Tests       []yaml.Node      `yaml:"tests"`
}

type yModel struct {
	Name        string           `yaml:"name"`
	Description string           `yaml:"description"`
	Access      string           `yaml:"access"`
	Group       string           `yaml:"group"`
	Config      map[string]any   `yaml:"config"`
	Constraints []map[string]any `yaml:"constraints"`
	TimeSpine   *struct {
		StandardGranularityColumn string `yaml:"standard_granularity_column"`
	} `yaml:"time_spine"`
	Columns []yColumn `yaml:"columns"`
}

type ySourceTable struct {
	Name          string    `yaml:"name"`
	Identifier    string    `yaml:"identifier"`
	Description   string    `yaml:"description"`
	LoadedAtField string    `yaml:"loaded_at_field"`
	Columns       []yColumn `yaml:"columns"`
}

type yFreshness struct {
	WarnAfter  *yPeriod `yaml:"warn_after"`
	ErrorAfter *yPeriod `yaml:"error_after"`
}
type yPeriod struct {
	Count  int    `yaml:"count"`
	Period string `yaml:"period"`
}

type ySource struct {
	Name          string         `yaml:"name"`
	Description   string         `yaml:"description"`
	Database      string         `yaml:"database"`
	Schema        string         `yaml:"schema"`
	Loader        string         `yaml:"loader"`
	LoadedAtField string         `yaml:"loaded_at_field"`
	Freshness     *yFreshness    `yaml:"freshness"`
	Tables        []ySourceTable `yaml:"tables"`
}

type yExposure struct {
	Name        string         `yaml:"name"`
	Label       string         `yaml:"label"`
	Type        string         `yaml:"type"`
	Maturity    string         `yaml:"maturity"`
	URL         string         `yaml:"url"`
	Description string         `yaml:"description"`
	DependsOn   []string       `yaml:"depends_on"`
	Owner       map[string]any `yaml:"owner"`
	Meta        map[string]any `yaml:"meta"`
}

type ySemanticModel struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Model       string `yaml:"model"`
	Defaults    struct {
		AggTimeDimension string `yaml:"agg_time_dimension"`
	} `yaml:"defaults"`
	Entities []struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
		Expr string `yaml:"expr"`
	} `yaml:"entities"`
	Dimensions []struct {
		Name       string `yaml:"name"`
		Type       string `yaml:"type"`
		TypeParams *struct {
			TimeGranularity string `yaml:"time_granularity"`
		} `yaml:"type_params"`
	} `yaml:"dimensions"`
	Measures []struct {
		Name string `yaml:"name"`
		Agg  string `yaml:"agg"`
		Expr string `yaml:"expr"`
	} `yaml:"measures"`
}

type yMetric struct {
	Name        string `yaml:"name"`
	Label       string `yaml:"label"`
	Description string `yaml:"description"`
	Type        string `yaml:"type"`
	TypeParams  struct {
		Measure string `yaml:"measure"`
	} `yaml:"type_params"`
}

type yGroup struct {
	Name  string         `yaml:"name"`
	Owner map[string]any `yaml:"owner"`
}

type yFile struct {
	Models         []yModel         `yaml:"models"`
	Seeds          []yModel         `yaml:"seeds"`
	Sources        []ySource        `yaml:"sources"`
	Exposures      []yExposure      `yaml:"exposures"`
	SemanticModels []ySemanticModel `yaml:"semantic_models"`
	Metrics        []yMetric        `yaml:"metrics"`
	Groups         []yGroup         `yaml:"groups"`
}

type dbtProject struct {
	Name      string         `yaml:"name"`
	Vars      map[string]any `yaml:"vars"`
	Models    map[string]any `yaml:"models"`
	Seeds     map[string]any `yaml:"seeds"`
	Snapshots map[string]any `yaml:"snapshots"`
}

// file is a project file, path relative to the project root, slash-separated.
type file struct {
	path    string
	content string
}

func (f file) checksum() string {
	s := sha256.Sum256([]byte(f.content))
	return hex.EncodeToString(s[:])
}

type project struct {
	root    string
	cfg     dbtProject
	vars    map[string]string
	models  []file // models/**/*.sql
	seeds   []file
	snaps   []file
	tests   []file // singular tests
	macros  []file
	docs    []file
	yamls   map[string]*yFile // by path
	ymlPath []string          // sorted
}

func loadProject(root string) (*project, error) {
	p := &project{root: root, yamls: map[string]*yFile{}, vars: map[string]string{}}
	b, err := os.ReadFile(filepath.Join(root, "dbt_project.yml"))
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(b, &p.cfg); err != nil {
		return nil, fmt.Errorf("dbt_project.yml: %w", err)
	}
	for k, v := range p.cfg.Vars {
		p.vars[k] = fmt.Sprint(v)
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "target" || rel == "dbt_packages" || rel == "logs" {
				return filepath.SkipDir
			}
			return nil
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f := file{path: rel, content: string(content)}
		top, _, _ := strings.Cut(rel, "/")
		ext := filepath.Ext(rel)
		switch {
		case ext == ".yml" && rel != "dbt_project.yml":
			var y yFile
			if err := yaml.Unmarshal(content, &y); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			p.yamls[rel] = &y
			p.ymlPath = append(p.ymlPath, rel)
		case top == "models" && ext == ".sql":
			p.models = append(p.models, f)
		case top == "models" && ext == ".md":
			p.docs = append(p.docs, f)
		case top == "seeds" && ext == ".csv":
			p.seeds = append(p.seeds, f)
		case top == "snapshots" && ext == ".sql":
			p.snaps = append(p.snaps, f)
		case top == "tests" && ext == ".sql":
			p.tests = append(p.tests, f)
		case top == "macros" && ext == ".sql":
			p.macros = append(p.macros, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(p.ymlPath)
	return p, nil
}

// dirConfig merges the "+key" configs of dbt_project.yml along a resource's directory path.
func dirConfig(tree map[string]any, project string, dirs []string) map[string]any {
	out := map[string]any{}
	node, _ := tree[project].(map[string]any)
	apply := func(n map[string]any) {
		for k, v := range n {
			if strings.HasPrefix(k, "+") {
				out[k[1:]] = v
			}
		}
	}
	for _, d := range append([]string{""}, dirs...) {
		if node == nil {
			break
		}
		if d != "" {
			node, _ = node[d].(map[string]any)
			if node == nil {
				break
			}
		}
		apply(node)
	}
	return out
}

// readCSVHeader returns the seed's columns and the inferred Snowflake types, the way
// dbt-snowflake's agate type inference would load them.
func readSeed(f file, columnTypes map[string]any) ([]string, []string, error) {
	r := csv.NewReader(strings.NewReader(f.content))
	rows, err := r.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.path, err)
	}
	header := rows[0]
	types := make([]string, len(header))
	for c, name := range header {
		if t, ok := columnTypes[name]; ok {
			types[c] = fmt.Sprint(t)
			continue
		}
		isBool, isInt, isNum := true, true, true
		for _, row := range rows[1:] {
			v := row[c]
			isBool = isBool && (v == "true" || v == "false")
			isInt = isInt && isDigits(v)
			isNum = isNum && (isDigits(strings.Replace(v, ".", "", 1)) && v != "")
		}
		switch {
		case isBool:
			types[c] = "boolean"
		case isInt:
			types[c] = "integer"
		case isNum:
			types[c] = "float"
		default:
			types[c] = "varchar"
		}
	}
	return header, types, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// catalogType is the type Snowflake's information_schema reports for a declared type.
func catalogType(dataType string) string {
	t := strings.ToUpper(strings.TrimSpace(dataType))
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = t[:i]
	}
	switch t {
	case "VARCHAR", "STRING", "TEXT", "CHAR":
		return "TEXT"
	case "NUMBER", "NUMERIC", "DECIMAL", "INT", "INTEGER", "BIGINT", "SMALLINT":
		return "NUMBER"
	case "FLOAT", "FLOAT8", "DOUBLE", "REAL":
		return "FLOAT"
	case "TIMESTAMP", "DATETIME":
		return "TIMESTAMP_NTZ"
	}
	return t
}
