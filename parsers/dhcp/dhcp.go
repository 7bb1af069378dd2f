// Package dhcp decodes DHCPv4 (RFC 2131, options RFC 2132) messages on UDP
// 67/68: the client's MAC, the address it asks for or is given, its host
// name (option 12), and the fingerprint of its DHCP stack (option 55
// parameter request list, option 60 vendor class, the order of its
// options). The inventory uses them to tie an address to a device across
// lease changes. Each datagram is one message; the parser keeps nothing
// between datagrams.
package dhcp

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"

	"github.com/medtap/medtap/parsers/parser"
)

// Limits. A DHCP message is one datagram, so every length is checked
// against the datagram itself; these bound what one event keeps.
const (
	// MinMessageLen is the fixed BOOTP header (236 bytes) plus the magic
	// cookie: shorter datagrams are not DHCP.
	MinMessageLen = 240
	// MaxOptions is the most options of one message looked at; the rest
	// are skipped (too_many_options).
	MaxOptions = 128
	// MaxParameterRequest is the most codes of option 55 kept.
	MaxParameterRequest = 64
	// MaxClientIDLen is the most bytes of option 61 kept (as hex).
	MaxClientIDLen = 64
)

const (
	bootRequest = 1
	bootReply   = 2
	magicCookie = 0x63825363
)

// Factory is the registry entry of the DHCP parser.
var Factory = parser.Factory{
	Name:      "dhcp",
	Transport: parser.UDP,
	Ports:     []uint16{67, 68},
	Probe:     probe,
	New:       newStream,
}

// probe matches a BOOTP header with Ethernet addresses and the DHCP magic
// cookie: 32 fixed bits at offset 236 that other UDP protocols do not
// put there.
func probe(_ parser.Direction, b []byte) parser.Verdict {
	if len(b) < MinMessageLen {
		return parser.NoMatch
	}
	if (b[0] != bootRequest && b[0] != bootReply) || b[1] != 1 || b[2] != 6 || b[3] > 16 {
		return parser.NoMatch
	}
	if binary.BigEndian.Uint32(b[236:240]) != magicCookie {
		return parser.NoMatch
	}
	return parser.Match
}

type stream struct {
	em parser.Emitter
}

func newStream(_ *parser.Flow, em parser.Emitter, _ *parser.Env) parser.Stream {
	return &stream{em: em}
}

// Feed decodes one datagram.
func (s *stream) Feed(dir parser.Direction, data []byte, ts time.Time) {
	m, code := Decode(data)
	if code != "" {
		s.em.Emit(ts, &parser.Anomaly{Source: "dhcp", Code: code, Direction: dir.String(), Length: int64(len(data))})
		if m == nil {
			return
		}
	}
	s.em.Emit(ts, m)
}

// Gap cannot happen on UDP; nothing is kept across datagrams anyway.
func (s *stream) Gap(parser.Direction, int, time.Time) {}

// Close has nothing to flush.
func (s *stream) Close(parser.CloseReason, time.Time) {}

var messageTypes = [...]string{1: "discover", 2: "offer", 3: "request", 4: "decline", 5: "ack", 6: "nak", 7: "release", 8: "inform",
	9: "forcerenew", 10: "leasequery", 11: "leaseunassigned", 12: "leaseunknown", 13: "leaseactive"}

// Decode decodes one DHCP datagram. It returns nil and an anomaly code
// for a datagram that is not a DHCP message; a message with a broken
// option area is returned with the options before the break and the
// anomaly code.
func Decode(b []byte) (*Message, string) {
	if len(b) < MinMessageLen {
		return nil, "message_too_short"
	}
	if b[0] != bootRequest && b[0] != bootReply {
		return nil, "bad_op"
	}
	if binary.BigEndian.Uint32(b[236:240]) != magicCookie {
		return nil, "bad_magic_cookie"
	}
	m := &Message{Direction: "to_server", TransactionID: strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[4:8])), 16)}
	if b[0] == bootReply {
		m.Direction = "to_client"
	}
	if b[1] == 1 && b[2] == 6 {
		m.ClientMAC = formatMAC(b[28:34])
	}
	m.ClientIP = addr4(b[12:16])
	m.YourIP = addr4(b[16:20])
	m.NextServerIP = addr4(b[20:24])
	m.RelayIP = addr4(b[24:28])
	opts := b[240:]
	var codes []byte
	code := ""
	for i := 0; i < len(opts); {
		o := opts[i]
		if o == 0 { // pad
			i++
			continue
		}
		if o == 255 { // end
			break
		}
		if len(codes) >= MaxOptions {
			code = "too_many_options"
			break
		}
		if i+1 >= len(opts) || i+2+int(opts[i+1]) > len(opts) {
			code = "option_truncated"
			break
		}
		v := opts[i+2 : i+2+int(opts[i+1])]
		i += 2 + len(v)
		codes = append(codes, o)
		switch o {
		case 53:
			if len(v) == 1 && int(v[0]) < len(messageTypes) && messageTypes[v[0]] != "" {
				m.MessageType = messageTypes[v[0]]
			} else if len(v) == 1 {
				m.MessageType = strconv.Itoa(int(v[0]))
			}
		case 12:
			m.Hostname = string(v)
		case 81: // client FQDN: flags, two RCODEs, then the name
			if len(v) > 3 {
				m.FQDN = fqdn(v[0], v[3:])
			}
		case 50:
			m.RequestedIP = addr4(v)
		case 54:
			m.ServerID = addr4(v)
		case 51:
			if len(v) == 4 {
				m.LeaseTime = binary.BigEndian.Uint32(v)
			}
		case 55:
			m.ParameterRequestList = decimals(v, MaxParameterRequest)
		case 60:
			m.VendorClass = string(v)
		case 61:
			if len(v) > MaxClientIDLen {
				v = v[:MaxClientIDLen]
			}
			m.ClientID = hex.EncodeToString(v)
		}
	}
	m.Options = decimals(codes, MaxOptions)
	if m.MessageType == "" && code == "" {
		// BOOTP without option 53: still an address assignment.
		m.MessageType = "bootp"
	}
	return m, code
}

// fqdn decodes option 81's name: ASCII when the E flag is clear, else DNS
// wire labels.
func fqdn(flags byte, v []byte) string {
	if flags&0x04 == 0 {
		return string(v)
	}
	var out []byte
	for len(v) > 0 {
		l := int(v[0])
		if l == 0 || l > 63 || 1+l > len(v) {
			break
		}
		if len(out) > 0 {
			out = append(out, '.')
		}
		out = append(out, v[1:1+l]...)
		v = v[1+l:]
	}
	return string(out)
}

func addr4(v []byte) string {
	if len(v) != 4 {
		return ""
	}
	a := netip.AddrFrom4([4]byte(v))
	if a.IsUnspecified() {
		return ""
	}
	return a.String()
}

func decimals(v []byte, max int) string {
	if len(v) > max {
		v = v[:max]
	}
	out := make([]byte, 0, len(v)*4)
	for i, c := range v {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, uint64(c), 10)
	}
	return string(out)
}

func formatMAC(m []byte) string {
	const hexd = "0123456789abcdef"
	var b [17]byte
	for i, x := range m[:6] {
		if i > 0 {
			b[i*3-1] = ':'
		}
		b[i*3] = hexd[x>>4]
		b[i*3+1] = hexd[x&15]
	}
	return string(b[:])
}
