package dicom

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

func haveCapture(t *testing.T, name string) {
	t.Helper()
	if _, err := os.Stat(pcapPath(name)); err != nil {
		t.Skipf("capture %s absent: %v", name, err)
	}
}

// TestCaptureChunking checks every capture conversation fed whole, byte by
// byte and split at every point gives the same events: DICOM, or TLS with
// the DICOM decoded from inside a NULL-cipher session. Real DCMTK traffic
// gives no anomaly.
func TestCaptureChunking(t *testing.T) {
	for _, name := range captures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			haveCapture(t, name)
			convs, err := parsertest.Streams(pcapPath(name))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range convs {
				rec := parsertest.CheckChunking(t, factoryFor(c), c)
				for _, e := range rec.Events {
					if a, ok := e.Body.(*parser.Anomaly); ok {
						t.Errorf("anomaly on a clean DCMTK capture: %+v", a)
					}
				}
			}
		})
	}
}

// TestLossyCapture: pcaps/lossy-dicom-store.pcap is dicom-store-veth.pcap
// with 10% of its data segments removed (pcaps/make/lossy.sh). Every loss
// is a gap the parser resynchronises after, the same for any chunking, and
// the transactions hit are marked.
func TestLossyCapture(t *testing.T) {
	const name = "lossy-dicom-store.pcap"
	haveCapture(t, name)
	convs, err := parsertest.Streams(pcapPath(name))
	if err != nil {
		t.Fatal(err)
	}
	resyncs, gaps, stores := 0, 0, 0
	for _, c := range convs {
		rec := parsertest.CheckChunking(t, Factory, c)
		for _, e := range rec.Events {
			switch b := e.Body.(type) {
			case *parser.Anomaly:
				if b.Code == "resync" {
					resyncs++
				}
			case *Association:
				gaps += b.Gaps
			case *DIMSE:
				stores++
			}
		}
	}
	if resyncs == 0 || gaps == 0 || stores == 0 {
		t.Errorf("%d resyncs, %d gaps, %d transactions", resyncs, gaps, stores)
	}
}

// syntheticPatients are the patient values of the captures made from
// pcaps/make/dicom/*.dump (and the second patient dicom-qr.sh derives).
var syntheticPatients = []string{"TEST^PATIENT", "TEST0001", "19700101", "TEST^REFERRER", "张^三", "TEST0002", "19800202"}

// TestCaptureNoPHI checks no patient value ever reaches the JSON: the
// synthetic patients of the pcaps/make dumps, and every value the parser
// itself found and kept in memory (DIMSE.PHI) on every capture, while the
// detection side does see them in memory.
func TestCaptureNoPHI(t *testing.T) {
	dumps, _ := filepath.Glob(filepath.Join("..", "..", "pcaps", "make", "dicom", "*.dump"))
	phiLine := regexp.MustCompile(`^\((0010|0008),(0010|0020|0030|0090)\) \w\w \[([^\]]+)\]`)
	values := map[string]bool{}
	for _, v := range syntheticPatients {
		values[v] = true
	}
	for _, d := range dumps {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if m := phiLine.FindStringSubmatch(line); m != nil && (m[1] == "0010" || m[2] == "0090") {
				values[m[3]] = true
			}
		}
	}
	for _, name := range captures {
		t.Run(name, func(t *testing.T) {
			haveCapture(t, name)
			rec, _ := replayCapture(t, name)
			j := rec.JSON()
			for v := range values {
				if strings.Contains(j, v) {
					t.Errorf("JSON contains patient value %q", v)
				}
			}
			inMemory := 0
			for _, e := range rec.Events {
				d, ok := e.Body.(*DIMSE)
				if !ok {
					continue
				}
				for _, p := range d.PHI {
					inMemory++
					// Short values (sex "M", an age "030Y") may
					// occur in JSON by coincidence.
					if len(p.Value) >= 6 && strings.Contains(j, p.Value) {
						t.Errorf("JSON contains the value of %s (%s)", tagString(p.Tag), p.Category)
					}
				}
			}
			switch {
			case strings.Contains(name, "echo") || name == "dicom-tls.pcap":
				if inMemory != 0 {
					t.Errorf("%d patient values from a capture without readable datasets", inMemory)
				}
			case inMemory == 0:
				t.Errorf("no patient value available in memory")
			}
		})
	}
}
