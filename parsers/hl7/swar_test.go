package hl7

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/medtap/medtap/parsers/parsertest"
)

// numberAlphabet is weighted toward what the value scan and its filter
// decide on: digits, the separators of phone numbers, run-ending letters
// and delimiters, other bytes of the filter's run (".", "/", "&"), 8-bit
// bytes.
const numberAlphabet = "0123456789012345678901234567890123456789     ---(()+..//&&AXx^~|\\\xe4\xb8\x80"

func randNumberText(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = numberAlphabet[r.IntN(len(numberAlphabet))]
	}
	return b
}

// TestNumberFilter checks that the filter never hides a number the scan
// reports: every value with a hit has a candidate, whatever the value's
// length (so every word alignment and tail) and content.
func TestNumberFilter(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	hits, passed := 0, 0
	for range 300000 {
		v := randNumberText(r, 1+r.IntN(40))
		var found bool
		scanNumbersAll(v, func(numberHit) { found = true })
		may := mayHoldNumber(v)
		if found && !may {
			t.Fatalf("the filter hides a number in %q", v)
		}
		if found {
			hits++
		}
		if may {
			passed++
		}
	}
	t.Logf("%d values with numbers, %d passed the filter", hits, passed)
	if hits < 1000 {
		t.Errorf("only %d values with numbers: the test does not exercise the filter", hits)
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"20250102030405", false}, {"x|20250102030405|y", false}, {"1391234567", false},
		{"13912345678", true}, {"8613912345678", true}, {"11010519491231002X", true},
		{"(407)939-5555", true}, {"12.0-16.0", false}, {"ACC12345678", false},
	} {
		if got := mayHoldNumber([]byte(tc.in)); got != tc.want {
			t.Errorf("mayHoldNumber(%q) = %v", tc.in, got)
		}
	}
}

// TestSparseFields checks the sparse field reader against field on each
// field in turn, on random segments of every kind, with the standard and a
// digit-like field separator: fed whole (sparse) and byte by byte (each
// field complete on its own), a message gives the same event.
func TestSparseFields(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 4))
	names := []string{"PID", "NK1", "PV1", "GT1", "MRG", "IN1", "IN2", "ZXY", "OBX", "SFT", "PRT", "MSA", "ERR", "NTE", "OBR", "EVN"}
	for i := range 400 {
		sep := "|"
		if i%4 == 3 {
			sep = "-" // a separator the filter's runs hold
		}
		var b strings.Builder
		b.WriteString("MSH" + sep + "^~\\&" + sep + "A" + sep + "B" + sep + "C" + sep + "D" + sep + sep + sep + "ADT^A01" + sep + "R1" + sep + "P" + sep + "2.5\r")
		for range 1 + r.IntN(4) {
			b.WriteString(names[r.IntN(len(names))])
			for range 1 + r.IntN(45) {
				b.WriteString(sep)
				b.Write(randNumberText(r, r.IntN(24)))
			}
			b.WriteString("\r")
		}
		c := conv(mllp(b.String()))
		whole := parsertest.Replay(Factory, c, parsertest.Whole, nil)
		bytewise := parsertest.Replay(Factory, c, parsertest.ByteByByte, nil)
		if w, g := phiOf(whole), phiOf(bytewise); w != g || whole.JSON() != bytewise.JSON() {
			t.Fatalf("message %q:\nwhole  %s\nfields %s", b.String(), w, g)
		}
	}
}

// phiOf renders the PHI values of a run's events.
func phiOf(rec *parsertest.Recorder) string {
	var b strings.Builder
	for _, e := range rec.Events {
		if m, ok := e.Body.(*Message); ok {
			for _, p := range m.PHI {
				b.WriteString(p.Field + " " + p.Category + " " + p.Value + "\n")
			}
		}
	}
	return b.String()
}

// refCandidate is numberCandidate byte by byte: the offset of the last
// byte of the first run from i on that qualifies, or -1.
func refCandidate(r []byte, i int, sep byte) int {
	cnt, other := 0, false
	for j := i; j <= len(r); j++ {
		if j < len(r) && r[j] >= 0x20 && r[j] <= 0x39 && r[j] != sep {
			if isDigit(r[j]) {
				cnt++
			} else {
				other = true
			}
			continue
		}
		if cnt >= runDigits && (other || cnt == 11 || cnt == 13 || cnt >= 17) {
			return j - 1
		}
		cnt, other = 0, false
	}
	return -1
}

// TestNumberCandidateExact checks the word-at-a-time filter gives the very
// offset the byte-at-a-time rule does, from every start, with separators
// inside and outside the runs' bytes.
func TestNumberCandidateExact(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 3))
	for n := range 100000 {
		v := randNumberText(r, 1+r.IntN(64))
		sep := byte('|')
		if n%3 == 1 {
			sep = '-'
		}
		i := r.IntN(len(v))
		if got, want := numberCandidate(v, i, sep), refCandidate(v, i, sep); got != want {
			t.Fatalf("numberCandidate(%q, %d, %q) = %d, want %d", v, i, sep, got, want)
		}
	}
}

// TestComponents checks component and components3 against splitting with
// the bytes package, delimiters absent (0) or equal included.
func TestComponents(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	const alphabet = "ab^~&^~"
	for range 20000 {
		v := make([]byte, r.IntN(12))
		for i := range v {
			v[i] = alphabet[r.IntN(len(alphabet))]
		}
		comp, rep := []byte{0, '^', '~'}[r.IntN(3)], []byte{0, '~', '^'}[r.IntN(3)]
		first := v
		if i := bytes.IndexByte(first, rep); rep != 0 && i >= 0 {
			first = first[:i]
		}
		want := [][]byte{first}
		if comp != 0 {
			want = bytes.SplitN(first, []byte{comp}, 4)
		}
		for len(want) < 3 {
			want = append(want, nil)
		}
		c1, c2, c3 := components3(v, comp, rep)
		if !bytes.Equal(c1, want[0]) || !bytes.Equal(c2, want[1]) || !bytes.Equal(c3, want[2]) || !bytes.Equal(component(v, comp, rep), want[0]) {
			t.Fatalf("%q comp %q rep %q: %q %q %q, want %q", v, comp, rep, c1, c2, c3, want[:3])
		}
	}
}

// TestTailWord checks the one-load read of a slice's tail against
// padding a copy, for every length and start.
func TestTailWord(t *testing.T) {
	for _, c := range []byte{0, 'A', 0xff} {
		for n := 0; n <= 20; n++ {
			r := make([]byte, n)
			for i := range r {
				r[i] = byte(0x90 + i)
			}
			for i := max(0, n-7); i <= n; i++ {
				want := bytes.Repeat([]byte{c}, 8)
				copy(want, r[i:])
				if got := tailWord(r, i, lo8*uint64(c)); got != binary.LittleEndian.Uint64(want) {
					t.Fatalf("tailWord(%d bytes, %d, %#x) = %#x, want % x", n, i, c, got, want)
				}
			}
		}
	}
}
