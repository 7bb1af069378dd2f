package detect

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/medtap/medtap/detect/policy"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/flow"
)

// arenaMessage makes an HL7 message whose strings all point into one
// string, as the parser's do (one arena per message, patient values
// included).
func arenaMessage(arena string, patient int) (*hl7.Message, string) {
	a := arena + fmt.Sprintf("|MRN%06d^^^H^MR|DOE%06d^JANE|19700101", patient, patient)
	at := func(s string) string {
		i := strings.Index(a, s)
		return a[i : i+len(s)]
	}
	id := fmt.Sprintf("MRN%06d^^^H^MR", patient)
	name := fmt.Sprintf("DOE%06d^JANE", patient)
	return &hl7.Message{
		Direction: "to_server", MessageType: at("ADT"), TriggerEvent: at("A08"),
		SendingApplication: at("SENDAPP"), SendingFacility: at("SENDFAC"),
		PHICategories: []string{at("name"), at("id"), at("birth_date")},
		PHIFields:     []string{at("PID-3"), at("PID-5"), at("PID-7")},
		PHI: []hl7.PHIValue{
			{Field: at("PID-3"), Category: at("id"), Value: at(id)},
			{Field: at("PID-5"), Category: at("name"), Value: at(name)},
			{Field: at("PID-7"), Category: at("birth_date"), Value: at("19700101")},
		},
	}, a
}

func arenaDIMSE(patient int) (*dicom.DIMSE, string) {
	a := fmt.Sprintf("C-STORE|1.2.840.10008.5.1.4.1.1.7|OT|(0010,0010)|(0010,0020)|name|id|SMITH%06d^JOHN|PID%06d", patient, patient)
	at := func(s string) string {
		i := strings.Index(a, s)
		return a[i : i+len(s)]
	}
	return &dicom.DIMSE{
		Command: at("C-STORE"), RequestDirection: "to_server", SOPClassUID: at("1.2.840.10008.5.1.4.1.1.7"), Modality: at("OT"),
		DatasetBytes:  1000,
		PHICategories: []string{at("name"), at("id")}, PHITags: []string{at("(0010,0010)"), at("(0010,0020)")},
		PHI: []dicom.PHIValue{
			{Tag: 0x00100010, Category: at("name"), Value: at(fmt.Sprintf("SMITH%06d^JOHN", patient))},
			{Tag: 0x00100020, Category: at("id"), Value: at(fmt.Sprintf("PID%06d", patient))},
		},
	}, a
}

// TestReconfirmAllocFree: a message or a DICOM transaction that only
// confirms the alert pending for its flow allocates nothing.
func TestReconfirmAllocFree(t *testing.T) {
	for _, mode := range []string{EvidenceDefault, EvidenceMasked} {
		e, err := New(nil, Options{Key: testKey, Evidence: mode})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := arenaMessage("ADT|A08|SENDAPP|SENDFAC|PID-3|PID-5|PID-7|name|id|birth_date", 1)
		d, _ := arenaDIMSE(1)
		hf, df := testFlow(1), testFlow(2)
		evs := []*event.Event{{TS: t0, Flow: hf, Body: m}, {TS: t0, Flow: df, Body: d}}
		e.Write(evs)
		e.Write(evs) // scratch buffers grown, masked excerpts listed
		if n := testing.AllocsPerRun(200, func() { e.Write(evs) }); n != 0 {
			t.Errorf("evidence %q: re-confirming allocates %v times per batch", mode, n)
		}
		e.Close()
	}
}

// TestEngineKeepsNoEventStrings: once events are handled, nothing the
// engine keeps (pending alerts, baselines, scratch buffers) points into
// their memory, which holds the patient values; and no patient value is
// kept as a copy either.
func TestEngineKeepsNoEventStrings(t *testing.T) {
	// No learning: every sender and AE title is new, and reported.
	pol, err := policy.Parse("p.yaml", []byte("learning_period: 0s\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{EvidenceDefault, EvidenceMasked} {
		e, err := New(pol, Options{Key: testKey, Evidence: mode, AlertSink: &collect{}})
		if err != nil {
			t.Fatal(err)
		}
		var arenas []string
		var values []string
		for i := range 40 {
			m, a := arenaMessage("ADT|A08|SENDAPP|SENDFAC|PID-3|PID-5|PID-7|name|id|birth_date", i)
			d, b := arenaDIMSE(i)
			arenas = append(arenas, a, b)
			values = append(values, fmt.Sprintf("MRN%06d", i), fmt.Sprintf("DOE%06d", i), fmt.Sprintf("SMITH%06d", i), fmt.Sprintf("PID%06d", i))
			as := fmt.Sprintf("WS%d|PACS%d|PATIENT%06d", i, i, i)
			arenas = append(arenas, as)
			assoc := &dicom.Association{CallingAE: as[:strings.IndexByte(as, '|')], CalledAE: as[strings.IndexByte(as, '|')+1 : strings.LastIndexByte(as, '|')], Result: "accepted"}
			hf, df := testFlow(i%3), testFlow(100+i%3)
			evs := []*event.Event{{TS: t0, Flow: df, Body: assoc}, {TS: t0, Flow: hf, Body: m}, {TS: t0, Flow: df, Body: d}}
			if i%10 == 9 { // some flows end, the others stay open
				evs = append(evs, &event.Event{TS: t0, Flow: hf, Body: &flow.Record{AppProto: "hl7"}})
			}
			m.SendingApplication = m.SendingApplication[:4+i%3] // new senders
			if err := e.Write(evs); err != nil {
				t.Fatal(err)
			}
		}
		w := &walker{seen: map[uintptr]bool{}}
		w.walk(reflect.ValueOf(e).Elem(), "Engine")
		if len(w.strs) == 0 {
			t.Fatal("walker found no strings")
		}
		for _, s := range w.bytes {
			for _, v := range values {
				if strings.Contains(s.s, v) {
					t.Errorf("evidence %q: %s holds a patient value", mode, s.path)
				}
			}
		}
		for _, s := range w.strs {
			p := uintptr(unsafe.Pointer(unsafe.StringData(s.s)))
			for _, a := range arenas {
				b := uintptr(unsafe.Pointer(unsafe.StringData(a)))
				if p >= b && p < b+uintptr(len(a)) {
					t.Errorf("evidence %q: %s = %q points into an event", mode, s.path, s.s)
				}
			}
			for _, v := range values {
				if strings.Contains(s.s, v) {
					t.Errorf("evidence %q: %s = %q holds a patient value", mode, s.path, s.s)
				}
			}
		}
		e.Close()
	}
}

type pathStr struct{ path, s string }

// walker collects the non-empty strings reachable from a value (the geo
// database and the policy excepted).
type walker struct {
	seen  map[uintptr]bool
	strs  []pathStr
	bytes []pathStr // byte slices' contents (copies)
}

func (w *walker) walk(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		if v.Len() > 0 {
			w.strs = append(w.strs, pathStr{path, v.String()})
		}
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.Pointer()] {
			return
		}
		w.seen[v.Pointer()] = true
		w.walk(v.Elem(), path)
	case reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem(), path)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			f := t.Field(i)
			if f.Name == "geo" || f.Name == "pol" || t == reflect.TypeFor[parser.Flow]() || t == reflect.TypeFor[netip.Addr]() {
				continue
			}
			w.walk(v.Field(i), path+"."+f.Name)
		}
	case reflect.Slice:
		// The whole backing array: stale elements past len count too.
		if v.IsNil() {
			return
		}
		v = v.Slice3(0, v.Cap(), v.Cap())
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			for i := range b {
				b[i] = byte(v.Index(i).Uint())
			}
			w.bytes = append(w.bytes, pathStr{path, string(b)})
			return
		}
		fallthrough
	case reflect.Array:
		for i := range v.Len() {
			w.walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			w.walk(it.Key(), path+"{key}")
			w.walk(it.Value(), path+"{}")
		}
	}
}

// TestStateBounded: one flow keeps at most maxFlowPending alerts (more are
// emitted at once), an alert counts at most maxPatientSet identifiers and
// lists maxPatients pseudonyms, and a flow's state goes when it ends.
func TestStateBounded(t *testing.T) {
	c := &collect{}
	pol, err := policy.Parse("p.yaml", []byte("learning_period: 0s\nlimits: {alerts_per_asset_per_hour: 100000}\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(pol, Options{Key: testKey, AlertSink: c})
	if err != nil {
		t.Fatal(err)
	}
	f := testFlow(1)
	var evs []*event.Event
	for i := range maxPatientSet + 100 {
		m, _ := arenaMessage("ADT|A08|SENDAPP|SENDFAC|PID-3|PID-5|PID-7|name|id|birth_date", i)
		m.SendingApplication = fmt.Sprintf("APP%d", i%(2*maxFlowPending)) // a new sender: MT-NODE-004 per sub-key
		evs = append(evs, &event.Event{TS: t0, Flow: f, Body: m})
	}
	if err := e.Write(evs); err != nil {
		t.Fatal(err)
	}
	fs := e.flows[f]
	if fs == nil || len(fs.pend) > maxFlowPending {
		t.Fatalf("flow state %v", fs)
	}
	if n := len(c.evs); n != maxFlowPending+1 {
		t.Errorf("%d alerts emitted before the flow ended, want %d", n, maxFlowPending+1)
	}
	e.Write([]*event.Event{{TS: t0, Flow: f, Body: &flow.Record{AppProto: "hl7"}}})
	if len(e.flows) != 0 {
		t.Errorf("%d flows left after their end", len(e.flows))
	}
	var phi *Alert
	for _, ev := range c.evs {
		if a := ev.Body.(*Alert); a.RuleID == RulePHIHL7 {
			phi = a
		}
	}
	if phi == nil {
		t.Fatal("no MT-PHI-002 alert")
	}
	if phi.Evidence.PatientCount != maxPatientSet || len(phi.Evidence.Patients) != maxPatients || phi.Count != maxPatientSet+100 {
		t.Errorf("patient_count %d, %d pseudonyms, count %d", phi.Evidence.PatientCount, len(phi.Evidence.Patients), phi.Count)
	}
	p := pseudonymizer{key: testKey}
	if phi.Evidence.Patients[0] != p.pseudonym("MRN000000") || phi.Evidence.Patients[15] != p.pseudonym("MRN000015") {
		t.Errorf("pseudonyms %v", phi.Evidence.Patients)
	}
	e.Close()
}

func TestPatientSet(t *testing.T) {
	var s patientSet
	p := pseudonymizer{key: testKey, seed: newPseudonymizer(testKey).seed}
	for i := range maxPatientSet + 500 {
		id := fmt.Sprint("ID", i)
		if !s.add(p.hash(id)) && i < maxPatientSet {
			t.Fatalf("%d: new id not added", i)
		}
		if s.add(p.hash(id)) {
			t.Fatalf("%d: id added twice", i)
		}
	}
	if s.n != maxPatientSet || s.add(p.hash("one more")) {
		t.Errorf("n %d", s.n)
	}
	if len(s.slots)*7 < s.n*8 {
		t.Errorf("%d slots for %d", len(s.slots), s.n)
	}
}
