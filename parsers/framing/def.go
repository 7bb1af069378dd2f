package framing

import (
	"regexp"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Limits. Load refuses definitions beyond them (with the line), and the
// streams never buffer more than a definition's max_frame_len per
// direction.
const (
	// MaxDefinitions is the most protocols one Load call (all files
	// together) or the built-ins may define.
	MaxDefinitions = 64
	// MaxFileSize is the largest definition file read.
	MaxFileSize = 1 << 20
	// DefaultMaxFrameLen is a definition's max_frame_len when it sets none;
	// HardMaxFrameLen is the most it may set. A longer frame is skipped in
	// sync without being buffered (frame_too_long).
	DefaultMaxFrameLen = 64 << 10
	HardMaxFrameLen    = 16 << 20
	// MaxFields is the most fields one definition may have.
	MaxFields = 64
	// MaxFieldSize is the most bytes an offset field may span.
	MaxFieldSize = 4096
	// MaxValueLen bounds every value kept from a field (identity, report,
	// command and PHI values), after decoding. Silent.
	MaxValueLen = 256
	// MaxRegexInput bounds how many bytes of a frame a field regex reads
	// (from its range's start). Silent.
	MaxRegexInput = 4096
	// MaxRegexLen bounds a regex's source text.
	MaxRegexLen = 1024
	// MaxDelimiterLen bounds start and end delimiter sequences;
	// MaxEndDelimiters the alternatives of end; MaxTrailer the bytes after
	// the end delimiter.
	MaxDelimiterLen  = 8
	MaxEndDelimiters = 8
	MaxTrailer       = 16
	// MaxSyncLen bounds framing.sync bytes, MaxHeaderOffset the offset of
	// a length field or of sync bytes.
	MaxSyncLen      = 16
	MaxHeaderOffset = 256
	// MaxPorts bounds a definition's port hints.
	MaxPorts = 16
	// MaxValueNames bounds a field's values map.
	MaxValueNames = 256
	// MaxConditionValues bounds a condition's `in` list.
	MaxConditionValues = 64
	// MaxAnomaliesPerCode is how many anomalies of one code one flow
	// emits; the rest are only counted in the session's anomalies.
	MaxAnomaliesPerCode = 8
	// MaxSessionCommands bounds the distinct command names a session
	// counts; further names are counted under "other".
	MaxSessionCommands = 32
	// DefaultRegexWindow is how many first bytes a content-match regex
	// waits for before answering NoMatch.
	DefaultRegexWindow = 64
)

// kind is a framing kind.
type kind uint8

const (
	kindLength kind = iota // length_prefixed
	kindDelim              // delimited
	kindFixed              // fixed
	kindTLV                // tlv
)

// pos is a position in a frame: n bytes from its start, or from its end.
type pos struct {
	n       int
	fromEnd bool
}

// at resolves p in a frame of length l; the result may be out of range.
func (p pos) at(l int) int {
	if p.fromEnd {
		return l - p.n
	}
	return p.n
}

// def is one compiled protocol definition. It is read-only once built and
// shared by every stream and probe of the protocol.
type def struct {
	name      string
	file      string
	line      int
	enabled   bool
	transport parser.Transport
	ports     []uint16
	idle      time.Duration
	maxFrame  int

	// content match
	matchDir    int8 // -1 any, else a parser.Direction
	hasMatch    bool
	magicOff    int
	magic       []byte
	re          *regexp.Regexp
	regexWindow int

	// framing
	kind       kind
	lenOff     int  // length_prefixed/tlv: offset of the length field
	lenSize    int  // 1, 2, 4, 8
	lenBig     bool // big-endian length
	inclHdr    bool // the length counts the header too
	adjust     int  // added to the length value
	fixed      int  // fixed: frame size
	syncOff    int
	sync       []byte
	hdrNeed    int    // bytes needed before a counted frame's header can be checked
	start      []byte // delimited
	startDelim delimiter
	endDelims  []delimiter
	startIsEnd bool     // a closing delimiter also opens the next frame (HDLC-style flags)
	ends       [][]byte // delimited: alternatives
	escape     int      // -1 none
	escXor     byte
	trailer    int
	idleByte   [256]bool
	hasIdle    bool

	// integrity
	sum *checksum

	fields          []*field
	triggers        []*field // identity, PHI and command fields: an event when present
	reports         []*field
	hasRegexTrigger bool

	hs *handshake
}

// checksum is a definition's integrity check.
type checksum struct {
	alg      string
	from, to pos
	at       pos
	size     int  // stored value size in bytes (binary)
	hex      bool // stored as ASCII hex, 2 digits per byte
	big      bool
	minFrame int // shortest frame the check fits in
}

// width is the stored value's length on the wire.
func (c *checksum) width() int {
	if c.hex {
		return 2 * c.size
	}
	return c.size
}

// fieldType is how a field's bytes are decoded.
type fieldType uint8

const (
	ftUint fieldType = iota
	ftString
	ftBytes
	ftBCD
)

// role is what a field is for.
type role uint8

const (
	roleNone     role = iota // only for conditions
	roleIdentity             // device identity: value reported
	rolePHI                  // personal data: category reported, value json:"-"
	roleCommand              // settings-changing command: name reported
	roleReport               // device data: value reported when an event is emitted
)

// charset is a string field's character set.
type charset uint8

const (
	csASCII charset = iota
	csUTF8
	csGB18030
	csLatin1
)

// field is one compiled field.
type field struct {
	name    string
	typ     fieldType
	from    pos
	to      pos  // exclusive end (offset fields: from+size when size was given)
	sized   bool // size given: to is from+size in the same frame end
	size    int
	big     bool
	cs      charset
	re      *regexp.Regexp // regex field: first capture group
	role    role
	idKey   uint8  // identity key index
	cat     uint16 // PHI category bit
	names   map[uint64]string
	when    *cond
	hasWhen bool
	idx     int
}

// span resolves an offset field's bytes in frame fr; ok is false when the
// frame does not hold them.
func (f *field) span(fr []byte) (b []byte, ok bool) {
	a := f.from.at(len(fr))
	var e int
	if f.sized {
		e = a + f.size
	} else {
		e = f.to.at(len(fr))
	}
	if a < 0 || e > len(fr) || a > e {
		return nil, false
	}
	return fr[a:e], true
}

// op is a condition's comparison.
type cond struct {
	id   int  // equal conditions share an id (the per-frame cache's bit)
	dir  int8 // -1 any direction
	f    *field
	nums []uint64
	strs []string
	neg  bool // not_in
}

// handshake is a definition's authentication step.
type handshake struct {
	auth    *cond
	allowed *cond // frames allowed before authentication; nil: only the auth frame
}
