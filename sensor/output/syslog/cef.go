package syslog

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/medtap/medtap/detect"
	"github.com/medtap/medtap/sensor/event"
)

// CEF names medtap in the CEF header: vendor and product.
const (
	cefVendor  = "medtap"
	cefProduct = "medtap"
)

// CEFSeverity maps an alert severity to CEF's 0-10 scale (0-3 low, 4-6
// medium, 7-8 high, 9-10 very high).
func CEFSeverity(s string) int {
	switch s {
	case "info":
		return 1
	case "low":
		return 3
	case "medium":
		return 5
	case "high":
		return 8
	case "critical":
		return 10
	}
	return 5
}

// AppendCEF appends an alert event as one ArcSight Common Event Format
// record (CEF:0, no syslog header) to dst:
//
//	CEF:0|medtap|medtap|VERSION|RULE_ID|TITLE|SEVERITY|EXTENSION
//
// The extension uses the standard CEF keys: rt, src/dst (IPv4) or
// c6a2/c6a3 (IPv6), spt, dpt, proto, app, cat, cnt, start, end,
// externalId (the alert id), dvchost (the sensor), and labelled custom
// strings: cs1 communityId, cs2 nmpaCapability, cs3 dataCategory, cs4
// threat, cs5 phiCategories, cs6 evidenceFields; cn1 patientCount. Like
// the alert it comes from, it holds no patient value.
func AppendCEF(dst []byte, version string, e *event.Event, a *detect.Alert) []byte {
	dst = append(dst, "CEF:0|"...)
	dst = appendHeader(dst, cefVendor)
	dst = append(dst, '|')
	dst = appendHeader(dst, cefProduct)
	dst = append(dst, '|')
	dst = appendHeader(dst, version)
	dst = append(dst, '|')
	dst = appendHeader(dst, a.RuleID)
	dst = append(dst, '|')
	dst = appendHeader(dst, a.Title)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, int64(CEFSeverity(a.Severity)), 10)
	dst = append(dst, '|')

	x := ext{dst: dst}
	x.ms("rt", e.TS)
	if f := e.Flow; f != nil {
		x.addr("src", "c6a2", "Source IPv6 Address", f.Client.Addr())
		x.addr("dst", "c6a3", "Destination IPv6 Address", f.Server.Addr())
		x.int("spt", int64(f.Client.Port()))
		x.int("dpt", int64(f.Server.Port()))
		x.str("proto", strings.ToUpper(event.ProtoName(f.Proto)))
	} else if len(a.Assets) > 0 {
		if ip, err := netip.ParseAddr(a.Assets[0].IP); err == nil {
			x.addr("src", "c6a2", "Source IPv6 Address", ip)
		}
	}
	x.str("app", a.Protocol)
	x.str("cat", a.Category)
	x.int("cnt", int64(a.Count))
	if t, err := time.Parse(time.RFC3339Nano, a.FirstSeen); err == nil {
		x.ms("start", t)
	}
	if t, err := time.Parse(time.RFC3339Nano, a.LastSeen); err == nil {
		x.ms("end", t)
	}
	x.str("externalId", a.ID)
	x.str("dvchost", e.Sensor)
	if e.Flow != nil {
		x.labelled("cs1", "communityId", e.Flow.CommunityID)
	}
	x.labelled("cs2", "nmpaCapability", strings.Join(a.Capability, ","))
	x.labelled("cs3", "dataCategory", a.DataCategory)
	x.labelled("cs4", "threat", a.Threat)
	x.labelled("cs5", "phiCategories", strings.Join(a.Evidence.PHICategories, ","))
	fields := append(append([]string(nil), a.Evidence.Fields...), a.Evidence.Tags...)
	x.labelled("cs6", "evidenceFields", strings.Join(fields, ","))
	if a.Evidence.PatientCount > 0 {
		x.str("cn1Label", "patientCount")
		x.int("cn1", int64(a.Evidence.PatientCount))
	}
	return x.dst
}

// appendHeader appends a CEF header field: backslash and pipe escaped;
// line breaks, which a header may not hold, become spaces.
func appendHeader(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '|':
			dst = append(dst, '\\', c)
		case '\r', '\n':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendExtValue appends a CEF extension value: backslash and equals sign
// escaped, line breaks as \n and \r.
func appendExtValue(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '=':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// ext builds the extension: space-separated key=value pairs, empty
// values left out.
type ext struct {
	dst   []byte
	first bool
}

func (x *ext) key(k string) {
	if x.first {
		x.dst = append(x.dst, ' ')
	}
	x.first = true
	x.dst = append(x.dst, k...)
	x.dst = append(x.dst, '=')
}

func (x *ext) str(k, v string) {
	if v == "" {
		return
	}
	x.key(k)
	x.dst = appendExtValue(x.dst, v)
}

func (x *ext) int(k string, v int64) {
	x.key(k)
	x.dst = strconv.AppendInt(x.dst, v, 10)
}

// ms writes a time as milliseconds since the epoch, a form every CEF
// consumer reads.
func (x *ext) ms(k string, t time.Time) {
	if t.IsZero() {
		return
	}
	x.int(k, t.UnixMilli())
}

// addr writes an IPv4 address under k4, an IPv6 one under the custom
// IPv6 key k6 with its label (CEF's src and dst are IPv4 only).
func (x *ext) addr(k4, k6, label6 string, ip netip.Addr) {
	if !ip.IsValid() {
		return
	}
	ip = ip.Unmap()
	if ip.Is4() {
		x.key(k4)
		x.dst = ip.AppendTo(x.dst)
		return
	}
	x.str(k6+"Label", label6)
	x.key(k6)
	x.dst = ip.AppendTo(x.dst)
}

func (x *ext) labelled(k, label, v string) {
	if v == "" {
		return
	}
	x.str(k+"Label", label)
	x.str(k, v)
}
