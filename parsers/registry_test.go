package parsers

import (
	"os"
	"strings"
	"testing"
)

// TestEveryParserIsRegistered: each protocol package under parsers/ is in
// the registry, under its own name (the name used in events, config and
// metrics), and no name is used twice.
func TestEveryParserIsRegistered(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, f := range All {
		names[f.Name]++
	}
	for name, n := range names {
		if n > 1 {
			t.Errorf("parser name %q registered %d times", name, n)
		}
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case !e.IsDir(), name == "parser", name == "parsertest", name == "testdata", name == "textscan", name == "internal":
		case name == "framing":
			if len(All) == len(Coded) {
				t.Error("no built-in framing in the registry")
			}
		default:
			if names[name] != 1 {
				t.Errorf("package parsers/%s has no factory named %q in parsers.All", name, name)
			}
		}
	}
}

func TestWithout(t *testing.T) {
	reg, err := Without(All, "hl7", "http")
	if err != nil {
		t.Fatal(err)
	}
	if len(reg) != len(All)-2 {
		t.Fatalf("got %d parsers, want %d", len(reg), len(All)-2)
	}
	for _, f := range reg {
		if f.Name == "hl7" || f.Name == "http" {
			t.Errorf("%s still registered", f.Name)
		}
	}
	if All[1].Name != "hl7" {
		t.Errorf("Without changed the registry it was given: %s", All[1].Name)
	}
	if _, err := Without(All, "hl8"); err == nil || !strings.Contains(err.Error(), `no parser named "hl8"; the parsers are: dicom, hl7,`) {
		t.Errorf("unknown name: %v", err)
	}
}
