package framing

import (
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// frame handles one complete frame fr (unescaped, delimiters included) of
// wire bytes on the wire, starting at ds.start: checksum, handshake, and an
// event when it carries identity, personal data or a command. Without an
// event it does not allocate.
func (s *stream) frame(ds *dirState, fr []byte, wire int64, ts time.Time) {
	d := s.d
	dir := int8(ds.dir)
	s.frames[ds.dir&1]++
	s.bytes[ds.dir&1] += wire
	ckErr := false
	if d.sum != nil {
		ok, fits := d.sum.verify(fr)
		if !ok {
			ckErr = true
			s.ckErrs++
			if fits {
				s.anomaly(ds, codeBadChecksum, ds.start, wire, 0, ts)
			} else {
				s.anomaly(ds, codeFrameTooShort, ds.start, wire, int64(d.sum.minFrame), ts)
			}
		}
	}
	var cc condCache
	data := false
	if h := d.hs; h != nil && !s.auth && !ckErr {
		switch {
		case h.auth.eval(fr, dir, &cc):
			s.auth = true
		case h.allowed != nil && h.allowed.eval(fr, dir, &cc):
		default:
			data = true
			if !s.dataBefore {
				s.dataBefore = true
				s.anomaly(ds, codeDataBeforeAuth, ds.start, wire, 0, ts)
			}
		}
	}
	for _, f := range d.triggers {
		if f.re == nil {
			if !f.present(fr, dir, &cc) {
				continue
			}
		} else if f.when != nil && !f.when.eval(fr, dir, &cc) || !f.regexMatches(fr) {
			continue
		}
		s.emitFrame(ds, fr, wire, ckErr, data, &cc, ts)
		return
	}
}

// emitFrame decodes the frame's reported fields into a Frame event.
func (s *stream) emitFrame(ds *dirState, fr []byte, wire int64, ckErr, data bool, cc *condCache, ts time.Time) {
	d := s.d
	dir := int8(ds.dir)
	ev := &Frame{
		Kind: "frame", Protocol: d.name, Direction: ds.dir.String(),
		Offset: ds.start, Length: wire, ChecksumError: ckErr,
		DataBeforeAuthentication: data,
	}
	if d.hs != nil {
		ev.Auth = "pending"
		if s.auth {
			ev.Auth = "authenticated"
		}
	}
	var id Identity
	var cats uint16
	for _, f := range d.fields {
		if f.role == roleNone || f.when != nil && !f.when.eval(fr, dir, cc) {
			continue
		}
		var v string
		var ok bool
		if f.re != nil {
			v, ok = f.regexText(fr)
		} else {
			v, ok = f.text(fr)
		}
		if !ok {
			continue
		}
		switch f.role {
		case roleIdentity:
			*id.slot(f.idKey) = v
		case rolePHI:
			cats |= f.cat
			ev.PHIFields = append(ev.PHIFields, f.name)
			ev.PHI = append(ev.PHI, PHIValue{Field: f.name, Category: catName(f.cat), Value: v})
		case roleCommand:
			ev.Commands = append(ev.Commands, Command{Field: f.name, Name: v})
			s.countCommand(v)
		case roleReport:
			if ev.Values == nil {
				ev.Values = map[string]string{}
			}
			ev.Values[f.name] = v
		}
	}
	if id.empty() && cats == 0 && len(ev.Commands) == 0 {
		return
	}
	if !id.empty() {
		ev.Identity = &id
		s.ident.merge(&id)
	}
	ev.PHICategories = catList(cats)
	s.cats |= cats
	s.em.Emit(ts, ev)
}

func catName(bit uint16) string {
	for i, c := range catOrder {
		if bit == 1<<i {
			return c
		}
	}
	return ""
}

func (s *stream) countCommand(name string) {
	for i := range s.cmds {
		if s.cmds[i].Name == name {
			s.cmds[i].Count++
			return
		}
	}
	if len(s.cmds) >= MaxSessionCommands {
		name = "other"
		for i := range s.cmds {
			if s.cmds[i].Name == name {
				s.cmds[i].Count++
				return
			}
		}
	}
	s.cmds = append(s.cmds, CommandCount{Name: name, Count: 1})
}

// ---- probe ----

// probe is the definition's parser.Factory.Probe. With a content match it
// checks the magic bytes and the regex; without, it needs a whole first
// frame whose sync bytes and checksum verify. It does not allocate.
func (d *def) probe(dir parser.Direction, b []byte) parser.Verdict {
	if d.matchDir >= 0 && int8(dir) != d.matchDir {
		return parser.NoMatch
	}
	if len(b) > parser.MaxProbeBytes {
		b = b[:parser.MaxProbeBytes]
	}
	final := len(b) >= parser.MaxProbeBytes
	need := false
	if d.hasMatch {
		for i, c := range d.magic {
			j := d.magicOff + i
			if j >= len(b) {
				need = true
				break
			}
			if b[j] != c {
				return parser.NoMatch
			}
		}
		if d.re != nil && !d.re.Match(b[:min(len(b), d.regexWindow)]) {
			if len(b) >= d.regexWindow {
				return parser.NoMatch
			}
			need = true
		}
	} else {
		var tmp [parser.MaxProbeBytes]byte
		switch d.probeFrame(b, tmp[:0]) {
		case parser.NoMatch:
			return parser.NoMatch
		case parser.NeedMore:
			need = true
		}
	}
	if need {
		if final {
			return parser.NoMatch
		}
		return parser.NeedMore
	}
	return parser.Match
}

// probeFrame verifies the first frame in b, unescaping a delimited frame
// into tmp.
func (d *def) probeFrame(b, tmp []byte) parser.Verdict {
	var fr []byte
	if d.kind != kindDelim {
		total, st := d.header(b)
		switch {
		case st == hdrShort:
			return parser.NeedMore
		case st != hdrOK || total > d.maxFrame:
			return parser.NoMatch
		case total > parser.MaxProbeBytes:
			// Too long to verify a checksum: the sync bytes must do.
			if d.sum == nil {
				return parser.Match
			}
			return parser.NoMatch
		case total > len(b):
			return parser.NeedMore
		}
		fr = b[:total]
	} else {
		var v parser.Verdict
		if fr, v = d.firstDelimited(b, tmp); v != parser.Match {
			return v
		}
	}
	if d.sum != nil && !d.sum.verifyLocal(fr) {
		return parser.NoMatch
	}
	return parser.Match
}

// firstDelimited unescapes the first delimited frame of b into tmp (whose
// capacity bounds it).
func (d *def) firstDelimited(b, tmp []byte) ([]byte, parser.Verdict) {
	i := 0
	for i < len(b) && d.idleByte[b[i]] {
		i++
	}
	if i == len(b) {
		return nil, parser.NeedMore
	}
	for j, c := range d.start {
		if i+j >= len(b) {
			return nil, parser.NeedMore
		}
		if b[i+j] != c {
			return nil, parser.NoMatch
		}
	}
	fr := append(tmp[:0], d.start...)
	var tail uint64
	tailN := 0
	esc := false
	for i += len(d.start); i < len(b); i++ {
		c := b[i]
		if len(fr) == cap(fr) || len(fr) >= d.maxFrame {
			return nil, parser.NoMatch
		}
		switch {
		case esc:
			esc, tailN = false, 0
			fr = append(fr, c^d.escXor)
			continue
		case int(c) == d.escape:
			esc = true
			continue
		}
		fr = append(fr, c)
		tail = tail<<8 | uint64(c)
		tailN = min(tailN+1, 8)
		for _, e := range d.endDelims {
			if !e.in(tail, tailN) {
				continue
			}
			if len(fr) == len(d.start)+e.n {
				return nil, parser.NoMatch // an empty frame proves nothing
			}
			if i+d.trailer >= len(b) {
				return nil, parser.NeedMore
			}
			if len(fr)+d.trailer > cap(fr) {
				return nil, parser.NoMatch
			}
			return append(fr, b[i+1:i+1+d.trailer]...), parser.Match
		}
	}
	return nil, parser.NeedMore
}
