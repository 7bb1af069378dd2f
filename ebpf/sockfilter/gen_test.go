package sockfilter

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerateNoDiff regenerates the program with bpf2go into a temporary
// copy of ebpf/ and compares it with the committed files: the generated Go
// and object must be reproducible. Skipped without clang.
func TestGenerateNoDiff(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		t.Skip("needs clang (Debian: clang llvm)")
	}
	if testing.Short() {
		t.Skip("runs bpf2go")
	}
	tmp := t.TempDir()
	for _, f := range []string{"include/medtap_bpf.h", "sockfilter/sockfilter.c", "sockfilter/gen.go"} {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(tmp, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The command of gen.go's go:generate line, run in the copy.
	gen, err := os.ReadFile("gen.go")
	if err != nil {
		t.Fatal(err)
	}
	_, line, ok := strings.Cut(string(gen), "//go:generate ")
	if !ok {
		t.Fatal("gen.go has no go:generate line")
	}
	line, _, _ = strings.Cut(line, "\n")
	args := strings.Fields(line)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = filepath.Join(tmp, "sockfilter")
	cmd.Env = append(os.Environ(), "GOPACKAGE=sockfilter", "GOFILE=gen.go")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go generate: %v\n%s", err, out)
	}
	for _, f := range []string{"bpf_bpfel.go", "bpf_bpfel.o"} {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(tmp, "sockfilter", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: regenerated file differs from the committed one; run `go generate ./ebpf/...` and commit", f)
		}
	}
}

// TestSlotsMatchProgram: Slots names every counter of the program's
// per-CPU value, in order, and no more.
func TestSlotsMatchProgram(t *testing.T) {
	if n := len(bpfCounters{}.C); n != len(Slots) {
		t.Fatalf("the program has %d counter slots, Slots lists %d", n, len(Slots))
	}
}

// TestLimitsMatchProgram checks the Go limits against the maps' max_entries.
func TestLimitsMatchProgram(t *testing.T) {
	spec, err := loadBpf()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]uint32{"ignore_nets": MaxIgnoredNets, "syns": MaxSYNEntries, "flow_bytes": MaxSampledFlows} {
		if m := spec.Maps[name]; m == nil || m.MaxEntries != want {
			t.Errorf("map %s: %+v, want max_entries %d", name, m, want)
		}
	}
}
