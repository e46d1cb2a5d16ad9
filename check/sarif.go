package check

import (
	"encoding/json"
	"io"

	"github.com/weftdata/weft/graph"
)

// SARIF 2.1.0, the subset code-scanning tools read: one run, the rules,
// and one result per finding with a physical location when the file is
// known and a logical location (the dataset or column) always.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	ShortDescription     sarifMessage `json:"shortDescription"`
	DefaultConfiguration sarifConfig  `json:"defaultConfiguration"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId"`
	RuleIndex  int             `json:"ruleIndex"`
	Level      string          `json:"level"`
	Message    sarifMessage    `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties map[string]any  `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

func sarifLevel(severity string) string {
	switch severity {
	case graph.SeverityError:
		return "error"
	case graph.SeverityWarning:
		return "warning"
	}
	return "note"
}

func writeSARIF(w io.Writer, r Report) error {
	driver := sarifDriver{Name: "weft", InformationURI: "https://github.com/weftdata/weft"}
	ruleIndex := map[string]int{}
	for i, ri := range Rules {
		ruleIndex[ri.ID] = i
		driver.Rules = append(driver.Rules, sarifRule{
			ID:                   ri.ID,
			ShortDescription:     sarifMessage{Text: ri.Description},
			DefaultConfiguration: sarifConfig{Level: sarifLevel(ri.Severity)},
		})
	}
	results := []sarifResult{}
	for _, f := range r.Findings {
		loc := sarifLocation{LogicalLocations: []sarifLogical{{FullyQualifiedName: f.Subject, Kind: "member"}}}
		if f.File != "" {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: f.File}}
			if f.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
			}
		}
		res := sarifResult{
			RuleID: f.Rule, RuleIndex: ruleIndex[f.Rule], Level: sarifLevel(f.Severity),
			Message:   sarifMessage{Text: f.Message},
			Locations: []sarifLocation{loc},
		}
		if len(f.Affected) > 0 {
			var ids []string
			for _, a := range f.Affected {
				ids = append(ids, a.ID)
			}
			res.Properties = map[string]any{"affected": ids}
		}
		results = append(results, res)
	}
	doc := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
