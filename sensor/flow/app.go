package flow

import (
	"math"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// app is a flow's application layer: probing first, then the parser.
type app struct {
	state   appState
	factory int // index into the table's parsers once matched
	stream  parser.Stream
	env     *parser.Env

	// While probing, each direction's bytes are kept (up to
	// parser.MaxProbeBytes) so the chosen parser sees the stream from its
	// first byte. dropped counts bytes that did not fit.
	probe    [2][]byte
	dropped  [2]int
	noMatch  [2]bool
	firstDir parser.Direction
	gotData  bool
	udpTries int

	// The flow record's verdict, fixed when the parser is closed.
	verdict verdict
	// name of the parser that served the flow, kept after it ends.
	named bool

	// Entropy sample of unidentified flows, counted in four interleaved
	// histograms so that runs of one byte value do not serialise on one
	// counter.
	hist  *[4][256]uint16
	histN int
}

type appState uint8

const (
	appProbing appState = iota
	appMatched
	appUnknown
	appFailed // the parser was dropped after a panic
	appEnded  // the connection closed: the parser is closed and freed
)

func (a *app) release() {
	*a = app{}
}

func (f *Flow) appName() string {
	if f.app.named {
		return f.t.cfg.Parsers[f.app.factory].Name
	}
	return "unknown"
}

// appClass is the timeout class for an established flow.
func (f *Flow) appClass() int {
	if f.app.state == appMatched {
		if c := f.t.factoryClass[f.app.factory]; c >= 0 {
			return c
		}
	}
	if f.key.Proto == 6 {
		return classTCP
	}
	if f.key.Proto == 17 {
		return classUDP
	}
	return classOther
}

// deliver passes in-order stream bytes of one direction.
func (a *app) deliver(f *Flow, dir parser.Direction, data []byte, ts time.Time) {
	switch a.state {
	case appMatched:
		a.feed(f, dir, data, ts)
	case appUnknown:
		a.sample(data)
	case appProbing:
		a.probeStream(f, dir, data, ts)
	}
}

func (a *app) gap(f *Flow, dir parser.Direction, n int, ts time.Time) {
	switch a.state {
	case appMatched:
		a.call(f, func() { a.stream.Gap(dir, n, ts) })
	case appProbing:
		// The probe would look at bytes from the middle of a message.
		a.noMatch[dir] = true
		a.dropped[dir] += n
		if a.noMatch[0] && a.noMatch[1] {
			a.giveUp()
		}
	}
}

// close ends the application layer: the parser (if any) is closed, the
// encryption verdict fixed, and the parser's memory given up. Later bytes of
// the flow (retransmissions after a FIN, say) are ignored.
func (a *app) close(f *Flow, reason parser.CloseReason, ts time.Time) {
	if a.state == appEnded {
		return
	}
	if a.state == appProbing && a.gotData {
		// Undecided at the end: a probe still asking for more has seen
		// everything there is. Try once more with what was kept.
		for _, d := range [2]parser.Direction{a.firstDir, a.firstDir.Reverse()} {
			if len(a.probe[d]) > 0 && !a.noMatch[d] {
				if i, v := a.probeAll(f, d, a.probe[d], true); v == parser.Match {
					a.match(f, i, d, nil, ts)
					break
				}
			}
		}
		if a.state == appProbing {
			a.giveUp()
		}
	}
	if a.state == appMatched {
		a.call(f, func() { a.stream.Close(reason, ts) })
	}
	a.verdict = a.encryption()
	*a = app{state: appEnded, factory: a.factory, named: a.named, verdict: a.verdict}
}

// probeStream probes a TCP direction with its first bytes.
func (a *app) probeStream(f *Flow, dir parser.Direction, data []byte, ts time.Time) {
	if !a.gotData {
		a.gotData = true
		a.firstDir = dir
	}
	if a.noMatch[dir] {
		a.keep(dir, data)
		return
	}
	view := data
	var rest []byte
	if buf := a.probe[dir]; len(buf) > 0 {
		room := parser.MaxProbeBytes - len(buf)
		if room > len(data) {
			room = len(data)
		}
		a.probe[dir] = append(buf, data[:room]...)
		view, rest = a.probe[dir], data[room:]
	}
	final := len(view) >= parser.MaxProbeBytes
	probeView := view
	if len(probeView) > parser.MaxProbeBytes {
		probeView = probeView[:parser.MaxProbeBytes]
	}
	i, v := a.probeAll(f, dir, probeView, final)
	switch v {
	case parser.Match:
		if len(a.probe[dir]) > 0 {
			a.match(f, i, dir, rest, ts)
		} else {
			a.match(f, i, dir, data, ts)
		}
	case parser.NeedMore:
		if len(a.probe[dir]) == 0 {
			a.keep(dir, data)
		}
	default:
		a.noMatch[dir] = true
		if len(a.probe[dir]) == 0 {
			a.keep(dir, data)
		} else if len(rest) > 0 {
			a.dropped[dir] += len(rest)
		}
		if a.noMatch[0] && a.noMatch[1] {
			a.giveUp()
		}
	}
}

// keep stores bytes of a direction while the flow is undecided.
func (a *app) keep(dir parser.Direction, data []byte) {
	room := parser.MaxProbeBytes - len(a.probe[dir])
	if room <= 0 {
		a.dropped[dir] += len(data)
		return
	}
	if room > len(data) {
		room = len(data)
	}
	if a.probe[dir] == nil {
		a.probe[dir] = make([]byte, 0, parser.MaxProbeBytes)
	}
	a.probe[dir] = append(a.probe[dir], data[:room]...)
	a.dropped[dir] += len(data) - room
	if len(a.probe[dir]) >= parser.MaxProbeBytes && !a.noMatch[dir] {
		a.noMatch[dir] = true
	}
}

// probeAll asks each factory of the flow's transport, hinted ports first.
// final says no more bytes will come for this view, so NeedMore is NoMatch.
func (a *app) probeAll(f *Flow, dir parser.Direction, view []byte, final bool) (int, parser.Verdict) {
	fs := f.t.cfg.Parsers
	tr := parser.TCP
	if f.key.Proto == 17 {
		tr = parser.UDP
	}
	need := false
	port := f.info.Server.Port()
	for pass := 0; pass < 2; pass++ {
		for i := range fs {
			if fs[i].Transport&tr == 0 {
				continue
			}
			if hintedBy(&fs[i], port) != (pass == 0) {
				continue
			}
			switch fs[i].Probe(dir, view) {
			case parser.Match:
				return i, parser.Match
			case parser.NeedMore:
				need = true
			}
		}
	}
	if need && !final {
		return -1, parser.NeedMore
	}
	return -1, parser.NoMatch
}

func hintedBy(fac *parser.Factory, port uint16) bool {
	for _, p := range fac.Ports {
		if p == port {
			return true
		}
	}
	return false
}

// match starts the parser and replays what probing kept: the first
// direction's bytes first, then the other's, then any bytes that did not
// fit as a gap.
func (a *app) match(f *Flow, idx int, dir parser.Direction, rest []byte, ts time.Time) {
	a.state = appMatched
	a.factory = idx
	a.named = true
	fac := &f.t.cfg.Parsers[idx]
	a.env = f.parserEnv()
	a.call(f, func() { a.stream = fac.New(f.info, f, a.env) })
	if a.state != appMatched {
		return
	}
	if f.class == classTCP || f.class == classUDP {
		f.t.setClass(f, f.appClass())
	}
	if fac.KeepWhole && f.key.Proto == 6 && f.t.cfg.OnKeepWhole != nil {
		f.t.cfg.OnKeepWhole(f.info)
	}
	order := [2]parser.Direction{a.firstDir, a.firstDir.Reverse()}
	for _, d := range order {
		if buf := a.probe[d]; len(buf) > 0 {
			a.feed(f, d, buf, ts)
		}
		if a.dropped[d] > 0 && a.state == appMatched {
			n := a.dropped[d]
			a.call(f, func() { a.stream.Gap(d, n, ts) })
		}
		if d == dir && rest != nil && a.state == appMatched {
			a.feed(f, dir, rest, ts)
		}
	}
	a.probe = [2][]byte{}
	a.dropped = [2]int{}
}

func (a *app) giveUp() {
	a.state = appUnknown
	for d := range a.probe {
		a.sample(a.probe[d])
	}
	a.probe = [2][]byte{}
}

// deliverDatagram handles one UDP datagram.
func (a *app) deliverDatagram(f *Flow, dir parser.Direction, data []byte, ts time.Time) {
	switch a.state {
	case appMatched:
		a.feed(f, dir, data, ts)
		return
	case appUnknown:
		a.sample(data)
		return
	case appEnded, appFailed:
		return
	}
	a.gotData = true
	view := data
	if len(view) > parser.MaxProbeBytes {
		view = view[:parser.MaxProbeBytes]
	}
	if i, v := a.probeAll(f, dir, view, true); v == parser.Match {
		a.firstDir = dir
		a.match(f, i, dir, nil, ts)
		if a.state == appMatched {
			a.feed(f, dir, data, ts)
		}
		return
	}
	a.sample(data)
	a.udpTries++
	if a.udpTries >= maxUDPProbes {
		a.state = appUnknown
	}
}

// feed passes bytes to the parser.
func (a *app) feed(f *Flow, dir parser.Direction, data []byte, ts time.Time) {
	if !f.t.cfg.Recover {
		a.stream.Feed(dir, data, ts)
		return
	}
	a.call(f, func() { a.stream.Feed(dir, data, ts) })
}

// call runs a parser callback, recovering a panic at the parser boundary
// when configured: the panic is counted, reported as a parser_panic anomaly
// (without the panic's text, which may quote payload), and the parser is
// dropped from the flow.
func (a *app) call(f *Flow, fn func()) {
	if !f.t.cfg.Recover {
		fn()
		return
	}
	defer func() {
		if r := recover(); r != nil {
			f.t.Stats.ParserPanics++
			a.state = appFailed
			a.stream = nil
			// The panic's text is not kept: it may quote payload.
			f.Emit(time.Unix(0, f.last), &parser.Anomaly{Source: f.t.cfg.Parsers[a.factory].Name, Code: "parser_panic"})
		}
	}()
	fn()
}

// parserEnv is what a parser of this flow gets beyond the flow and the
// emitter.
func (f *Flow) parserEnv() *parser.Env {
	return &parser.Env{ProbeInner: f.probeInner, Local: &f.t.local}
}

// probeInner lets a parser find an inner parser for bytes it carries.
func (f *Flow) probeInner(dir parser.Direction, first []byte) (parser.Stream, parser.Verdict) {
	i, v := f.app.probeAll(f, dir, first, len(first) >= parser.MaxProbeBytes)
	if v != parser.Match {
		return nil, v
	}
	fac := &f.t.cfg.Parsers[i]
	return fac.New(f.info, f, f.parserEnv()), parser.Match
}

// sample adds bytes to the entropy sample of an unidentified flow.
func (a *app) sample(data []byte) {
	if a.histN >= EntropySample || len(data) == 0 {
		return
	}
	if a.hist == nil {
		a.hist = new([4][256]uint16)
	}
	n := min(EntropySample-a.histN, len(data))
	d, h := data[:n], a.hist
	for len(d) >= 4 {
		h[0][d[0]]++
		h[1][d[1]]++
		h[2][d[2]]++
		h[3][d[3]]++
		d = d[4:]
	}
	for _, b := range d {
		h[0][b]++
	}
	a.histN += n
	if a.histN == EntropySample {
		// The sample is complete: keep the verdict, not the counts.
		a.verdict = a.entropyVerdict()
		a.hist = nil
	}
}

// Entropy thresholds: a sample needs minEntropySample bytes, and counts as
// encrypted (or compressed) above highEntropyShare of the most entropy that
// sample size can show.
const (
	minEntropySample = 256
	highEntropyShare = 0.85
)

// cLog2c[c] is c·log2(c) for every count a sample can hold.
var cLog2c = func() (t [EntropySample + 1]float64) {
	for c := 2; c <= EntropySample; c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return t
}()

// verdict is whether a flow's payload is encrypted, and how that is known.
type verdict struct {
	encrypted bool
	basis     string
	entropy   float64
}

// encryption works out the flow record's verdict.
func (a *app) encryption() verdict {
	if a.state == appEnded {
		return a.verdict
	}
	if a.state == appMatched {
		if v, ok := a.stream.(parser.EncryptionVerdict); ok {
			if enc, known := v.Encrypted(); known {
				return verdict{enc, "parser", 0}
			}
		}
		return verdict{false, "parser", 0}
	}
	if a.histN == EntropySample {
		return a.verdict
	}
	if a.hist == nil || a.histN == 0 {
		return verdict{false, "none", 0}
	}
	return a.entropyVerdict()
}

// entropyVerdict guesses from the byte entropy of the sample.
func (a *app) entropyVerdict() verdict {
	// H = log2(n) - Σ c·log2(c) / n, with c·log2(c) from a table.
	n := float64(a.histN)
	sum := 0.0
	for b := 0; b < 256; b++ {
		sum += cLog2c[int(a.hist[0][b])+int(a.hist[1][b])+int(a.hist[2][b])+int(a.hist[3][b])]
	}
	h := math.Log2(n) - sum/n
	h = math.Round(h*1000) / 1000
	if a.histN < minEntropySample {
		return verdict{false, "entropy_sample_too_small", h}
	}
	maxH := math.Min(8, math.Log2(n))
	return verdict{h >= highEntropyShare*maxH, "entropy", h}
}
