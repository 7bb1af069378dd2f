package parsers

import (
	"os"
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
