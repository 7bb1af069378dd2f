// Package syslog sends medtap's alerts (and, when asked, its other events)
// to a syslog server as RFC 5424 messages: over UDP (RFC 5426, one message
// per datagram), TCP with octet-counting framing (RFC 6587) or TLS
// (RFC 5425). Alerts are ArcSight CEF records or JSON; other events are
// their JSON line.
//
// A Writer is the slow side of an output.Queue: the queue encodes events
// with an Encoder on the pipeline's goroutine and never waits, the Writer
// sends them on its own, reconnecting with exponential backoff while the
// server is away. Records that do not fit the queue meanwhile are dropped
// and counted, so a dead SIEM never stalls capture.
package syslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/medtap/medtap/sensor/output"
)

// Transports.
const (
	UDP = "udp"
	TCP = "tcp"
	TLS = "tls"
)

// Default ports: 514 for UDP and TCP, 6514 for TLS (RFC 5425).
const (
	defaultPort    = "514"
	defaultTLSPort = "6514"
)

// Timing and size limits of a Writer.
const (
	dialTimeout  = 5 * time.Second
	writeTimeout = 10 * time.Second
	// minBackoff and maxBackoff bound the wait between connection
	// attempts; it doubles on each failure and resets on success.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
	// MaxDatagram is the largest UDP message; larger ones are not sent
	// and count as failed (RFC 5426 leaves the size to the network).
	MaxDatagram = 65507
)

// Options configure a Writer.
type Options struct {
	URL      string // udp://host[:514], tcp://host[:514], tls://host[:6514]
	CAFile   string // TLS: CA certificates (PEM) to verify the server with (default: the system's)
	CertFile string // TLS: client certificate (PEM), for servers that ask for one
	KeyFile  string // TLS: the client certificate's key (PEM)
	// ServerName overrides the name the TLS server's certificate is
	// checked against (default: the URL's host).
	ServerName string
}

// ParseURL checks a syslog URL and returns its transport and address
// (host:port, the default port filled in).
func ParseURL(s string) (transport, addr string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("syslog URL %q: use udp://HOST[:PORT], tcp://HOST[:PORT] or tls://HOST[:PORT]", s)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return "", "", fmt.Errorf("syslog URL %q: only a scheme, host and port are allowed", s)
	}
	port := u.Port()
	switch u.Scheme {
	case UDP, TCP:
		if port == "" {
			port = defaultPort
		}
	case TLS:
		if port == "" {
			port = defaultTLSPort
		}
	default:
		return "", "", fmt.Errorf("syslog URL %q: scheme must be udp, tcp or tls", s)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", "", fmt.Errorf("syslog URL %q: bad port %q", s, port)
	}
	return u.Scheme, net.JoinHostPort(u.Hostname(), port), nil
}

// Writer sends records to a syslog server. It implements
// output.RecordWriter; one goroutine uses it at a time, and its counters
// are safe to read at any time.
type Writer struct {
	transport string
	addr      string
	tlsConf   *tls.Config

	conn     net.Conn
	backoff  time.Duration
	frame    []byte
	probeBuf [1]byte

	connects  atomic.Uint64
	failures  atomic.Uint64 // failed dials and writes
	connected atomic.Bool
}

// NewWriter checks o and returns a Writer. It does not connect: the first
// record does, so medtap starts even while the server is down.
func NewWriter(o Options) (*Writer, error) {
	transport, addr, err := ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	w := &Writer{transport: transport, addr: addr}
	if transport != TLS {
		if o.CAFile != "" || o.CertFile != "" || o.KeyFile != "" {
			return nil, fmt.Errorf("syslog CA, certificate and key files need a tls:// URL, not %s://", transport)
		}
		return w, nil
	}
	host, _, _ := net.SplitHostPort(addr)
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if o.ServerName != "" {
		conf.ServerName = o.ServerName
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("syslog CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("syslog CA file %s: no PEM certificate in it", o.CAFile)
		}
		conf.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("syslog client certificate and key go together: give both files or neither")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("syslog client certificate: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	w.tlsConf = conf
	return w, nil
}

// Transport is udp, tcp or tls.
func (w *Writer) Transport() string { return w.transport }

// Connects counts the connections made, Failures the failed connection
// attempts and writes.
func (w *Writer) Connects() uint64 { return w.connects.Load() }

// Failures counts failed connection attempts and writes.
func (w *Writer) Failures() uint64 { return w.failures.Load() }

// Connected reports whether the Writer holds a connection now.
func (w *Writer) Connected() bool { return w.connected.Load() }

// WriteRecord implements output.RecordWriter. Over TCP and TLS it keeps
// the record and retries, reconnecting with backoff, until it is sent or
// ctx ends; over UDP a failed send is not retried.
func (w *Writer) WriteRecord(ctx context.Context, rec []byte) error {
	if w.transport == UDP {
		if len(rec) > MaxDatagram {
			w.failures.Add(1)
			return fmt.Errorf("syslog message of %d bytes exceeds the UDP limit of %d", len(rec), MaxDatagram)
		}
		if err := w.connect(ctx); err != nil {
			return err
		}
		if _, err := w.conn.Write(rec); err != nil {
			// An ICMP "port unreachable" shows here: count it and
			// start afresh.
			w.drop()
			w.failures.Add(1)
			return fmt.Errorf("syslog send: %w", err)
		}
		return nil
	}
	// Octet-counting framing: "LEN SP MSG".
	w.frame = strconv.AppendInt(w.frame[:0], int64(len(rec)), 10)
	w.frame = append(w.frame, ' ')
	w.frame = append(w.frame, rec...)
	for {
		if err := w.connect(ctx); err != nil {
			return err
		}
		if w.alive() {
			_ = w.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := w.conn.Write(w.frame); err == nil {
				w.backoff = 0
				return nil
			}
			w.failures.Add(1)
		}
		w.drop()
	}
}

// alive checks that the server has not closed the connection: a write
// to a closed TCP connection succeeds locally and the record is lost. It
// peeks at the socket without consuming anything (TLS session tickets
// stay for the TLS layer): end of stream or an error means closed;
// nothing to read, or data, means open.
func (w *Writer) alive() bool {
	nc := w.conn
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	open := true
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), w.probeBuf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
		case err != nil || n == 0:
			open = false
		}
		return true // never wait for readability
	})
	return open
}

// connect makes sure a connection is up, waiting out the backoff after a
// failure. It returns only with a connection or ctx's error.
func (w *Writer) connect(ctx context.Context) error {
	for w.conn == nil {
		if w.backoff > 0 {
			// Jitter keeps many sensors from reconnecting in step.
			d := w.backoff/2 + rand.N(w.backoff/2+1)
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		conn, err := w.dial(ctx)
		if err != nil {
			w.failures.Add(1)
			w.backoff = min(max(2*w.backoff, minBackoff), maxBackoff)
			if w.transport == UDP {
				return fmt.Errorf("syslog connect: %w", err)
			}
			continue
		}
		w.conn = conn
		w.connects.Add(1)
		w.connected.Store(true)
	}
	return nil
}

func (w *Writer) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	switch w.transport {
	case UDP:
		return d.DialContext(ctx, "udp", w.addr)
	case TCP:
		return d.DialContext(ctx, "tcp", w.addr)
	}
	td := tls.Dialer{NetDialer: &d, Config: w.tlsConf}
	return td.DialContext(ctx, "tcp", w.addr)
}

// drop closes a broken connection; the next record reconnects.
func (w *Writer) drop() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
		w.connected.Store(false)
	}
	if w.transport != UDP {
		w.backoff = min(max(2*w.backoff, minBackoff), maxBackoff)
	}
}

// Flush implements output.RecordWriter; records are sent as they come.
func (w *Writer) Flush() error { return nil }

// Close implements output.RecordWriter.
func (w *Writer) Close() error {
	if w.conn == nil {
		return nil
	}
	err := w.conn.Close()
	w.conn = nil
	w.connected.Store(false)
	return err
}

// Sink is a syslog output: a Writer behind a bounded output.Queue.
type Sink struct {
	*output.Queue
	Writer *Writer
}

// Open returns a syslog sink: events encoded per f, sent per o, through a
// queue of capacity records (output.DefaultQueueEvents when 0).
func Open(o Options, f Format, capacity int) (*Sink, error) {
	enc, err := NewEncoder(f)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(o)
	if err != nil {
		return nil, err
	}
	return &Sink{Queue: output.NewQueue(output.SinkSyslog, capacity, enc.Encode, w), Writer: w}, nil
}
