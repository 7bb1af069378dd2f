package telnet

import (
	"bytes"
	"strconv"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/textscan"
)

// Limits.
const (
	// MaxLine is the longest text line kept per direction; past it the
	// older half of the line is scanned and dropped, so the tail (where a
	// prompt is) stays.
	MaxLine = 512
	// MaxSubneg bounds an option subnegotiation (IAC SB ... IAC SE)
	// skipped; a longer one is subnegotiation_too_long and the parser
	// leaves it, looking for IAC SE.
	MaxSubneg = 4096
	// MaxOptions bounds the options listed.
	MaxOptions = 32
)

// Telnet commands.
const (
	cmdSE   = 240
	cmdSB   = 250
	cmdWILL = 251
	cmdWONT = 252
	cmdDO   = 253
	cmdDONT = 254
	cmdIAC  = 255
)

// Options with names.
const (
	optEncrypt  = 38
	optStartTLS = 46
)

var optionNames = map[byte]string{
	0: "binary", 1: "echo", 3: "suppress_go_ahead", 5: "status", 6: "timing_mark", 24: "terminal_type",
	31: "naws", 32: "terminal_speed", 33: "remote_flow_control", 34: "linemode", 35: "x_display_location",
	36: "environ", 37: "authentication", optEncrypt: "encryption", 39: "new_environ", optStartTLS: "start_tls",
}

func optionName(o byte) string {
	if n, ok := optionNames[o]; ok {
		return n
	}
	return "option_" + strconv.Itoa(int(o))
}

// Factory is the registry entry of the Telnet parser.
var Factory = parser.Factory{
	Name:      "telnet",
	Transport: parser.TCP,
	Ports:     []uint16{23, 2323},
	Probe:     probe,
	New:       newStream,
}

// probe matches a first option negotiation: IAC, WILL/WONT/DO/DONT, an
// option; both telnetd and telnet clients start with one. A server that
// sends only text (no negotiation) is not recognised by content.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) >= 1 && b[0] != cmdIAC {
		return parser.NoMatch
	}
	if len(b) >= 2 && (b[1] < cmdWILL || b[1] > cmdDONT) {
		return parser.NoMatch
	}
	if len(b) < 3 {
		return parser.NeedMore
	}
	return parser.Match
}

type ist uint8

const (
	stData ist = iota
	stIAC
	stOpt // after WILL/WONT/DO/DONT
	stSB
	stSBIAC
)

type prompt uint8

const (
	noPrompt prompt = iota
	loginPrompt
	passwordPrompt
)

type dirState struct {
	st      ist
	verb    byte
	sbLen   int
	line    []byte
	lastCR  bool
	prompt  prompt        // client: the prompt in effect for the line being typed
	inLine  bool          // client: a line is being typed
	offered [256 / 8]byte // options this side said WILL or DO to
}

type stream struct {
	em      parser.Emitter
	d       [2]dirState
	ev      Session
	seen    [256 / 8]byte
	scan    textscan.Collector
	awaitOK bool // a password was answered: look for a failure line
	sbLong  bool
	closed  bool
}

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	return &stream{em: em}
}

func bit(set *[32]byte, o byte) bool { return set[o/8]&(1<<(o%8)) != 0 }
func setBit(set *[32]byte, o byte)   { set[o/8] |= 1 << (o % 8) }

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	d := &s.d[dir]
	for _, c := range data {
		switch d.st {
		case stData:
			if c == cmdIAC {
				d.st = stIAC
				continue
			}
			s.text(dir, d, c)
		case stIAC:
			switch {
			case c == cmdIAC:
				d.st = stData
				s.text(dir, d, c)
			case c >= cmdWILL && c <= cmdDONT:
				d.st, d.verb = stOpt, c
			case c == cmdSB:
				d.st, d.sbLen = stSB, 0
			default:
				d.st = stData
			}
		case stOpt:
			d.st = stData
			s.option(dir, d, d.verb, c)
		case stSB:
			if c == cmdIAC {
				d.st = stSBIAC
				continue
			}
			d.sbLen++
			if d.sbLen > MaxSubneg {
				if !s.sbLong {
					s.sbLong = true
					s.em.Emit(ts, &parser.Anomaly{Source: "telnet", Code: "subnegotiation_too_long", Direction: dir.String(), Limit: MaxSubneg})
				}
				d.st = stData
			}
		case stSBIAC:
			if c == cmdSE {
				d.st = stData
			} else {
				d.st = stSB
			}
		}
	}
}

// option records a WILL/WONT/DO/DONT.
func (s *stream) option(dir parser.Direction, d *dirState, verb, o byte) {
	if verb != cmdWILL && verb != cmdDO {
		return
	}
	if !bit(&s.seen, o) {
		setBit(&s.seen, o)
		if len(s.ev.Options) < MaxOptions {
			s.ev.Options = append(s.ev.Options, optionName(o))
		}
	}
	setBit(&d.offered, o)
	if o == optEncrypt || o == optStartTLS {
		if bit(&s.d[dir^1].offered, o) {
			s.ev.Encryption = true
		}
	}
}

// text handles one data byte of a direction.
func (s *stream) text(dir parser.Direction, d *dirState, c byte) {
	if c == '\n' || c == '\r' || c == 0 {
		if c == '\r' || !d.lastCR {
			if c != 0 {
				s.endLine(dir, d)
			}
		}
		d.lastCR = c == '\r'
		return
	}
	d.lastCR = false
	if dir == parser.ToServer && !d.inLine {
		d.inLine = true
		d.prompt = promptOf(s.d[parser.ToClient].line)
	}
	if len(d.line) >= MaxLine {
		half := MaxLine / 2
		if d.prompt != passwordPrompt || dir == parser.ToClient {
			s.scan.Scan("text", d.line[:half])
		}
		d.line = append(d.line[:0], d.line[half:]...)
	}
	d.line = append(d.line, c)
}

// endLine handles a complete line.
func (s *stream) endLine(dir parser.Direction, d *dirState) {
	line := d.line
	d.line = d.line[:0]
	if dir == parser.ToClient {
		s.ev.ServerLines++
		if s.awaitOK && failureLine(line) {
			s.ev.LoginFailed = true
			s.awaitOK = false
		}
		s.scan.Scan("text", line)
		return
	}
	s.ev.ClientLines++
	p := d.prompt
	if !d.inLine {
		// An empty line: the prompt is the server's pending text now.
		p = promptOf(s.d[parser.ToClient].line)
	}
	d.inLine = false
	switch p {
	case loginPrompt:
		s.ev.LoginAnswered = true
		if len(line) > 0 {
			s.ev.UserPresent = true
			s.ev.User = string(line)
		}
	case passwordPrompt:
		s.ev.PasswordAnswered = true
		s.awaitOK = true
		return // never scanned, never kept
	}
	s.scan.Scan("text", line)
}

// promptOf classifies the server's unfinished line.
func promptOf(l []byte) prompt {
	l = bytes.TrimRight(l, " \t")
	if len(l) == 0 || l[len(l)-1] != ':' {
		return noPrompt
	}
	var low [24]byte
	tail := l[max(0, len(l)-len(low)):]
	n := copy(low[:], tail)
	t := bytes.ToLower(low[:n])
	switch {
	case bytes.HasSuffix(t, []byte("password:")), bytes.HasSuffix(t, []byte("passcode:")), bytes.HasSuffix(t, []byte("密码:")):
		return passwordPrompt
	case bytes.HasSuffix(t, []byte("login:")), bytes.HasSuffix(t, []byte("username:")), bytes.HasSuffix(t, []byte("user name:")), bytes.HasSuffix(t, []byte("user:")):
		return loginPrompt
	}
	return noPrompt
}

func failureLine(l []byte) bool {
	t := bytes.ToLower(l)
	return bytes.Contains(t, []byte("login incorrect")) || bytes.Contains(t, []byte("login failed")) ||
		bytes.Contains(t, []byte("authentication failed")) || bytes.Contains(t, []byte("access denied"))
}

// Gap implements parser.Stream: the partial line is dropped; option
// decoding restarts in the data state.
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	d := &s.d[dir&1]
	d.line, d.st, d.inLine = d.line[:0], stData, false
	s.em.Emit(ts, &parser.Anomaly{Source: "telnet", Code: "gap", Direction: (dir & 1).String(), Length: int64(missing)})
}

// Close implements parser.Stream.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	if s.closed {
		return
	}
	s.closed = true
	s.ev.LoginPrompt = s.ev.LoginPrompt || s.ev.LoginAnswered
	s.ev.PasswordPrompt = s.ev.PasswordPrompt || s.ev.PasswordAnswered
	// A prompt left unanswered at the end.
	switch promptOf(s.d[parser.ToClient].line) {
	case loginPrompt:
		s.ev.LoginPrompt = true
	case passwordPrompt:
		s.ev.PasswordPrompt = true
	}
	if p := s.d[parser.ToServer].prompt; s.d[parser.ToServer].inLine && p != passwordPrompt {
		s.scan.Scan("text", s.d[parser.ToServer].line)
	}
	ev := s.ev
	ev.PHI, ev.PHIValues = s.scan.Take()
	ev.PHICategories = ev.PHI.Categories()
	s.em.Emit(ts, &ev)
}
