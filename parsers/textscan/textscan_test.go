package textscan

import (
	"strings"
	"testing"
)

type hit struct {
	cat  Category
	text string
}

func scanAll(s string) []hit {
	var out []hit
	Scan([]byte(s), func(c Category, a, b int) { out = append(out, hit{c, s[a:b]}) })
	return out
}

// Every number here is synthetic: the resident IDs are made up with a valid
// check character, the card numbers with a valid Luhn digit, the phone
// numbers use the 555 blocks or made-up subscribers.
func TestScan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []hit
	}{
		{"id 11010519491231002X ok", []hit{{IDNumber, "11010519491231002X"}}},
		{"id 11010519491231002x.", []hit{{IDNumber, "11010519491231002x"}}},
		{"id 110105194912310021", nil}, // wrong check character
		{"id 110105194913310024", nil}, // month 13
		{"call 13912345678", []hit{{Phone, "13912345678"}}},
		{"call +8613912345678", []hit{{Phone, "+8613912345678"}}},
		{"call 139-1234-5678 or 139 1234 5678", []hit{{Phone, "139-1234-5678"}, {Phone, "139 1234 5678"}}},
		{"call +86 139 1234 5678", []hit{{Phone, "+86 139 1234 5678"}}},
		{"12912345678", nil}, // 12x is not a mobile prefix
		{"ward 010-55550100", []hit{{Phone, "010-55550100"}}},
		{"ward (010)55550100", []hit{{Phone, "(010)55550100"}}},
		{"ward 0571-8888 5555", []hit{{Phone, "0571-8888 5555"}}},
		{"ward 01055550100", []hit{{Phone, "01055550100"}}},
		{"card 6222021234567890128", []hit{{BankCard, "6222021234567890128"}}},
		{"card 4111 1111 1111 1111", []hit{{BankCard, "4111 1111 1111 1111"}}},
		{"card 4111-1111-1111-1112", nil}, // Luhn fails
		{"card 9111111111111111", nil},    // no such issuer range
		{"ts 20250102030405", nil},        // a timestamp
		{"oid 1.2.840.10008.5.1.4.1.1.2", nil},
		{"uid 1.2.13912345678", nil}, // dotted: part of an OID
		{"hex a13912345678", nil},    // glued to a letter
		{"13912345678b", nil},
		{"3.13912345678", nil},
		{"1391234567890", nil}, // 13 digits starting 139: not a card (Luhn) nor a mobile
		{"", nil},
		{"no digits at all in this rather long line of text", nil},
		{"2024-01-02 10:11:12", nil},
		{"ip 192.168.100.200", nil},
	} {
		got := scanAll(tc.in)
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func TestNextDigit(t *testing.T) {
	for _, s := range []string{"", "a", "abcdefgh", "abcdefgh1", "abcdefghijklmnop9xyz", "\xff\xfe\x80\x7f0", "////////::::::::0"} {
		want := strings.IndexAny(s, "0123456789")
		if want < 0 {
			want = len(s)
		}
		if got := nextDigit([]byte(s), 0); got != want {
			t.Errorf("nextDigit(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestCollector(t *testing.T) {
	var c Collector
	c.Scan("msg", []byte("id 11010519491231002X tel 13912345678 tel 13912345679"))
	cnt, vals := c.Take()
	if cnt.IDNumber != 1 || cnt.Phone != 2 || len(vals) != 3 || vals[0].Field != "msg" || vals[0].Category != "id_number" {
		t.Fatalf("%+v %+v", cnt, vals)
	}
	if got := strings.Join(cnt.Categories(), ","); got != "id_number,phone" {
		t.Errorf("categories %s", got)
	}
	if c.Counts.Total() != 0 || len(c.Values) != 0 {
		t.Error("Take did not reset")
	}
	for i := 0; i < MaxValues+5; i++ {
		c.Scan("x", []byte("13912345678"))
	}
	if len(c.Values) != MaxValues || c.Counts.Phone != MaxValues+5 {
		t.Errorf("bounds: %d values, %d counted", len(c.Values), c.Counts.Phone)
	}
}

func TestScanAllocs(t *testing.T) {
	text := []byte(strings.Repeat("plain text with 12 numbers 2024-01-02 and ids 11010519491231002X, tel 13912345678; ", 20))
	n := 0
	f := func(Category, int, int) { n++ }
	if a := testing.AllocsPerRun(100, func() { Scan(text, f) }); a != 0 {
		t.Errorf("Scan allocates %.1f times per run", a)
	}
	var c Collector
	c.Scan("warm", text)
	c.Reset()
	clean := []byte(strings.Repeat("no identifiers here, only 42 and 2024-01-02. ", 50))
	if a := testing.AllocsPerRun(100, func() { c.Scan("f", clean) }); a != 0 {
		t.Errorf("Collector.Scan without hits allocates %.1f times per run", a)
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte("id 11010519491231002X tel +86 139 1234 5678 card 4111 1111 1111 1111 (010)55550100"))
	f.Add([]byte("0571-8888 5555 1.2.3 a1 9"))
	f.Fuzz(func(t *testing.T, in []byte) {
		last := 0
		Scan(in, func(c Category, a, b int) {
			if a < last || b <= a || b > len(in) || c == None || c >= numCategories {
				t.Fatalf("bad hit %v [%d,%d) after %d", c, a, b, last)
			}
			last = b
		})
	})
}
