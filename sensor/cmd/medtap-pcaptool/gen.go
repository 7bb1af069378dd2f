package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Traffic kinds.
const (
	kindDICOM = iota
	kindHL7
	kindTLS
	kindHTTP
	nTCPKinds
	kindUDP = nTCPKinds
	nKinds  = nTCPKinds + 1
)

var kindNames = [nKinds]string{"dicom", "hl7", "tls", "http", "udp"}

// genOptions configures one generated capture.
type genOptions struct {
	Size     int64   // target file size in bytes
	Seed     uint64  // same seed, same options: byte-identical output
	Mix      string  // "default" or "dicom"
	Lossy    float64 // fraction of payload-carrying TCP segments to drop
	Checksum bool    // compute TCP/UDP checksums
	Flows    int     // concurrent TCP flows (0: derived from Size)
}

// mix is the share of application bytes per kind plus DICOM tuning.
type mix struct {
	share       [nTCPKinds]float64
	multiFrame  float64 // fraction of DICOM associations with multi-frame objects
	deflate     float64 // fraction of DICOM associations using deflated transfer syntax
	udpPerStep  int     // one UDP event every ~N scheduler steps
	tls13       float64 // fraction of TLS flows negotiating TLS 1.3
	vlanPerMill int     // host pairs (per 1000) whose frames carry an 802.1Q tag
}

func mixByName(name string) (mix, error) {
	switch name {
	case "", "default":
		return mix{share: [nTCPKinds]float64{0.45, 0.15, 0.25, 0.15}, multiFrame: 0.10, udpPerStep: 250, tls13: 0.5, vlanPerMill: 30}, nil
	case "dicom":
		return mix{share: [nTCPKinds]float64{0.85, 0.05, 0.05, 0.05}, multiFrame: 0.40, deflate: 0.25, udpPerStep: 500, tls13: 0.5, vlanPerMill: 30}, nil
	}
	return mix{}, fmt.Errorf("unknown -mix %q (want default or dicom)", name)
}

// genStats is what a generation produced.
type genStats struct {
	Packets, FileBytes, WireBytes uint64
	Flows, KindPackets, KindBytes [nKinds]uint64
	VLANFlows                     uint64
	Associations, DICOMObjects    uint64 // A-ASSOCIATE-RQ count, C-STORE-RQ count
	DeflatedAssociations          uint64
	HL7Messages, HL7On2575        uint64
	TLS12, TLS13                  uint64
	HTTPRequests                  uint64
	UDPDatagrams                  uint64
	Eligible, Dropped             uint64
	Start, End                    time.Time
}

// hostPair is a client/server pair that flows of one kind are opened on.
type hostPair struct {
	kind     int
	cli, srv endpoint // srv.port is the service port
	vlan     uint16
	cliTTL   byte
	srvTTL   byte
	nextPort uint16
	// application identity
	callingAE, calledAE string // DICOM
	sni                 string // TLS
	host                string // HTTP Host
	app, fac            string // HL7 sending application/facility
}

// flow is one TCP connection in progress.
type flow struct {
	kind    int
	pair    *hostPair
	ep      [2]endpoint // 0 client, 1 server
	ttl     [2]byte
	ipid    [2]uint16
	seq     [2]uint32
	win     [2]uint16
	state   uint8
	app     app
	msg     []byte // current application message, being segmented
	off     int    // bytes of msg already sent
	dir     int    // sender of msg
	unacked int    // data segments since the receiver's last ACK
	planned int64  // payload bytes the app planned (before any wind-down)
	sent    int64  // payload bytes sent
}

// app produces the application messages of one connection in order. next
// appends the next message to buf and says which side sends it (0 client,
// 1 server); ok is false once the conversation is over.
//
// left estimates the payload bytes still to come before the conversation
// can end cleanly (the rest of the current DICOM object, TLS exchange or
// HTTP response); wind makes it end at that point.
type app interface {
	next(buf []byte) (out []byte, dir int, ok bool)
	left() int64
	wind()
}

const (
	stSYN = iota
	stSYNACK
	stACK
	stData
	stFIN1
	stFIN2
	stLastACK
	stDone
)

var synOpts = []byte{2, 4, mss >> 8, mss & 0xff, 1, 3, 3, 7, 1, 1, 4, 2} // MSS, NOP, WS 7, NOP, NOP, SACK_PERM

type generator struct {
	opt     genOptions
	mix     mix
	r       *rng
	pw      *pktWriter
	as      *assets
	pairs   [nTCPKinds][]*hostPair
	active  [nTCPKinds][]*flow
	slots   [nTCPKinds]int // open flows kept per kind
	conc    int
	maxFlow int64 // cap on one flow's planned bytes, so small files still mix kinds

	leftEst int64 // sum of the open flows' left(), refreshed now and then
	steps   uint64
	served  [nTCPKinds]uint64 // frame bytes per kind, dropped ones included
	stopped bool

	bufs [][]byte
	st   genStats

	udpBuf  []byte
	udpSrvs [2]endpoint
	ctrlID  uint64
}

// captureStart is the timestamp of the first packet (a Monday morning).
var captureStart = time.Date(2024, 3, 4, 8, 0, 0, 0, time.UTC)

// generate writes a capture to w.
func generate(w io.Writer, opt genOptions) (*genStats, error) {
	mx, err := mixByName(opt.Mix)
	if err != nil {
		return nil, err
	}
	if opt.Size <= 0 {
		return nil, fmt.Errorf("size must be positive")
	}
	g := &generator{opt: opt, mix: mx, r: newRNG(opt.Seed)}
	var d *dropper
	if opt.Lossy > 0 {
		d = newDropper(opt.Lossy, opt.Seed)
	}
	g.pw = newPktWriter(w, uint64(captureStart.UnixMicro()), opt.Checksum, d)
	g.as, err = newAssets(g.r.fork(), &g.pw.usec)
	if err != nil {
		return nil, err
	}
	g.conc = opt.Flows
	if g.conc <= 0 {
		g.conc = int(min(max(opt.Size/(8<<20), 4), 128))
	}
	g.maxFlow = max(opt.Size/8, 64<<10)
	g.buildPairs()
	g.udpBuf = make([]byte, 0, 2048)
	g.st.Start = captureStart
	g.run()
	if err := g.pw.flush(); err != nil {
		return nil, err
	}
	st := &g.st
	st.Packets, st.FileBytes, st.WireBytes = g.pw.packets, g.pw.bytes, g.pw.wire
	st.Eligible, st.Dropped = g.pw.eligible, g.pw.dropped
	st.End = time.UnixMicro(int64(g.pw.usec)).UTC()
	return st, nil
}

func ip4(a, b, c, d int) [4]byte { return [4]byte{byte(a), byte(b), byte(c), byte(d)} }

func macFor(ip [4]byte) [6]byte {
	if ip[0] != 10 { // off-site peer: frames come from/go to the router
		return [6]byte{0x02, 0, 0, 0, 0, 0xfe}
	}
	return [6]byte{0x02, 0x00, ip[0], ip[1], ip[2], ip[3]}
}

func ep(ip [4]byte, port uint16) endpoint { return endpoint{mac: macFor(ip), ip: ip, port: port} }

// hostIP numbers hosts of a subnet 10.net.x.y.
func hostIP(net, i int) [4]byte { return ip4(10, net, i/250, i%250+2) }

// buildPairs lays out ~2000 host pairs: modalities to PACS, interface engines
// to HL7 receivers, workstations to TLS services, clients to web servers.
func (g *generator) buildPairs() {
	r := g.r
	add := func(p *hostPair) {
		p.nextPort = uint16(49152 + r.intn(12000))
		p.cliTTL = 64
		if r.chance(0.4) {
			p.cliTTL = 128
		}
		p.srvTTL = 64
		if p.srv.ip[0] != 10 {
			p.srvTTL = byte(r.between(44, 56))
		}
		if r.intn(1000) < g.mix.vlanPerMill {
			p.vlan = uint16(100 + 10*r.intn(4))
		}
		g.pairs[p.kind] = append(g.pairs[p.kind], p)
	}
	// DICOM: 150 modalities x 4 storage SCPs.
	pacs := []struct {
		ae   string
		ip   [4]byte
		port uint16
	}{
		{"PACS_MAIN", ip4(10, 10, 0, 10), 104},
		{"PACS_ARCHIVE", ip4(10, 10, 0, 11), 104},
		{"CARDIO_PACS", ip4(10, 10, 0, 12), 104},
		{"VNA_STORE", ip4(10, 10, 0, 13), 11112},
	}
	modal := []string{"CT_SCANNER", "CT", "CTSCAN", "SCANNER_CT"}
	for i := range 500 {
		m, s := i%150, pacs[(i/150)%4]
		add(&hostPair{kind: kindDICOM, cli: ep(hostIP(20, m), 0), srv: ep(s.ip, s.port),
			callingAE: fmt.Sprintf("%s_%02d", modal[m%len(modal)], m), calledAE: s.ae})
	}
	// HL7: 100 senders x 3 receivers; most listen on 2575, some on high ports.
	hl7srv := []struct {
		ip   [4]byte
		port uint16
	}{
		{ip4(10, 10, 1, 10), 2575}, {ip4(10, 10, 1, 11), 2575}, {ip4(10, 10, 1, 12), uint16(20000 + r.intn(40000))},
	}
	apps := []string{"SYNTH_HIS", "SYNTH_LIS", "SYNTH_RIS", "SYNTH_EMR", "ADT_FEED"}
	for i := range 300 {
		c, s := i%100, hl7srv[(i/100)%3]
		add(&hostPair{kind: kindHL7, cli: ep(hostIP(30, c), 0), srv: ep(s.ip, s.port),
			app: apps[c%len(apps)], fac: fmt.Sprintf("SYNTH_HOSP_%d", c%7)})
	}
	// TLS: 400 workstations x 2 of 8 services (on-site and off-site).
	tlssrv := []struct {
		ip   [4]byte
		port uint16
		sni  string
	}{
		{ip4(10, 10, 0, 10), 2762, "pacs.hospital.example"},
		{ip4(10, 10, 2, 20), 443, "ehr.hospital.example"},
		{ip4(10, 10, 2, 21), 443, "portal.hospital.example"},
		{ip4(10, 10, 2, 22), 443, "lab.hospital.example"},
		{ip4(203, 0, 113, 10), 443, "updates.vendor.example"},
		{ip4(203, 0, 113, 77), 443, "cloud.imaging.example"},
		{ip4(198, 51, 100, 5), 443, "telemetry.vendor.example"},
		{ip4(198, 51, 100, 42), 443, "api.partner.example"},
	}
	for i := range 800 {
		c, s := i%400, tlssrv[(i%400+(i/400)*3)%len(tlssrv)]
		add(&hostPair{kind: kindTLS, cli: ep(hostIP(40, c), 0), srv: ep(s.ip, s.port), sni: s.sni})
	}
	// HTTP: 200 clients x 2 of 6 servers.
	httpsrv := []struct {
		ip   [4]byte
		port uint16
		host string
	}{
		{ip4(10, 10, 3, 30), 80, "intranet.hospital.example"},
		{ip4(10, 10, 3, 31), 8080, "wado.hospital.example:8080"},
		{ip4(10, 10, 3, 32), 80, "docs.hospital.example"},
		{ip4(192, 0, 2, 80), 80, "mirror.example.org"},
		{ip4(192, 0, 2, 81), 8080, "proxy.example.net:8080"},
		{ip4(192, 0, 2, 99), 80, "www.example.com"},
	}
	for i := range 400 {
		c, s := i%200, httpsrv[(i%200+(i/200)*2)%len(httpsrv)]
		add(&hostPair{kind: kindHTTP, cli: ep(hostIP(50, c), 0), srv: ep(s.ip, s.port), host: s.host})
	}
	g.udpSrvs[0] = ep(ip4(10, 10, 9, 14), 514)
	g.udpSrvs[1] = ep(ip4(10, 10, 9, 53), 53)
}

func (g *generator) getBuf() []byte {
	if n := len(g.bufs); n > 0 {
		b := g.bufs[n-1]
		g.bufs = g.bufs[:n-1]
		return b[:0]
	}
	return make([]byte, 0, 80<<10)
}

func (g *generator) openFlow(k int) {
	p := pick(g.r, g.pairs[k])
	f := &flow{kind: k, pair: p, msg: g.getBuf()}
	f.ep[0], f.ep[1] = p.cli, p.srv
	f.ep[0].port = p.nextPort
	p.nextPort++
	if p.nextPort < 49152 {
		p.nextPort = 49152
	}
	f.ttl = [2]byte{p.cliTTL, p.srvTTL}
	f.ipid = [2]uint16{uint16(g.r.u64()), uint16(g.r.u64())}
	f.seq = [2]uint32{uint32(g.r.u64()), uint32(g.r.u64())}
	f.win = [2]uint16{502, 509}
	fr := g.r.fork()
	switch k {
	case kindDICOM:
		f.app, f.planned = newDICOMApp(g, p, fr)
	case kindHL7:
		f.app, f.planned = newHL7App(g, p, fr)
	case kindTLS:
		f.app, f.planned = newTLSApp(g, p, fr)
	case kindHTTP:
		f.app, f.planned = newHTTPApp(g, p, fr)
	}
	g.leftEst += f.app.left()
	g.st.Flows[k]++
	if p.vlan != 0 {
		g.st.VLANFlows++
	}
	g.active[k] = append(g.active[k], f)
}

// nearEnd reports whether letting every open flow run to its next clean end
// point would reach the target size (frame overhead: ~8% of payload).
func (g *generator) nearEnd() bool {
	return int64(g.pw.vbytes)+g.leftEst+g.leftEst/12 >= g.opt.Size
}

// windDown stops opening flows and makes the open ones end cleanly soon, so
// the file ends near -size with every connection complete.
func (g *generator) windDown() {
	g.stopped = true
	for _, fs := range g.active {
		for _, f := range fs {
			f.app.wind()
		}
	}
}

// run interleaves the flows. Each kind keeps its share of the open slots,
// and each step serves the kind furthest below its share of the frame bytes
// written so far (so the mix holds at any size), then a random open flow of
// that kind for a burst of 1-4 segments.
func (g *generator) run() {
	for k := range nTCPKinds {
		if g.mix.share[k] > 0 {
			g.slots[k] = max(1, int(math.Round(float64(g.conc)*g.mix.share[k])))
		}
	}
	for {
		if !g.stopped && g.steps%256 == 0 {
			g.leftEst = 0
			for _, fs := range g.active {
				for _, f := range fs {
					g.leftEst += f.app.left() + int64(len(f.msg)-f.off)
				}
			}
			if g.nearEnd() {
				g.windDown()
			}
		}
		g.steps++
		for opened := true; opened && !g.stopped; { // one per kind per pass, so small files get every kind
			opened = false
			for k := range nTCPKinds {
				if !g.stopped && len(g.active[k]) < g.slots[k] {
					if g.nearEnd() {
						g.windDown()
						break
					}
					g.openFlow(k)
					opened = true
				}
			}
		}
		k, bestDef := -1, math.Inf(-1)
		var tot float64
		for j := range nTCPKinds {
			tot += float64(g.served[j])
		}
		for j := range nTCPKinds {
			if len(g.active[j]) == 0 {
				continue
			}
			if def := g.mix.share[j]*tot - float64(g.served[j]); def > bestDef {
				k, bestDef = j, def
			}
		}
		if k < 0 {
			return
		}
		fs := g.active[k]
		i := g.r.intn(len(fs))
		f := fs[i]
		pk, wb, vb := g.pw.packets, g.pw.wire, g.pw.vwire
		for n := 1 + g.r.intn(4); n > 0 && f.state != stDone; n-- {
			g.step(f)
		}
		g.st.KindPackets[k] += g.pw.packets - pk
		g.st.KindBytes[k] += g.pw.wire - wb
		g.served[k] += g.pw.vwire - vb
		if f.state == stDone {
			g.bufs = append(g.bufs, f.msg)
			last := len(fs) - 1
			fs[i] = fs[last]
			fs[last] = nil
			g.active[k] = fs[:last]
		}
		if g.r.intn(g.mix.udpPerStep) == 0 {
			pk, wb := g.pw.packets, g.pw.wire
			g.udpEvent()
			g.st.KindPackets[kindUDP] += g.pw.packets - pk
			g.st.KindBytes[kindUDP] += g.pw.wire - wb
		}
	}
}

// seg sends one segment from side d of f.
func (g *generator) seg(f *flow, d int, flags byte, opts, payload []byte) {
	s, o := &f.ep[d], &f.ep[1-d]
	var ack uint32
	if flags&tcpACK != 0 {
		ack = f.seq[1-d]
	}
	win := f.win[d]
	if flags&tcpSYN != 0 {
		win = 64240
	}
	g.pw.tcp(s, o, f.pair.vlan, f.ipid[d], f.ttl[d], f.seq[d], ack, flags, win, opts, payload)
	f.ipid[d]++
	f.seq[d] += uint32(len(payload))
	if flags&(tcpSYN|tcpFIN) != 0 {
		f.seq[d]++
	}
}

// step advances f by one segment (plus the receiver's ACK every second
// data segment).
func (g *generator) step(f *flow) {
	switch f.state {
	case stSYN:
		g.seg(f, 0, tcpSYN, synOpts, nil)
	case stSYNACK:
		g.seg(f, 1, tcpSYN|tcpACK, synOpts, nil)
	case stACK:
		g.seg(f, 0, tcpACK, nil, nil)
	case stData:
		if f.off >= len(f.msg) {
			msg, dir, ok := f.app.next(f.msg[:0])
			f.msg = msg
			if !ok {
				f.state = stFIN1
				g.step(f)
				return
			}
			if dir != f.dir {
				f.unacked = 0 // the other side's data carries the ACK
			}
			f.off, f.dir = 0, dir
		}
		n := min(mss, len(f.msg)-f.off)
		flags := byte(tcpACK)
		if f.off+n == len(f.msg) {
			flags |= tcpPSH
		}
		g.seg(f, f.dir, flags, nil, f.msg[f.off:f.off+n])
		f.off += n
		f.sent += int64(n)
		if f.unacked++; f.unacked == 2 {
			g.seg(f, 1-f.dir, tcpACK, nil, nil)
			f.unacked = 0
		}
		return
	case stFIN1:
		g.seg(f, 0, tcpFIN|tcpACK, nil, nil)
	case stFIN2:
		g.seg(f, 1, tcpFIN|tcpACK, nil, nil)
	case stLastACK:
		g.seg(f, 0, tcpACK, nil, nil)
	}
	f.state++
}

// udpEvent emits a syslog datagram or a DNS query and its answer.
func (g *generator) udpEvent() {
	r := g.r
	k := r.intn(nTCPKinds)
	p := pick(r, g.pairs[k])
	cli := p.cli
	b := g.udpBuf[:0]
	if r.chance(0.6) {
		cli.port = 514
		if r.chance(0.5) {
			cli.port = uint16(r.between(32768, 60999))
		}
		b = appendSyslog(b, r, g.pw.usec, p)
		g.pw.udp(&cli, &g.udpSrvs[0], p.vlan, uint16(r.u64()), p.cliTTL, b)
		g.st.UDPDatagrams++
	} else {
		cli.port = uint16(r.between(32768, 60999))
		id := uint16(r.u64())
		name := pick(r, dnsNames)
		b = appendDNS(b, id, name, nil)
		g.pw.udp(&cli, &g.udpSrvs[1], p.vlan, uint16(r.u64()), p.cliTTL, b)
		ans := ip4(10, 10, 2, r.between(20, 22))
		if !strings.HasSuffix(name, "hospital.example") {
			ans = ip4(203, 0, 113, r.between(1, 254))
		}
		b = appendDNS(b[:0], id, name, ans[:])
		g.pw.udp(&g.udpSrvs[1], &cli, p.vlan, uint16(r.u64()), 64, b)
		g.st.UDPDatagrams += 2
	}
	g.udpBuf = b
}
