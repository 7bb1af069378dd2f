// Command medtap-pcaptool makes synthetic hospital-network captures for
// medtap's tests and benchmarks, and derives lossy variants of any capture.
//
// Usage:
//
//	medtap-pcaptool gen  -o FILE [-size 1GiB] [-seed N] [-mix default|dicom] [-lossy RATE] [-flows N] [-checksum=true]
//	medtap-pcaptool drop -i IN -o OUT [-rate 0.01] [-seed N]
//
// gen writes a classic pcap (LINKTYPE_ETHERNET, microsecond timestamps,
// snaplen 262144) of synthetic but protocol-correct traffic. The output is a
// pure function of the flags: the same seed gives a byte-identical file.
// Every TCP connection has a three-way handshake (MSS 1460, window scale,
// SACK permitted), data segments of at most 1460 bytes, a pure ACK from the
// receiver every second data segment and a FIN/ACK teardown. IPv4 header,
// TCP and UDP checksums are correct (-checksum=false leaves TCP/UDP
// checksums zero, to measure their cost). Timestamps strictly increase, at
// about 2 Gbit/s. 128 connections are open at once (one per 8 MiB of -size
// for smaller files, at least 4; -flows overrides) over 2000 host pairs,
// each kind holding its share of the slots, and they are interleaved in
// bursts of 1-4 segments. When the file nears -size, no new connections are
// opened and the open ones end at their next clean point (after the current
// DICOM object, TLS exchange, HTTP response or HL7 ACK), so every
// connection is complete and the size is approximate: within about 1% for
// large files; small files end at a CT object boundary (0.5 MB).
//
// The default mix, by frame bytes:
//
//   - ~45% DICOM C-STORE associations on TCP 104 and 11112: A-ASSOCIATE-RQ
//     and -AC (application context, presentation contexts for CT, Enhanced
//     CT and MR storage, user information with maximum PDU length 16384,
//     implementation class UID and version), then per object a C-STORE-RQ
//     command set, the explicit VR little endian CT dataset (512x512x16-bit
//     frames) in PDVs under the maximum PDU length, and a C-STORE-RSP; then
//     A-RELEASE. 1-20 objects per association, or 1-2 Enhanced CT
//     multi-frame objects of 4-12 MB in 10% of associations.
//   - ~15% HL7 v2 over MLLP on 2575 and one high port: ADT^A01, ORU^R01 and
//     ORM^O01, each answered with MSA|AA, 1-50 per connection; Latin and
//     Chinese (UTF-8, MSH-18 UNICODE UTF-8) synthetic names, GB 11643
//     resident ID numbers with valid check digits, phone numbers, OBX
//     results.
//   - ~25% TLS 1.2 and 1.3 on 443 and 2762: ClientHello with SNI, ALPN and
//     supported_versions; for TLS 1.2 a deterministic self-signed Ed25519
//     certificate in clear; then application_data records of up to 16 KiB.
//   - ~15% HTTP/1.1 GETs with Content-Length bodies (HTML, JSON, PNG,
//     binary) on 80 and 8080.
//   - A trickle of syslog (UDP 514) and DNS (UDP 53); 3% of host pairs send
//     802.1Q-tagged frames.
//
// -mix dicom is DICOM-heavy (85%), with 40% multi-frame associations and 25%
// that negotiate Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99)
// and send raw-deflated datasets. To decode with tshark, use
// -d tcp.port==104,dicom -d tcp.port==11112,dicom -d tcp.port==2575,hl7.
// (Wireshark 4.0 does not inflate deflated datasets and misreads the
// C-STORE-RSP that follows one.)
//
// All addresses are private (10.0.0.0/8) or documentation ranges
// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24); host names end in
// .example; patient data is synthetic. The tool only writes files and sends
// no traffic.
//
// drop copies a classic pcap (Ethernet, Linux cooked v1/v2, BSD loopback or
// raw IP; 802.1Q/802.1ad tags; IPv4 and IPv6 with extension headers),
// dropping a deterministic pseudo-random fraction -rate of the TCP segments
// that carry payload. SYN segments are never dropped, nor are segments
// without payload (pure ACKs, FIN, RST), so every connection is still seen
// from its handshake and the loss shows up as holes in the byte streams.
// Other packets are copied unchanged. gen -lossy RATE produces exactly the
// bytes of gen followed by drop -rate RATE with the same -seed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = cmdGen(os.Args[2:])
	case "drop":
		err = cmdDrop(os.Args[2:])
	case "-h", "-help", "--help", "help":
		usage(os.Stdout)
		return
	default:
		fmt.Fprintf(os.Stderr, "medtap-pcaptool: unknown command %q\n", os.Args[1])
		usage(os.Stderr)
		os.Exit(2)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "medtap-pcaptool:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  medtap-pcaptool gen  -o FILE [-size 1GiB] [-seed N] [-mix default|dicom] [-lossy RATE] [-flows N] [-checksum=true]
  medtap-pcaptool drop -i IN -o OUT [-rate 0.01] [-seed N]
`)
}

// parseSize accepts plain bytes or a number with a suffix: K, M, G, T and
// KiB, MiB, GiB, TiB are powers of 1024; kB, MB, GB, TB powers of 1000.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"k", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suf)), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 1GiB, 500MiB, 2MB, 1048576)", s)
	}
	return int64(f * float64(mult)), nil
}

func cmdGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	out := fs.String("o", "", "output pcap file (- for stdout)")
	sizeS := fs.String("size", "1GiB", "approximate output size (e.g. 1GiB, 200MiB, 2MB)")
	seed := fs.Uint64("seed", 1, "PRNG seed; same seed, same bytes")
	mixS := fs.String("mix", "default", "traffic mix: default or dicom")
	lossy := fs.Float64("lossy", 0, "drop this fraction of payload-carrying TCP segments (same as gen then drop -rate)")
	flows := fs.Int("flows", 0, "concurrent TCP connections (0: 4-128, by size)")
	csum := fs.Bool("checksum", true, "compute TCP/UDP checksums (false: leave them 0)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("gen: -o FILE is required and no positional arguments are taken")
	}
	size, err := parseSize(*sizeS)
	if err != nil {
		return err
	}
	if *lossy < 0 || *lossy > 1 {
		return fmt.Errorf("-lossy %v: want a fraction in [0, 1]", *lossy)
	}
	w, closeFn, err := create(*out)
	if err != nil {
		return err
	}
	t0 := time.Now()
	st, err := generate(w, genOptions{Size: size, Seed: *seed, Mix: *mixS, Lossy: *lossy, Checksum: *csum, Flows: *flows})
	if err == nil {
		err = closeFn()
	} else {
		closeFn()
	}
	if err != nil {
		return err
	}
	printGenSummary(os.Stderr, *out, st, *lossy, time.Since(t0))
	return nil
}

func create(path string) (io.Writer, func() error, error) {
	if path == "-" {
		return os.Stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

func printGenSummary(w io.Writer, path string, st *genStats, lossy float64, took time.Duration) {
	avg := 0.0
	if st.Packets > 0 {
		avg = float64(st.WireBytes) / float64(st.Packets)
	}
	fmt.Fprintf(w, "medtap-pcaptool gen: wrote %s: %d bytes, %d packets (avg frame %.0f B), %.1f s of capture (%s .. %s), in %.2f s (%.0f MiB/s)\n",
		path, st.FileBytes, st.Packets, avg, st.End.Sub(st.Start).Seconds(),
		st.Start.Format(time.RFC3339), st.End.Format(time.RFC3339), took.Seconds(),
		float64(st.FileBytes)/(1<<20)/max(took.Seconds(), 1e-9))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tflows\tpackets\tframe bytes\tshare\t")
	for k := range nKinds {
		flows := strconv.FormatUint(st.Flows[k], 10)
		if k == kindUDP {
			flows = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f%%\t\n", kindNames[k], flows, st.KindPackets[k], st.KindBytes[k],
			100*float64(st.KindBytes[k])/max(float64(st.WireBytes), 1))
	}
	tw.Flush()
	fmt.Fprintf(w, "dicom: %d associations (%d deflated), %d C-STORE objects; hl7: %d messages (%d on port 2575); tls: %d TLS 1.2 + %d TLS 1.3; http: %d requests; udp: %d datagrams; 802.1Q-tagged flows: %d\n",
		st.Associations, st.DeflatedAssociations, st.DICOMObjects, st.HL7Messages, st.HL7On2575, st.TLS12, st.TLS13, st.HTTPRequests, st.UDPDatagrams, st.VLANFlows)
	if lossy > 0 {
		fmt.Fprintf(w, "lossy: dropped %d of %d payload-carrying TCP segments (%.3f%%, -lossy %g)\n",
			st.Dropped, st.Eligible, 100*float64(st.Dropped)/max(float64(st.Eligible), 1), lossy)
	}
}

func cmdDrop(args []string) error {
	fs := flag.NewFlagSet("drop", flag.ContinueOnError)
	in := fs.String("i", "", "input classic pcap (- for stdin)")
	out := fs.String("o", "", "output pcap (- for stdout)")
	rate := fs.Float64("rate", 0.01, "fraction of payload-carrying TCP segments to drop (SYNs are never dropped)")
	seed := fs.Uint64("seed", 1, "PRNG seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("drop: -i IN and -o OUT are required")
	}
	if *rate < 0 || *rate > 1 {
		return fmt.Errorf("-rate %v: want a fraction in [0, 1]", *rate)
	}
	var r io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	w, closeFn, err := create(*out)
	if err != nil {
		return err
	}
	st, err := dropPcap(r, w, *rate, *seed)
	if cerr := closeFn(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "medtap-pcaptool drop: dropped %d of %d payload-carrying TCP segments (%.3f%%, -rate %g); %d packets read, %d TCP, %d written\n",
		st.dropped, st.eligible, 100*float64(st.dropped)/max(float64(st.eligible), 1), *rate, st.packets, st.tcp, st.packets-st.dropped)
	return nil
}
