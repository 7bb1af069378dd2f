package natsink

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func msgs(from, n int) []*Msg {
	out := make([]*Msg, n)
	for i := range out {
		out[i] = &Msg{Subject: "medtap.s.event.flow", ID: fmt.Sprintf("id-%d", from+i), Data: []byte(fmt.Sprintf(`{"n":%d}`, from+i))}
	}
	return out
}

func drainAll(t *testing.T, s *spool) []string {
	t.Helper()
	var ids []string
	for s.Len() > 0 {
		ms, err := s.Peek(7)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			t.Fatalf("Peek gave nothing with %d waiting", s.Len())
		}
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
		s.Commit(len(ms))
	}
	return ids
}

func TestSpoolOrderAndRecovery(t *testing.T) {
	dir := t.TempDir()
	s, err := openSpool(dir, MinSpoolBytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openSpool(dir, MinSpoolBytes); err == nil {
		t.Fatal("a second spool on the same directory was allowed")
	}
	if err := s.Append(msgs(0, 100)); err != nil {
		t.Fatal(err)
	}
	// Read part, then append more while reading (same segment grows).
	ms, _ := s.Peek(10)
	if len(ms) != 10 || ms[0].ID != "id-0" || string(ms[9].Data) != `{"n":9}` {
		t.Fatalf("Peek: %+v", ms)
	}
	s.Commit(10)
	if err := s.Append(msgs(100, 50)); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 140 {
		t.Fatalf("Len %d, want 140", s.Len())
	}
	s.close()

	// A restart replays every unconsumed message of the segment (the
	// consumed prefix again: at least once), in order.
	s, err = openSpool(dir, MinSpoolBytes)
	if err != nil {
		t.Fatal(err)
	}
	ids := drainAll(t, s)
	if len(ids) != 150 || ids[0] != "id-0" || ids[149] != "id-149" {
		t.Fatalf("after reopen: %d messages, first %v", len(ids), ids[:1])
	}
	for i, id := range ids {
		if id != fmt.Sprintf("id-%d", i) {
			t.Fatalf("message %d is %s", i, id)
		}
	}
	if err := s.Append(msgs(150, 3)); err != nil {
		t.Fatal(err)
	}
	s.close()

	// A torn tail (a crash mid-write) is cut; what came before survives.
	ents, _ := filepath.Glob(filepath.Join(dir, segPrefix+"*"))
	if len(ents) != 1 {
		t.Fatalf("segments: %v", ents)
	}
	f, _ := os.OpenFile(ents[0], os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3})
	f.Close()
	s, err = openSpool(dir, MinSpoolBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if ids := drainAll(t, s); len(ids) != 3 || ids[0] != "id-150" {
		t.Fatalf("after torn tail: %v", ids)
	}
}

func TestSpoolLimitDropsOldest(t *testing.T) {
	s, err := openSpool(t.TempDir(), MinSpoolBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	const n = 5000 // about 200 KiB of records, over the 64 KiB limit
	for i := 0; i < n; i += 100 {
		if err := s.Append(msgs(i, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Bytes() > MinSpoolBytes {
		t.Fatalf("spool holds %d bytes, over its %d limit", s.Bytes(), MinSpoolBytes)
	}
	if s.dropped == 0 || int(s.dropped)+s.Len() != n {
		t.Fatalf("dropped %d + kept %d != %d", s.dropped, s.Len(), n)
	}
	ids := drainAll(t, s)
	if ids[len(ids)-1] != fmt.Sprintf("id-%d", n-1) || ids[0] != fmt.Sprintf("id-%d", s.dropped) {
		t.Fatalf("kept %s..%s after dropping %d", ids[0], ids[len(ids)-1], s.dropped)
	}
}

func TestParseRecordHostile(t *testing.T) {
	good := appendRecord(nil, &Msg{Subject: "a.b", ID: "x", Data: []byte("{}")})
	for i := 0; i < len(good); i++ {
		if _, _, ok := parseRecord(good[:i], 0); ok {
			t.Fatalf("truncated record of %d bytes accepted", i)
		}
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x40
		if _, _, ok := parseRecord(bad, 0); ok && i < recordHeader {
			t.Fatalf("record with header byte %d flipped accepted", i)
		}
	}
	if m, next, ok := parseRecord(good, 0); !ok || next != len(good) || m.Subject != "a.b" || m.ID != "x" || string(m.Data) != "{}" {
		t.Fatalf("round trip: %+v %d %v", m, next, ok)
	}
}

func TestToken(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "default"},
		{"ward-3_A", "ward-3_A"},
		{"a.b*c>d e", "a_b_c_d_e"},
		{"放射科", "_________"},
	} {
		if got := Token(c.in); got != c.want {
			t.Errorf("Token(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Token(string(make([]byte, 200))); len(got) != MaxTokenLen {
		t.Errorf("long name gave %d bytes", len(got))
	}
	for _, c := range []struct {
		subj, sensor, kind, typ string
		ok                      bool
	}{
		{"medtap.A.event.flow", "A", KindEvent, "flow", true},
		{"medtap.A.alert", "A", KindAlert, "", true},
		{"medtap.A.asset", "A", KindAsset, "", true},
		{"medtap.A.event", "", "", "", false},
		{"medtap.A.alert.x", "", "", "", false},
		{"other.A.alert", "", "", "", false},
	} {
		s, k, ty, ok := ParseSubject(c.subj)
		if s != c.sensor || k != c.kind || ty != c.typ || ok != c.ok {
			t.Errorf("ParseSubject(%q) = %q %q %q %v", c.subj, s, k, ty, ok)
		}
	}
}
