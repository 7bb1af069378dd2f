// Package gentest builds the project's capture generator
// (sensor/cmd/medtap-pcaptool) for tests and benchmarks, and writes
// mixed captures with it: the same size and seed give the same bytes.
package gentest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
)

// Generator is a built medtap-pcaptool writing into a test's temporary
// directory.
type Generator struct {
	tb   testing.TB
	dir  string
	tool string
}

// Build builds the generator (the go command's cache makes a rebuild
// cheap); a failure fails tb.
func Build(tb testing.TB) *Generator {
	tb.Helper()
	dir := tb.TempDir()
	g := &Generator{tb: tb, dir: dir, tool: filepath.Join(dir, "medtap-pcaptool")}
	if out, err := exec.Command("go", "build", "-o", g.tool, "github.com/medtap/medtap/sensor/cmd/medtap-pcaptool").CombinedOutput(); err != nil {
		tb.Fatalf("build generator: %v\n%s", err, out)
	}
	return g
}

// Mixed writes the generator's default mix (DICOM, HL7, TLS, HTTP and
// the rest) of about size ("64MiB") with seed, and gives its path.
func (g *Generator) Mixed(size string, seed int) string {
	g.tb.Helper()
	path := filepath.Join(g.dir, fmt.Sprintf("mixed-%s-%d.pcap", size, seed))
	g.run("gen", "-o", path, "-size", size, "-seed", fmt.Sprint(seed))
	return path
}

// Drop writes in with a share rate ("0.01") of its data segments dropped
// by the project's drop filter, and gives its path.
func (g *Generator) Drop(in, rate string, seed int) string {
	g.tb.Helper()
	path := filepath.Join(g.dir, fmt.Sprintf("%s-drop%s-%d.pcap", filepath.Base(in), rate, seed))
	g.run("drop", "-i", in, "-o", path, "-rate", rate, "-seed", fmt.Sprint(seed))
	return path
}

func (g *Generator) run(args ...string) {
	g.tb.Helper()
	if out, err := exec.Command(g.tool, args...).CombinedOutput(); err != nil {
		g.tb.Fatalf("medtap-pcaptool %v: %v\n%s", args, err, out)
	}
}
