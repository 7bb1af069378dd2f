package ftp

import (
	"bytes"
	"strconv"
	"time"

	"github.com/medtap/medtap/parsers/internal/filename"
	"github.com/medtap/medtap/parsers/internal/lines"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/textscan"
)

// Limits.
const (
	// MaxLine is the longest control line kept; longer lines are cut
	// (line_too_long, counted once per direction).
	MaxLine = 1024
	// MaxTransfers bounds the transfers listed in a Session.
	MaxTransfers = 64
	// MaxExtLen bounds a file extension kept.
	MaxExtLen = filename.MaxExtLen
	// MaxUserLen bounds the user name kept for detection.
	MaxUserLen = 128
)

// Factory is the registry entry of the FTP parser.
var Factory = parser.Factory{
	Name:      "ftp",
	Transport: parser.TCP,
	Ports:     []uint16{21},
	Probe:     probe,
	New:       newStream,
}

// probe matches a server greeting "220" whose first line names FTP (every
// common server does: vsFTPd, ProFTPD, Pure-FTPd, FileZilla, Microsoft FTP
// Service, pyftpdlib), or a client's first command USER, AUTH, FEAT, SYST
// or OPTS. A "220" banner without "ftp" (an SMTP server's) is not FTP.
func probe(dir parser.Direction, b []byte) parser.Verdict {
	if dir == parser.ToClient || (len(b) > 0 && b[0] == '2') {
		const g = "220"
		n := min(len(b), len(g))
		if string(b[:n]) != g[:n] {
			return probeClient(b)
		}
		if len(b) < 4 {
			return parser.NeedMore
		}
		if b[3] != ' ' && b[3] != '-' {
			return parser.NoMatch
		}
		eol := bytes.IndexByte(b, '\n')
		line := b
		if eol >= 0 {
			line = b[:eol]
		}
		for i := 4; i+3 <= len(line); i++ {
			if line[i]|0x20 == 'f' && line[i+1]|0x20 == 't' && line[i+2]|0x20 == 'p' {
				return parser.Match
			}
		}
		if eol < 0 {
			return parser.NeedMore
		}
		return parser.NoMatch
	}
	return probeClient(b)
}

var firstCommands = [...]string{"USER ", "AUTH ", "FEAT\r", "SYST\r", "OPTS "}

func probeClient(b []byte) parser.Verdict {
	need := false
	for _, c := range firstCommands {
		n := min(len(b), len(c))
		if string(upper4(b[:n])) == c[:n] {
			if n == len(c) {
				return parser.Match
			}
			need = true
		}
	}
	if need {
		return parser.NeedMore
	}
	return parser.NoMatch
}

// upper4 upper-cases the first four bytes in a copy on the stack.
func upper4(b []byte) []byte {
	var a [5]byte
	n := copy(a[:], b)
	for i := 0; i < n && i < 4; i++ {
		if a[i] >= 'a' && a[i] <= 'z' {
			a[i] -= 32
		}
	}
	return a[:n]
}

var knownVerbs = map[string]bool{
	"USER": true, "PASS": true, "ACCT": true, "CWD": true, "CDUP": true, "SMNT": true, "REIN": true, "QUIT": true,
	"PORT": true, "PASV": true, "TYPE": true, "STRU": true, "MODE": true, "RETR": true, "STOR": true, "STOU": true,
	"APPE": true, "ALLO": true, "REST": true, "RNFR": true, "RNTO": true, "ABOR": true, "DELE": true, "RMD": true,
	"MKD": true, "PWD": true, "LIST": true, "NLST": true, "SITE": true, "SYST": true, "STAT": true, "HELP": true,
	"NOOP": true, "AUTH": true, "ADAT": true, "PBSZ": true, "PROT": true, "CCC": true, "MIC": true, "CONF": true,
	"ENC": true, "FEAT": true, "OPTS": true, "EPRT": true, "EPSV": true, "MDTM": true, "SIZE": true, "MLST": true,
	"MLSD": true, "XPWD": true, "XCWD": true, "XMKD": true, "XRMD": true, "LANG": true, "HOST": true,
}

type stream struct {
	em       parser.Emitter
	ln       [2]lines.Buf
	longSeen [2]bool
	ev       Session
	scan     textscan.Collector
	last     string // last command verb awaiting its final reply
	xfer     int    // index+1 of the transfer awaiting its final reply
	tls      bool   // AUTH accepted: the rest is encrypted
	closed   bool
}

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	s := &stream{em: em}
	s.ln[0].Max, s.ln[1].Max = MaxLine, MaxLine
	return s
}

func (s *stream) anomaly(ts time.Time, dir parser.Direction, code string, length, limit int64) {
	s.em.Emit(ts, &parser.Anomaly{Source: "ftp", Code: code, Direction: dir.String(), Length: length, Limit: limit})
}

// Feed implements parser.Stream.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	dir &= 1
	if s.tls {
		return
	}
	s.ln[dir].Feed(data, func(line []byte, long bool) bool {
		if long && !s.longSeen[dir] {
			s.longSeen[dir] = true
			s.anomaly(ts, dir, "line_too_long", 0, MaxLine)
		}
		if dir == parser.ToServer {
			s.command(line)
		} else {
			s.reply(line)
		}
		return !s.tls
	})
}

func (s *stream) command(line []byte) {
	verb, arg := line, []byte(nil)
	if sp := bytes.IndexByte(line, ' '); sp >= 0 {
		verb, arg = line[:sp], line[sp+1:]
	}
	if len(verb) > 4 {
		verb = verb[:0]
	}
	var vb [4]byte
	v := vb[:copy(vb[:], verb)]
	for i := range v {
		if v[i] >= 'a' && v[i] <= 'z' {
			v[i] -= 32
		}
	}
	name := "other"
	if knownVerbs[string(v)] {
		name = string(v)
	}
	if s.ev.Commands == nil {
		s.ev.Commands = map[string]int{}
	}
	s.ev.Commands[name]++
	s.last = name
	switch name {
	case "USER":
		s.ev.UserPresent = true
		u := arg
		if len(u) > MaxUserLen {
			u = u[:MaxUserLen]
		}
		s.ev.User = string(u)
		lu := string(bytes.ToLower(u))
		s.ev.Anonymous = lu == "anonymous" || lu == "ftp"
		return
	case "PASS":
		// The password is not looked at.
		s.ev.PasswordPresent = true
		return
	case "AUTH":
		a := arg
		if len(a) > 8 {
			a = a[:8]
		}
		s.ev.AuthTLS = string(bytes.ToUpper(a))
	case "STOR", "RETR", "APPE", "STOU":
		if len(s.ev.Transfers) < MaxTransfers {
			s.ev.Transfers = append(s.ev.Transfers, Transfer{Command: name, Extension: filename.Extension(arg)})
			s.xfer = len(s.ev.Transfers)
		} else {
			s.xfer = 0
		}
	}
	s.scan.Scan("command", arg)
}

// reply handles one server line: "NNN text" ends a reply, "NNN-text"
// starts a multi-line one, other lines continue it.
func (s *stream) reply(line []byte) {
	if len(line) < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2]) || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		s.scan.Scan("reply", line)
		return
	}
	code, _ := strconv.Atoi(string(line[:3]))
	text := line[min(4, len(line)):]
	final := len(line) == 3 || line[3] == ' '
	if code == 220 && s.ev.Banner == "" {
		s.ev.Banner = parser.Printable(text)
	} else {
		s.scan.Scan("reply", text)
	}
	if !final || code < 200 {
		return
	}
	if s.ev.Replies == nil {
		s.ev.Replies = map[string]int{}
	}
	s.ev.Replies[string(line[0])+"xx"]++
	switch {
	case code == 230:
		s.ev.LoginResult = "success"
	case code == 530 && (s.last == "PASS" || s.last == "USER"):
		s.ev.LoginResult = "failed"
	case code == 234 && s.last == "AUTH":
		s.ev.TLSAccepted = true
		s.tls = true
	}
	if s.xfer > 0 {
		s.ev.Transfers[s.xfer-1].Reply = code
		s.xfer = 0
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Gap implements parser.Stream: the partial line is dropped and reading
// goes on at the next line.
func (s *stream) Gap(dir parser.Direction, missing int, ts time.Time) {
	dir &= 1
	if s.tls {
		return
	}
	s.anomaly(ts, dir, "gap", int64(missing), 0)
	s.ln[dir].Reset()
	// The next bytes start mid-line: discard up to the next LF.
	s.skipToLF(dir)
}

// skipToLF makes the line buffer discard up to the next LF.
func (s *stream) skipToLF(dir parser.Direction) {
	filler := make([]byte, MaxLine+1)
	s.ln[dir].Feed(filler, nil)
}

// Close implements parser.Stream.
func (s *stream) Close(_ parser.CloseReason, ts time.Time) {
	if s.closed {
		return
	}
	s.closed = true
	if s.ev.Banner == "" && len(s.ev.Commands) == 0 {
		return
	}
	ev := s.ev
	ev.PHI, ev.PHIValues = s.scan.Take()
	ev.PHICategories = ev.PHI.Categories()
	s.em.Emit(ts, &ev)
}
