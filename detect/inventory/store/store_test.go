package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/medtap/medtap/detect/inventory"
)

func testAsset(id string, batch int) inventory.Asset {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return inventory.Asset{ID: id, MAC: "02:00:00:00:0d:01", IP: "10.0.0.1", Class: inventory.ClassPACS,
		IPs:       []inventory.IPSeen{{IP: "10.0.0.1", Source: "traffic", FirstSeen: t0, LastSeen: t0.Add(time.Duration(batch) * time.Second)}},
		FirstSeen: t0, LastSeen: t0.Add(time.Duration(batch) * time.Second),
		Medical:  inventory.Medical{Manufacturer: "batch " + strconv.Itoa(batch)},
		Services: []inventory.Service{{Port: 104, Transport: "tcp", AppProto: "dicom", Flows: uint64(batch), FirstSeen: t0, LastSeen: t0}},
	}
}

func TestRoundTripAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Asset{testAsset("a1", 1), testAsset("a2", 2)}
	if err := s.SaveAssets(want); err != nil {
		t.Fatal(err)
	}
	run, err := s.StartRun(inventory.Run{Command: "analyze", Started: time.Unix(100, 0).UTC(), MedtapVersion: "test",
		Inputs: []inventory.InputFile{{Path: "x.pcap", Size: 10, SHA256: "ab"}}})
	if err != nil {
		t.Fatal(err)
	}
	al := inventory.AlertRecord{ID: "f00", RuleID: "MT-PHI-001", Title: "t", Severity: "high", Category: "phi_cleartext",
		Capability: []string{"TXCF"}, DataCategory: "sensitive_medical", AssetIDs: []string{"a1"}, Count: 1,
		FirstSeen: time.Unix(5, 0).UTC(), LastSeen: time.Unix(6, 0).UTC(), Event: []byte(`{"x":1}`)}
	if err := s.SaveAlerts([]inventory.AlertRecord{al}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(inventory.Run{ID: run, Finished: time.Unix(200, 0).UTC(), Packets: 7}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.LoadAssets()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("assets after reopen:\n got %+v\nwant %+v", got, want)
	}
	alerts, err := s.Alerts(AlertFilter{AssetID: "a1"})
	if err != nil || len(alerts) != 1 || alerts[0].RunID != run || alerts[0].Capability[0] != "TXCF" || string(alerts[0].Event) != `{"x":1}` {
		t.Errorf("alerts: %+v, %v", alerts, err)
	}
	if n, _ := s.Alerts(AlertFilter{AssetID: "a2"}); len(n) != 0 {
		t.Errorf("alert filter by asset: %d alerts for a2", len(n))
	}
	runs, err := s.Runs()
	if err != nil || len(runs) != 1 || runs[0].Packets != 7 || runs[0].Inputs[0].SHA256 != "ab" || runs[0].Finished.IsZero() {
		t.Errorf("runs: %+v, %v", runs, err)
	}
	if v, _ := s.Version(); v != SchemaVersion {
		t.Errorf("schema version %d, want %d", v, SchemaVersion)
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LoadAssets(); len(got) != 0 {
		t.Errorf("%d assets after Reset", len(got))
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenExisting(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("OpenExisting of a missing file succeeded")
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("this is not a database, it is a text file of some length to fill a page"), 0o600)
	if _, err := Open(junk); err == nil {
		t.Error("Open of a text file succeeded")
	}
	// A database from a newer medtap is refused, not downgraded.
	newer := filepath.Join(dir, "newer.db")
	s, err := Open(newer)
	if err != nil {
		t.Fatal(err)
	}
	s.db.Exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, 'x')`, SchemaVersion+1)
	s.Close()
	if _, err := Open(newer); err == nil {
		t.Error("Open of a newer schema succeeded")
	}
}

// killChildEnv makes the test binary a writer that saves batches until it
// is killed (see TestKillDuringWrite).
const killChildEnv = "MEDTAP_STORE_KILL_CHILD"

// batchAssets is how many assets each batch of the child writes: enough
// for a batch to take a while, so the kill lands inside one.
const batchAssets = 200

func TestMain(m *testing.M) {
	if path := os.Getenv(killChildEnv); path != "" {
		writeForever(path)
		return
	}
	os.Exit(m.Run())
}

func writeForever(path string) {
	s, err := Open(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for b := 1; ; b++ {
		batch := make([]inventory.Asset, batchAssets)
		for i := range batch {
			batch[i] = testAsset("asset-"+strconv.Itoa(i), b)
		}
		if err := s.SaveAssets(batch); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("committed", b)
	}
}

// TestKillDuringWrite kills a writer with SIGKILL in the middle of its
// batches: the database must open, pass integrity_check, and hold every
// batch the writer reported committed (at most the one in flight lost).
func TestKillDuringWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	path := filepath.Join(t.TempDir(), "kill.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	last := 0
	for sc.Scan() {
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "committed %d", &n); err != nil {
			t.Fatalf("child: %s", sc.Text())
		}
		last = n
		if last == 15 {
			// Let the next batch get under way, then kill.
			time.Sleep(3 * time.Millisecond)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	for sc.Scan() {
		fmt.Sscanf(sc.Text(), "committed %d", &last)
	}
	cmd.Wait()
	if last < 15 {
		t.Fatalf("child stopped after %d batches", last)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if res, err := s.IntegrityCheck(); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q, %v", res, err)
	}
	assets, err := s.LoadAssets()
	if err != nil {
		t.Fatal(err)
	}
	if len(assets) != batchAssets {
		t.Fatalf("%d assets, want %d", len(assets), batchAssets)
	}
	// Every asset is from one batch: transactions are all-or-nothing.
	batch := assets[0].Medical.Manufacturer
	for _, a := range assets {
		if a.Medical.Manufacturer != batch {
			t.Fatalf("assets from two batches: %q and %q", batch, a.Medical.Manufacturer)
		}
	}
	var got int
	fmt.Sscanf(batch, "batch %d", &got)
	if got < last || got > last+1 {
		t.Errorf("database holds batch %d, the writer reported %d committed", got, last)
	}
	t.Logf("killed after batch %d committed; database holds batch %d", last, got)
}
