package dicom_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/tls"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
	"github.com/medtap/medtap/sensor/pipeline"
)

// End to end through medtap's pipeline with the real registry, as
// `medtap analyze` runs: DICOM over TLS is a tls flow; encrypted, it gives a
// tls event and no DICOM; with a NULL cipher the TLS parser hands the
// plaintext to ProbeInner, which finds the DICOM parser by content, and
// the association and its C-STOREs come out of the same flow.

type lines struct{ evs []*event.Event }

func (l *lines) Write(evs []*event.Event) error {
	l.evs = append(l.evs, evs...)
	return nil
}

func run(t *testing.T, file string, fs []parser.Factory) *lines {
	t.Helper()
	if _, err := os.Stat(file); err != nil {
		t.Skipf("capture absent: %v", err)
	}
	p := pipeline.New(pipeline.Config{Workers: 1, Flow: flow.Config{Parsers: fs}})
	var out lines
	st := p.Run(context.Background(), []string{file}, &out, func(err error) { t.Error(err) })
	if st.SinkErr != nil {
		t.Fatal(st.SinkErr)
	}
	return &out
}

func TestPipelineDICOMOverTLS(t *testing.T) {
	for _, c := range []struct {
		file          string
		encrypted     bool
		flows, stores int
	}{
		{"dicom-tls.pcap", true, 2, 0},
		{"dicom-tls-null.pcap", false, 1, 3},
	} {
		t.Run(c.file, func(t *testing.T) {
			out := run(t, filepath.Join("..", "..", "pcaps", c.file), parsers.All)
			var flows, handshakes, assocs, stores int
			for _, e := range out.evs {
				b, err := e.AppendJSON(nil)
				if err != nil {
					t.Fatal(err)
				}
				switch body := e.Body.(type) {
				case *flow.Record:
					flows++
					if body.AppProto != "tls" || body.Encrypted != c.encrypted || body.EncryptionBasis != "parser" {
						t.Errorf("flow: %s", b)
					}
				case *tls.Handshake:
					handshakes++
					if body.NullCipher == c.encrypted {
						t.Errorf("tls: %s", b)
					}
				case *dicom.Association:
					assocs++
					if body.Result != "released" || body.CallingAE != "MODALITY1" || body.CalledAE != "PACS" {
						t.Errorf("association: %s", b)
					}
				case *dicom.DIMSE:
					stores++
					if body.Command != "C-STORE" || body.StatusClass != "success" || len(body.PHI) == 0 {
						t.Errorf("dimse: %s", b)
					}
					// The pipeline writes bodies with AppendJSON.
					j, _ := json.Marshal(body)
					if !strings.Contains(string(b), `"dicom":`+string(j)) {
						t.Errorf("event line does not carry the body's JSON")
					}
				case *parser.Anomaly:
					t.Errorf("anomaly: %s", b)
				}
			}
			if flows != c.flows || handshakes != c.flows || stores != c.stores || assocs != min(c.stores, 1) {
				t.Errorf("%d flows, %d tls events, %d associations, %d C-STOREs", flows, handshakes, assocs, stores)
			}
		})
	}
}
