package textscan

import (
	"encoding/binary"
)

// Category is the kind of identifier a hit is.
type Category uint8

// Categories. Their names (String) are the hl7 package's closed set where
// they overlap (id_number, phone), so detect/ treats them alike.
const (
	None     Category = iota
	IDNumber          // PRC resident identity number
	Phone             // PRC mobile or landline number
	BankCard          // payment card number (Luhn-valid)
	numCategories
)

var categoryNames = [numCategories]string{"", "id_number", "phone", "bank_card"}

// String gives the category's stable name.
func (c Category) String() string {
	if c < numCategories {
		return categoryNames[c]
	}
	return ""
}

// Lengths of the numbers recognised.
const (
	// ResidentIDLen is a PRC resident ID: 6-digit region, 8-digit birth
	// date, 3-digit sequence, check character 0-9 or X.
	ResidentIDLen = 18
	// MobileLen is a PRC mobile number without country code: 1[3-9] and 9
	// more digits.
	MobileLen = 11
	// MinCardLen and MaxCardLen bound a payment card number (ISO/IEC 7812).
	MinCardLen = 13
	MaxCardLen = 19
	// MinLandlineLen and MaxLandlineLen bound a landline with its trunk
	// prefix and area code: 0 + 2 or 3 digit area code + 7 or 8 digits.
	MinLandlineLen = 10
	MaxLandlineLen = 12
	// maxRun is the most digits (separators excluded) a candidate can
	// hold; a longer digit run is a hash, a serial or a blob, not a number
	// a person has.
	maxRun = 24
)

// residentIDWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11.
var residentIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// residentIDCheck maps the weighted sum mod 11 to the check character.
const residentIDCheck = "10X98765432"

// ValidResidentID reports whether b is a well-formed PRC resident ID (GB
// 11643-1999): 18 bytes, a non-zero first digit, a plausible birth date
// (1880-2099) and the right check character (X or x for ten).
func ValidResidentID(b []byte) bool {
	if len(b) != ResidentIDLen || b[0] < '1' || b[0] > '9' {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * residentIDWeights[i]
	}
	chk := b[17]
	if chk == 'x' {
		chk = 'X'
	}
	if residentIDCheck[sum%11] != chk {
		return false
	}
	year := atoi(b[6:10])
	month := atoi(b[10:12])
	day := atoi(b[12:14])
	return year >= 1880 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 && day <= 31
}

// Luhn reports whether the digits of b (only digits) pass the Luhn check.
func Luhn(b []byte) bool {
	sum, dbl := 0, false
	for i := len(b) - 1; i >= 0; i-- {
		d := int(b[i] - '0')
		if dbl {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		dbl = !dbl
	}
	return sum%10 == 0
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

func isDigit(c byte) bool { return c-'0' < 10 }

func isAlnum(c byte) bool {
	return isDigit(c) || (c|0x20)-'a' < 26
}

// SWAR constants: 8 bytes per step.
const (
	hi8  = 0x8080808080808080
	low7 = 0x7f7f7f7f7f7f7f7f
	add  = 0x7676767676767676 // a byte v of x^'0' gets bit 7 from v+0x76 iff v >= 10
	zero = 0x3030303030303030
)

// nextDigit returns the index of the first digit at or after i, or len(b).
// It looks at 8 bytes at a time: x = w ^ '0' turns digits into 0..9; a byte
// is a digit iff it is below 10 and below 0x80, which one carry-free add per
// byte tells.
func nextDigit(b []byte, i int) int {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:]) ^ zero
		if (((x&low7)+add)|x)&hi8 != hi8 {
			break
		}
		i += 8
	}
	for i < len(b) && !isDigit(b[i]) {
		i++
	}
	return i
}

// Scan finds identifiers in text and calls hit with each one's category and
// byte range [start, end). A number must stand alone: not glued to letters,
// digits or a dot on either side (so dotted OIDs, decimals, hex strings and
// longer numbers do not match). Recognised forms:
//
//   - resident ID: 17 digits and a check character, valid (ValidResidentID);
//   - mobile: 1[3-9] + 9 digits, optionally led by 86 or +86, in one run or
//     grouped 3-4-4 with spaces or hyphens;
//   - landline: 0 + a 2-3 digit area code + a 7-8 digit number, written
//     "010-55550100", "(010)55550100", "010 5555 0100" or in one run of
//     11-12 digits starting 0[1-9];
//   - payment card: 13 to 19 digits, in one run or in groups of 4 split by
//     single spaces or hyphens, first digit 2-6 (the issuer ranges of the
//     card networks used in China), Luhn-valid.
//
// It does not allocate; hit must not keep text.
func Scan(text []byte, hit func(c Category, start, end int)) {
	var digits [maxRun]byte
	i := 0
	for {
		i = nextDigit(text, i)
		// A '+' or '(' right before the run belongs to it.
		if i >= len(text) {
			return
		}
		start := i
		if start > 0 && (text[start-1] == '+' || text[start-1] == '(') {
			start--
		}
		if start > 0 && (isAlnum(text[start-1]) || text[start-1] == '.') {
			// Inside a word or a dotted number: skip the whole token.
			for i < len(text) && (isAlnum(text[i]) || text[i] == '.') {
				i++
			}
			continue
		}
		// Collect digits, allowing single separators between groups.
		n, groups, j, glen, paren := 0, 0, i, 0, start < i && text[start] == '('
		var gl [8]uint8 // group lengths, first 8
		end := i
		for j < len(text) {
			c := text[j]
			if isDigit(c) {
				if n < maxRun {
					digits[n] = c
				}
				n++
				glen++
				j++
				end = j
				continue
			}
			// The residential ID check character.
			if (c == 'X' || c == 'x') && n == 17 && glen == 17 {
				if n < maxRun {
					digits[n] = 'X'
				}
				n++
				glen++
				j++
				end = j
				break
			}
			sepOK := (c == ' ' || c == '-' || (c == ')' && paren && groups == 0)) &&
				j+1 < len(text) && (isDigit(text[j+1]) || (c == ')' && (text[j+1] == ' ' || text[j+1] == '-') && j+2 < len(text) && isDigit(text[j+2])))
			if !sepOK || glen == 0 {
				break
			}
			if groups < len(gl) {
				gl[groups] = uint8(min(glen, 255))
			}
			groups++
			glen = 0
			j++
			if c == ')' && (text[j] == ' ' || text[j] == '-') {
				j++
			}
		}
		if glen > 0 {
			if groups < len(gl) {
				gl[groups] = uint8(min(glen, 255))
			}
			groups++
		}
		i = end
		if i == start {
			i++
			continue
		}
		if end < len(text) && (isAlnum(text[end]) || (text[end] == '.' && end+1 < len(text) && isDigit(text[end+1]))) {
			// Glued to a word or a decimal: skip the token.
			for i < len(text) && (isAlnum(text[i]) || text[i] == '.') {
				i++
			}
			continue
		}
		if n > maxRun {
			continue
		}
		if c := classify(digits[:n], gl[:min(groups, len(gl))], groups, text[start] == '+', paren); c != None {
			hit(c, start, end)
		}
	}
}

// classify decides what a standalone run of digits (its digits, group
// lengths, and whether a '+' or '(' led it) is.
func classify(d []byte, gl []uint8, groups int, plus, paren bool) Category {
	n := len(d)
	if n < MinLandlineLen {
		return None // every form has at least 10 digits
	}
	if groups == 1 && n == ResidentIDLen && ValidResidentID(d) {
		return IDNumber
	}
	if d[n-1] == 'X' {
		return None
	}
	// Mobile, optionally with 86.
	m := d
	cc := false
	if n == MobileLen+2 && d[0] == '8' && d[1] == '6' {
		m, cc = d[2:], true
	}
	if len(m) == MobileLen && m[0] == '1' && m[1] >= '3' && m[1] <= '9' {
		switch {
		case groups == 1:
			return Phone
		case !cc && groups == 3 && gl[0] == 3 && gl[1] == 4 && gl[2] == 4:
			return Phone
		case cc && groups == 4 && gl[0] == 2 && gl[1] == 3 && gl[2] == 4 && gl[3] == 4:
			return Phone
		case cc && groups == 2 && gl[0] == 2 && gl[1] == 11:
			return Phone
		}
	}
	if plus {
		return None
	}
	// Landline: 0 + area code + number.
	if d[0] == '0' && d[1] != '0' && n >= MinLandlineLen && n <= MaxLandlineLen {
		switch {
		case groups == 1 && !paren && n >= 11:
			return Phone
		case groups == 2 && gl[0] >= 3 && gl[0] <= 4 && int(gl[1]) >= 7 && int(gl[1]) <= 8:
			return Phone
		case groups == 3 && gl[0] >= 3 && gl[0] <= 4 && gl[1] >= 3 && gl[1] <= 4 && gl[2] == 4:
			return Phone
		}
	}
	if paren {
		return None
	}
	// Payment card.
	if n >= MinCardLen && n <= MaxCardLen && d[0] >= '2' && d[0] <= '6' {
		grouped := groups > 1
		if grouped {
			for k, g := range gl {
				if g != 4 && !(k == len(gl)-1 && g >= 1 && g <= 4) {
					return None
				}
			}
			if groups > len(gl) {
				return None
			}
		}
		if Luhn(d) {
			return BankCard
		}
	}
	return None
}
