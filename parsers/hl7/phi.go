package hl7

import (
	"strings"

	"github.com/medtap/medtap/parsers/textscan"
)

// PHI categories: the closed set phi_categories takes its values from. A
// category says what kind of personal information a field held, never what.
const (
	CatName      = "name"       // a person's name (patient, alias, next of kin, guarantor, insured, clinician)
	CatID        = "id"         // a patient identifier assigned by a facility (MRN, visit, account, mother's id)
	CatBirthDate = "birth_date" // date (and time) of birth
	CatSex       = "sex"        // administrative sex
	CatAddress   = "address"    // postal address
	CatPhone     = "phone"      // telephone number (a field of that type, or a number found anywhere)
	CatEmail     = "email"      // e-mail address in a telecommunication field
	CatIDNumber  = "id_number"  // national identity number: SSN, driver's licence, PRC resident ID
	CatInsurance = "insurance"  // insurance plan, policy or insured-party data (IN1, IN2)
	CatCustom    = "z_segment"  // content of a site-defined Z segment, which often carries PHI
)

// catOrder is the order phi_categories lists categories in.
var catOrder = [...]string{CatName, CatID, CatBirthDate, CatSex, CatAddress, CatPhone, CatEmail, CatIDNumber, CatInsurance, CatCustom}

// category is a PHI category as a number: its place in catOrder, plus one;
// noCat is none.
type category uint8

const (
	noCat category = iota
	catName
	catID
	catBirthDate
	catSex
	catAddress
	catPhone
	catEmail
	catIDNumber
	catInsurance
	catCustom
)

// String gives the category's name, one of the Cat constants.
func (c category) String() string {
	if c == noCat || int(c) > len(catOrder) {
		return ""
	}
	return catOrder[c-1]
}

// catBit gives a category's bit in a message's category set.
func catBit(c category) uint16 { return 1 << (c - 1) }

// segKind classifies segments by what the parser takes from them.
type segKind uint8

const (
	segOther segKind = iota
	segMSH
	segMSA
	segERR
	segPID
	segNK1
	segPV1
	segIN1
	segIN2
	segGT1
	segMRG
	segSFT
	segPRT
	segOBX
	segZ
	segFHS // batch and file envelope: FHS, BHS, BTS, FTS
	segBHS
	segBTS
	segFTS
)

func classify(key uint32) segKind {
	n := [3]byte{byte(key >> 16), byte(key >> 8), byte(key)}
	switch string(n[:]) {
	case "MSH":
		return segMSH
	case "MSA":
		return segMSA
	case "ERR":
		return segERR
	case "PID":
		return segPID
	case "NK1":
		return segNK1
	case "PV1":
		return segPV1
	case "IN1":
		return segIN1
	case "IN2":
		return segIN2
	case "GT1":
		return segGT1
	case "MRG":
		return segMRG
	case "SFT":
		return segSFT
	case "PRT":
		return segPRT
	case "OBX":
		return segOBX
	case "FHS":
		return segFHS
	case "BHS":
		return segBHS
	case "BTS":
		return segBTS
	case "FTS":
		return segFTS
	}
	if n[0] == 'Z' {
		return segZ
	}
	return segOther
}

// phiField gives the PHI category of a field by position, noCat when the field
// holds none by definition (it may still hold a phone or ID number, which the
// value scan finds). IN1 and IN2 fields are insurance except the person
// fields named here.
func phiField(k segKind, f int) category {
	switch k {
	case segPID:
		switch f {
		case 2, 3, 4, 18, 21:
			return catID
		case 5, 6, 9:
			return catName
		case 7:
			return catBirthDate
		case 8:
			return catSex
		case 11, 12:
			return catAddress
		case 13, 14:
			return catPhone
		case 19, 20:
			return catIDNumber
		}
	case segNK1:
		switch f {
		case 2, 30:
			return catName
		case 4, 32:
			return catAddress
		case 5, 6, 31:
			return catPhone
		case 16:
			return catBirthDate
		case 15:
			return catSex
		case 33:
			return catID
		case 37:
			return catIDNumber
		}
	case segPV1:
		switch f {
		case 7, 8, 9, 17:
			return catName
		}
	case segGT1:
		switch f {
		case 3, 4:
			return catName
		case 5:
			return catAddress
		case 6, 7:
			return catPhone
		case 8:
			return catBirthDate
		case 9:
			return catSex
		case 12:
			return catIDNumber
		}
	case segMRG:
		switch f {
		case 1, 2, 3, 4, 5, 6:
			return catID
		case 7:
			return catName
		}
	case segIN1:
		switch f {
		case 1:
			return noCat
		case 16:
			return catName
		case 18:
			return catBirthDate
		case 19:
			return catAddress
		case 43:
			return catSex
		}
		return catInsurance
	case segIN2:
		switch f {
		case 1:
			return catID
		case 2:
			return catIDNumber
		}
		return catInsurance
	case segZ:
		if f > 1 {
			return catCustom
		}
	}
	return noCat
}

// scanned says whether a segment's values are scanned for phone and
// resident ID numbers: everything but the header, acknowledgement and
// envelope segments and the device identity fields, which are not PHI.
func scanned(k segKind, f int) bool {
	switch k {
	case segMSH, segMSA, segERR, segFHS, segBHS, segBTS, segFTS, segSFT, segPRT:
		return false
	case segOBX:
		return f != 18
	}
	return true
}

// residentIDLen is the length of a PRC resident identity card number (GB
// 11643-1999); the check lives in the textscan package, shared by every
// text parser.
const residentIDLen = textscan.ResidentIDLen

// residentIDWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11, and
// residentIDCheck maps the weighted sum mod 11 to the check character (the
// tests build valid numbers with them).
var residentIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const residentIDCheck = "10X98765432"

// validResidentID reports whether b (18 bytes) is a well-formed PRC
// resident ID: plausible region and birth date, correct check character.
func validResidentID(b []byte) bool { return textscan.ValidResidentID(b) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

// numberHit is a phone or resident ID number found in a value.
type numberHit struct {
	cat        category
	start, end int
}

// scanNumbers finds PRC resident ID numbers and phone numbers in a raw
// value and calls hit for each. Values without a run of digits long
// enough to be one are passed over by a word-at-a-time filter.
func scanNumbers(v []byte, hit func(numberHit)) {
	if mayHoldNumber(v) {
		scanNumbersAll(v, hit)
	}
}

// scanNumbersAll is scanNumbers without the filter. A resident ID is 17
// digits and a check character bounded by non-alphanumerics. A phone
// number is either a bare 11-digit PRC mobile number (1[3-9]...) with an
// optional 86 or +86 prefix, or a run of 10 to 15 digits in at least two
// groups split by spaces, hyphens or parentheses, one group of 2 to 4
// digits, the first of at most 4 and none over 8, optionally led by '+':
// "+86 10 5555 0100", "(407)939-5555", "010-55550100". Dates, times, OIDs
// (dotted) and plain long numbers do not match. It does not allocate.
func scanNumbersAll(v []byte, hit func(numberHit)) {
	for i := 0; i < len(v); {
		c := v[i]
		if !isDigit(c) && c != '+' && c != '(' {
			i++
			continue
		}
		if i > 0 && (isAlnum(v[i-1]) || v[i-1] == '.') {
			// In the middle of a word or a dotted number: skip the run.
			i++
			for i < len(v) && (isAlnum(v[i]) || v[i] == '.') {
				i++
			}
			continue
		}
		// Resident ID: 17 digits + check, bounded.
		if i+residentIDLen <= len(v) && validResidentID(v[i:i+residentIDLen]) &&
			(i+residentIDLen == len(v) || !isAlnum(v[i+residentIDLen])) {
			hit(numberHit{catIDNumber, i, i + residentIDLen})
			i += residentIDLen
			continue
		}
		// Phone: the longest run of digits and separators.
		j, digits, groups, group, short, first, long := i, 0, 0, 0, false, 0, false
		for j < len(v) {
			c := v[j]
			if isDigit(c) {
				digits++
				group++
				j++
				continue
			}
			if c == '+' && j == i {
				j++
				continue
			}
			if c == ' ' || c == '-' || c == '(' || c == ')' {
				if group > 0 {
					groups++
					if group >= 2 && group <= 4 {
						short = true
					}
					if groups == 1 {
						first = group
					}
					long = long || group > 8
					group = 0
				}
				j++
				continue
			}
			break
		}
		end := j
		for end > i && !isDigit(v[end-1]) {
			end--
		}
		if group > 0 {
			groups++
			if group >= 2 && group <= 4 {
				short = true
			}
			long = long || group > 8
		}
		bounded := end == len(v) || !(isAlnum(v[end]) || v[end] == '.')
		switch {
		case !bounded:
		case groups == 1 && digits == 11 && v[firstDigit(v, i)] == '1' && isMobile2(v[firstDigit(v, i)+1]):
			hit(numberHit{catPhone, i, end})
		case groups == 1 && digits == 13 && mobileWith86(v[i:end]):
			hit(numberHit{catPhone, i, end})
		case groups >= 2 && digits >= 10 && digits <= 15 && short && first <= 4 && !long:
			hit(numberHit{catPhone, i, end})
		}
		if j == i {
			j++
		}
		i = j
	}
}

func firstDigit(v []byte, i int) int {
	for i < len(v) && !isDigit(v[i]) {
		i++
	}
	if i == len(v) {
		return len(v) - 1
	}
	return i
}

func isMobile2(c byte) bool { return c >= '3' && c <= '9' }

// mobileWith86 matches 86 or +86 then an 11-digit mobile number, no separators.
func mobileWith86(v []byte) bool {
	if len(v) > 0 && v[0] == '+' {
		v = v[1:]
	}
	return len(v) == 13 && v[0] == '8' && v[1] == '6' && v[2] == '1' && isMobile2(v[3])
}

// ScanNumbers finds PRC resident ID numbers (category CatIDNumber) and
// phone numbers (CatPhone) in a raw value, as the HL7 value scan does, and
// calls hit with each one's category and byte range. It does not allocate.
// The ASTM parser shares it.
func ScanNumbers(v []byte, hit func(cat string, start, end int)) {
	scanNumbers(v, func(h numberHit) { hit(h.cat.String(), h.start, h.end) })
}

// segEntry is a standard segment name: its bytes (key), kind, and its
// place in segNames. 8 bytes, so that the table (2 KB) stays in cache.
type segEntry struct {
	key  uint32
	kind segKind
	idx  uint8
}

// segNames holds the standard segment names end to end: name i is
// segNames[3*i : 3*i+3], a string made without allocating.
var segNames = strings.Join(stdSegmentNames, "")

// segTable finds standard segment names by their three bytes without
// hashing a string: open addressing on the bytes as a number.
var segTable = func() (t [256]segEntry) {
	if len(stdSegmentNames) > 200 {
		panic("hl7: segTable too small")
	}
	for i, n := range stdSegmentNames {
		key := uint32(n[0])<<16 | uint32(n[1])<<8 | uint32(n[2])
		h := segSlot(key)
		for t[h].key != 0 {
			h = (h + 1) & 255
		}
		t[h] = segEntry{key, classify(key), uint8(i)}
	}
	return t
}()

func segSlot(key uint32) uint32 { return (key * 0x9E3779B1) >> 24 }

// lookupSegment gives the entry of a standard segment name, or nil.
func lookupSegment(key uint32) *segEntry {
	for h := segSlot(key); ; h = (h + 1) & 255 {
		e := &segTable[h]
		if e.key == key {
			return e
		}
		if e.key == 0 {
			return nil
		}
	}
}

// name gives the entry's segment name.
func (e *segEntry) name() string { return segNames[3*int(e.idx) : 3*int(e.idx)+3] }
