package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/detect/inventory/store"
	"github.com/medtap/medtap/parsers/parser/jsontest"
)

const lanSample = "../../../pcaps/inventory-lan.pcap"

func TestAnalyzeDBAndAssets(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "inv.db")
	out := filepath.Join(dir, "out")
	if code, _, stderr := medtap("analyze", "-q", "--db", db, "-o", out, lanSample); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, stderr)
	}
	var written []inventory.Asset
	b, err := os.ReadFile(filepath.Join(out, "assets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &written); err != nil || len(written) != 2 {
		t.Fatalf("assets.json: %d assets, %v", len(written), err)
	}
	events, _ := os.ReadFile(filepath.Join(out, "events.jsonl"))
	if !strings.Contains(string(events), `"event_type":"asset"`) {
		t.Error("no asset events in events.jsonl")
	}

	code, stdout, stderr := medtap("assets", "--db", db)
	if code != exitOK || !strings.Contains(stdout, "imaging_modality") || !strings.Contains(stdout, "Cisco") || !strings.Contains(stdout, "2 of 2 assets") {
		t.Fatalf("assets table: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = medtap("assets", "--db", db, "--format", "json", "--class", "pacs")
	var pacs []inventory.Asset
	if code != exitOK || json.Unmarshal([]byte(stdout), &pacs) != nil || len(pacs) != 1 || pacs[0].IP != "10.99.7.1" {
		t.Fatalf("--class pacs: exit %d %s", code, stdout)
	}
	code, stdout, _ = medtap("assets", "--db", db, "--format", "csv", "--ip", "10.99.7.53")
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if code != exitOK || err != nil || len(rows) != 2 || rows[1][4] != "imaging_modality" {
		t.Fatalf("--ip of the old address: exit %d %v %q", code, err, rows)
	}

	// Adding the same capture again keeps the assets; --fresh starts over.
	if code, _, stderr := medtap("analyze", "-q", "--db", db, "-o", out, lanSample); code != exitOK {
		t.Fatalf("second analyze: %s", stderr)
	}
	if _, stdout, _ := medtap("assets", "--db", db); !strings.Contains(stdout, "2 of 2 assets") {
		t.Errorf("after a second run:\n%s", stdout)
	}
	if code, _, stderr := medtap("analyze", "-q", "--db", db, "--fresh", "-o", out, sample); code != exitOK {
		t.Fatalf("--fresh: %s", stderr)
	}
	if _, stdout, _ := medtap("assets", "--db", db); !strings.Contains(stdout, "1 of 1 assets") {
		t.Errorf("after --fresh:\n%s", stdout)
	}
}

func TestAssetsErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"assets", "--db", missing}, exitFailure, "no inventory database"},
		{[]string{"assets", "--format", "xml"}, exitUsage, "--format"},
		{[]string{"assets", "--class", "toaster"}, exitUsage, "--class"},
		{[]string{"assets", "--ip", "nope"}, exitUsage, "--ip"},
		{[]string{"analyze", "--fresh", sample}, exitFailure, "--fresh needs --db"},
	} {
		code, _, stderr := medtap(c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 && c.code == exitFailure {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("medtap assets created the missing database")
	}
}

// TestAssetsFileAsEncodingJSON analyses the bundled captures (DICOM, HL7,
// ASTM, TLS, DHCP, remote access...) into a database and checks that
// assets.json is byte for byte what encoding/json's MarshalIndent writes
// for the assets the database holds.
func TestAssetsFileAsEncodingJSON(t *testing.T) {
	dir := t.TempDir()
	db, out := filepath.Join(dir, "inv.db"), filepath.Join(dir, "out")
	if code, _, stderr := medtap("analyze", "-q", "--db", db, "-o", out, "--progress", "never", "../../../pcaps"); code != exitOK && code != exitFailure {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "assets.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	assets, err := st.LoadAssets()
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(assets, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	jsontest.SameBytes(t, "assets.json", data, append(want, '\n'))
	// The captures give a dozen assets with most kinds of member.
	for _, k := range []string{`"ae_titles"`, `"hl7"`, `"dhcp"`, `"peers"`, `"vlans"`, `"medical_encrypted_share"`, `"software"`, `"station_name"`} {
		if !bytes.Contains(want, []byte(k)) {
			t.Errorf("the assets of pcaps/ have no %s: the test needs varied ones", k)
		}
	}
}
