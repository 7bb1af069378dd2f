package syslog

import (
	"fmt"
	"os"
	"strconv"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/output"
)

// Formats of alert messages.
const (
	FormatCEF  = "cef"  // ArcSight Common Event Format
	FormatJSON = "json" // the alert's JSON line
)

// Facilities by name (RFC 5424 section 6.2.1).
var Facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5,
	"lpr": 6, "news": 7, "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"ntp": 12, "security": 13, "console": 14, "solaris-cron": 15,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// DefaultFacility is the facility of medtap's messages unless configured.
const DefaultFacility = "local0"

// Header field limits of RFC 5424 section 6.
const (
	maxHostname = 255
	maxAppName  = 48
	maxMsgID    = 32
)

// Syslog severities (RFC 5424 section 6.2.1) medtap uses.
const (
	sevCritical = 2
	sevError    = 3
	sevWarning  = 4
	sevNotice   = 5
	sevInfo     = 6
)

// severity maps an alert severity to a syslog severity; other events are
// informational.
func severity(alert string) int {
	switch alert {
	case "critical":
		return sevCritical
	case "high":
		return sevError
	case "medium":
		return sevWarning
	case "low":
		return sevNotice
	}
	return sevInfo
}

// Format says what goes into messages and how.
type Format struct {
	Alerts   string // FormatCEF (default) or FormatJSON
	Events   bool   // also send the other events, as JSON (default: alerts only)
	Facility string // facility name (default DefaultFacility)
	Hostname string // HOSTNAME field (default: the machine's host name)
	AppName  string // APP-NAME field (default "medtap")
	Version  string // medtap's version, in CEF and the origin element
}

// Encoder turns events into RFC 5424 messages: an output.Encoder for a
// Queue in front of a Writer. Alerts are CEF (or JSON) at a severity that
// follows theirs; other events, when asked for, are their JSON line at
// informational severity. The MSGID is the event type; structured data
// is the IANA-registered origin element (software and version) and meta
// sequenceId. No patient value is added: the body is the event as medtap
// writes it anywhere.
type Encoder struct {
	f        Format
	facility int
	header   []byte // " HOSTNAME APP-NAME PROCID "
	sd       []byte // "[origin ...][meta sequenceId=\""
	seq      uint32
}

// NewEncoder checks f and returns its Encoder.
func NewEncoder(f Format) (*Encoder, error) {
	switch f.Alerts {
	case "":
		f.Alerts = FormatCEF
	case FormatCEF, FormatJSON:
	default:
		return nil, fmt.Errorf("syslog format %q: use cef or json", f.Alerts)
	}
	if f.Facility == "" {
		f.Facility = DefaultFacility
	}
	fac, ok := Facilities[f.Facility]
	if !ok {
		return nil, fmt.Errorf("syslog facility %q: use a name like local0..local7, daemon, security", f.Facility)
	}
	if f.Hostname == "" {
		f.Hostname, _ = os.Hostname()
	}
	if f.AppName == "" {
		f.AppName = "medtap"
	}
	if f.Version == "" {
		f.Version = "unknown"
	}
	e := &Encoder{f: f, facility: fac}
	e.header = append(e.header, ' ')
	e.header = appendField(e.header, f.Hostname, maxHostname)
	e.header = append(e.header, ' ')
	e.header = appendField(e.header, f.AppName, maxAppName)
	e.header = append(e.header, ' ')
	e.header = strconv.AppendInt(e.header, int64(os.Getpid()), 10)
	e.header = append(e.header, ' ')
	e.sd = append(e.sd, `[origin software="medtap" swVersion="`...)
	e.sd = appendParam(e.sd, f.Version)
	e.sd = append(e.sd, `"][meta sequenceId="`...)
	return e, nil
}

// Encode implements output.Encoder.
func (c *Encoder) Encode(dst []byte, e *event.Event) ([]byte, bool) {
	a, isAlert := e.Body.(*detect.Alert)
	if !isAlert && !c.f.Events {
		return dst, false
	}
	sev := sevInfo
	if isAlert {
		sev = severity(a.Severity)
	}
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(c.facility*8+sev), 10)
	dst = append(dst, ">1 "...)
	// TIME-SECFRAC allows at most six digits.
	dst = e.TS.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z")
	dst = append(dst, c.header...)
	dst = appendField(dst, e.Body.EventType(), maxMsgID)
	dst = append(dst, ' ')
	dst = append(dst, c.sd...)
	// sequenceId runs 1..2147483647 and wraps (RFC 5424 section 7.3.1).
	c.seq = c.seq%2147483647 + 1
	dst = strconv.AppendUint(dst, uint64(c.seq), 10)
	dst = append(dst, `"] `...)
	if isAlert && c.f.Alerts == FormatCEF {
		return AppendCEF(dst, c.f.Version, e, a), true
	}
	return output.JSONLine(dst, e)
}

// appendField appends a header field: printable US-ASCII without spaces,
// at most max characters, "-" (the nil value) when empty.
func appendField(dst []byte, s string, max int) []byte {
	n := 0
	for i := 0; i < len(s) && n < max; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		dst = append(dst, c)
		n++
	}
	if n == 0 {
		dst = append(dst, '-')
	}
	return dst
}

// appendParam appends an SD-PARAM value with '"', '\' and ']' escaped.
func appendParam(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', ']':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
