package dicom

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parser"
)

// TestPublicCorpus checks objects medtap was not written with: public DICOM
// test files (pydicom test_files and charset_files, suyashkumar/dicom
// testdata; MIT, provenance in ../shared/corpus/public/SOURCES.md) sent by
// DCMTK storescu to storescp (pcaps/make/dicom-corpus.sh). It reads the
// committed subset pcaps/dicom-corpus.pcap and, when
// MEDTAP_DICOM_CORPUS_PCAP names one, the capture of every file
// (dicom-corpus.sh all OUT). For every file storescu sent (its log says
// which, in which association and order) there must be one successful
// C-STORE whose SOP class and instance UIDs are the ones dcmdump reads in
// the file, whose patient tags of group 0010 are exactly those dcmdump
// shows with a value (at any depth), and, for the character set files,
// whose PatientName decoded in memory is the expected UTF-8. The files are
// read from ../shared, which is not part of the repository: the test skips
// without it.
func TestPublicCorpus(t *testing.T) {
	corpus := filepath.Join("..", "..", "..", "shared", "corpus", "public")
	if _, err := os.Stat(filepath.Join(corpus, "pydicom")); err != nil {
		t.Skipf("public corpus absent: %v", err)
	}
	if _, err := exec.LookPath("dcmdump"); err != nil {
		t.Skip("dcmdump (DCMTK) not installed")
	}
	runs := [][2]string{{pcapPath("dicom-corpus.pcap"), filepath.Join("testdata", "dcmtk", "dicom-corpus.pcap.log")}}
	if p := os.Getenv("MEDTAP_DICOM_CORPUS_PCAP"); p != "" {
		runs = append(runs, [2]string{p, p + ".log"})
	}
	for _, r := range runs {
		t.Run(filepath.Base(r[0]), func(t *testing.T) {
			checkCorpusCapture(t, corpus, r[0], r[1])
		})
	}
}

var (
	sentFile    = regexp.MustCompile(`^I: Sending file: (.*)$`)
	skippedFile = regexp.MustCompile(`^W: missing SOP class \(or instance\) in file: (.*), ignoring file$`)
	dumpElement = regexp.MustCompile(`^(\s*)\(([0-9a-f]{4}),([0-9a-f]{4})\) (\w\w) (.*?)\s+#\s*\d+,`)
)

func checkCorpusCapture(t *testing.T, corpus, capture, logPath string) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("storescu log: %v", err)
	}
	// Files per association, in sending order.
	var runs [][]string
	var skipped []string
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(l, "### storescu"):
			runs = append(runs, nil)
		case sentFile.MatchString(l):
			runs[len(runs)-1] = append(runs[len(runs)-1], sentFile.FindStringSubmatch(l)[1])
		case skippedFile.MatchString(l):
			skipped = append(skipped, skippedFile.FindStringSubmatch(l)[1])
		}
	}
	// storescu skips only files dcmdump finds no SOP class or instance in.
	for _, f := range skipped {
		d := dcmdumpFile(t, filepath.Join(corpus, f))
		if d.sopClass != "" && d.sopInstance != "" {
			t.Errorf("%s: storescu skipped it, dcmdump reads %s %s", f, d.sopClass, d.sopInstance)
		}
	}
	if _, err := os.Stat(capture); err != nil {
		t.Skipf("capture absent: %v", err)
	}
	convs := perConversationFile(t, capture)
	if len(convs) != len(runs) {
		t.Fatalf("%d associations, storescu made %d", len(convs), len(runs))
	}
	files := 0
	for i, c := range convs {
		for _, e := range c.rec.Events {
			if a, ok := e.Body.(*parser.Anomaly); ok {
				t.Errorf("association %d: anomaly %+v", i, a)
			}
		}
		if c.assoc.Anomalies != 0 || c.assoc.Result != "released" {
			t.Errorf("association %d: %s, %d anomalies", i, c.assoc.Result, c.assoc.Anomalies)
		}
		if len(c.dimse) != len(runs[i]) {
			t.Fatalf("association %d: %d transactions, storescu sent %d files", i, len(c.dimse), len(runs[i]))
		}
		for j, f := range runs[i] {
			files++
			ev := c.dimse[j]
			d := dcmdumpFile(t, filepath.Join(corpus, f))
			if ev.Command != "C-STORE" || ev.StatusClass != "success" || int(ev.MessageID) != j+1 {
				t.Errorf("%s: %s %d %s", f, ev.Command, ev.MessageID, ev.Status)
			}
			if ev.SOPClassUID != d.sopClass || ev.SOPInstanceUID != d.sopInstance || ev.DatasetSOPInstanceID != d.sopInstance {
				t.Errorf("%s: SOP %s %s (dataset %s), dcmdump %s %s", f, ev.SOPClassUID, ev.SOPInstanceUID, ev.DatasetSOPInstanceID, d.sopClass, d.sopInstance)
			}
			var ours []string
			for _, tag := range ev.PHITags {
				if strings.HasPrefix(tag, "(0010,") {
					ours = append(ours, tag)
				}
			}
			if strings.Join(ours, " ") != strings.Join(d.patientTags, " ") {
				t.Errorf("%s: patient tags\n ours    %v\n dcmdump %v", f, ours, d.patientTags)
			}
			for _, cat := range d.patientCats {
				if !contains(ev.PHICategories, cat) {
					t.Errorf("%s: category %s missing from %v", f, cat, ev.PHICategories)
				}
			}
			if want, ok := charsetNames[filepath.Base(f)]; ok {
				name := ""
				for _, p := range ev.PHI {
					if p.Tag == 0x00100010 && !p.Response {
						name = p.Value
					}
				}
				if name != want {
					t.Errorf("%s: PatientName %q, want %q", f, name, want)
				}
				if conv := dcmdumpUTF8Name(filepath.Join(corpus, f)); conv != "" && conv != want {
					t.Errorf("%s: expected %q, dcmdump +U8 converts to %q", f, want, conv)
				}
			}
		}
	}
	if files == 0 {
		t.Fatal("no file sent")
	}
	t.Logf("%d files in %d associations checked, %d skipped by storescu", files, len(runs), len(skipped))
}

// charsetNames are the PatientNames of pydicom's charset_files in UTF-8
// (pydicom's FileInfo.txt gives the raw bytes and character sets;
// dcmdump +U8 confirms those iconv can convert).
var charsetNames = map[string]string{
	"chrArab.dcm":                "قباني^لنزار",
	"chrFren.dcm":                "Buc^Jérôme",
	"chrFrenMulti.dcm":           "Buc^Jérôme",
	"chrGerm.dcm":                "Äneas^Rüdiger",
	"chrGreek.dcm":               "Διονυσιος",
	"chrH31.dcm":                 "Yamada^Tarou=山田^太郎=やまだ^たろう",
	"chrH32.dcm":                 "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
	"chrHbrw.dcm":                "שרון^דבורה",
	"chrI2.dcm":                  "Hong^Gildong=洪^吉洞=홍^길동",
	"chrJapMulti.dcm":            "やまだ^たろう",
	"chrJapMultiExplicitIR6.dcm": "やまだ^たろう",
	"chrKoreanMulti.dcm":         "김희중",
	"chrRuss.dcm":                "Люкceмбypг",
	"chrX1.dcm":                  "Wang^XiaoDong=王^小東=",
	"chrX2.dcm":                  "Wang^XiaoDong=王^小东=",
}

type dumped struct {
	sopClass, sopInstance string
	patientTags           []string // (0010,xxxx) with a value, any depth, sorted
	patientCats           []string
}

func dcmdumpFile(t *testing.T, path string) dumped {
	t.Helper()
	out, _ := exec.Command("dcmdump", "-q", "-Un", "+L", path).Output()
	var d dumped
	tags, cats := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		m := dumpElement.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		top, group, el, vr, val := m[1] == "", m[2], m[3], m[4], m[5]
		uid := strings.Trim(val, "[] \x00")
		switch {
		case top && group == "0008" && el == "0016" && d.sopClass == "":
			d.sopClass = uid
		case top && group == "0008" && el == "0018" && d.sopInstance == "":
			d.sopInstance = uid
		}
		if group != "0010" || el == "0000" {
			continue
		}
		present := val != "(no value available)" && strings.Trim(val, "[] \x00") != ""
		if vr == "SQ" {
			// The walker marks a sequence present when it has a length:
			// items, or undefined length.
			present = !strings.Contains(val, "explicit length #=0")
		}
		if present {
			tag, _ := strconv.ParseUint(group+el, 16, 32)
			tags["("+group+","+el+")"] = true
			cats[PHICategoryNames[phiCategory(uint32(tag))]] = true
		}
	}
	for tag := range tags {
		d.patientTags = append(d.patientTags, tag)
	}
	sort.Strings(d.patientTags)
	for c := range cats {
		d.patientCats = append(d.patientCats, c)
	}
	return d
}

// dcmdumpUTF8Name is PatientName as dcmdump +U8 converts it, "" when iconv
// cannot (the JIS X 0208 sets).
func dcmdumpUTF8Name(path string) string {
	out, err := exec.Command("dcmdump", "-q", "+U8", "+P", "0010,0010", path).Output()
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`PN \[(.*)\]`).FindStringSubmatch(string(out))
	if m == nil {
		return ""
	}
	return strings.TrimRight(m[1], " ")
}
