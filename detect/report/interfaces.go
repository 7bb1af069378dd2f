package report

import (
	"sort"
	"strings"
	"time"

	"github.com/medtap/medtap/detect/inventory"
)

// InterfaceRow is one observed electronic interface of a device: a service
// it offered (server) or used (client), with the technical characteristics
// the NMPA guideline asks for in 电子接口情况.
type InterfaceRow struct {
	AssetID    string    `json:"asset_id"`
	Device     string    `json:"device"`
	Role       string    `json:"role"` // server or client
	Port       uint16    `json:"port"`
	Transport  string    `json:"transport"`
	Protocol   string    `json:"protocol"`
	Standard   string    `json:"standard"`   // standard or private
	Network    string    `json:"network"`    // LAN, WAN, LAN+WAN
	DataTypes  []string  `json:"data_types"` // data categories seen on it
	Encryption string    `json:"encryption"` // yes, no, partly
	Throughput float64   `json:"throughput_bps"`
	Flows      uint64    `json:"flows"`
	Bytes      uint64    `json:"bytes"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// standardProtocols are the application protocols medtap decodes that are
// published standards; anything else (declared framings, unidentified
// streams) is a private protocol for the interface table.
var standardProtocols = map[string]bool{
	"dicom": true, "hl7": true, "astm": true, "tls": true, "http": true, "ssh": true, "dns": true, "dhcp": true,
	"ftp": true, "tftp": true, "telnet": true, "smb": true, "snmp": true, "syslog": true, "rdp": true, "vnc": true,
	"ntp": true, "mdns": true, "llmnr": true, "nbns": true,
}

func buildInterfaces(as []inventory.Asset, ix *index) []InterfaceRow {
	var rows []InterfaceRow
	for i := range as {
		a := &as[i]
		add := func(s *inventory.Service, role, dir string) {
			r := InterfaceRow{AssetID: a.ID, Device: label(a), Role: role, Port: s.Port, Transport: s.Transport,
				Protocol: s.AppProto, Flows: s.Flows, Bytes: s.Bytes, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen}
			r.Standard = "private"
			if standardProtocols[s.AppProto] {
				r.Standard = "standard"
			}
			r.Encryption = "no"
			if s.Encrypted {
				r.Encryption = "yes"
			}
			lan, wan, enc, plain := false, false, false, false
			cats := map[string]bool{}
			for _, p := range a.Peers {
				if p.Direction != dir || p.Port != s.Port || p.Transport != s.Transport {
					continue
				}
				if p.Internal {
					lan = true
				} else {
					wan = true
				}
				cats[catOr(p.DataCategory)] = true
				if p.Encrypted {
					enc = true
				} else {
					plain = true
				}
			}
			switch {
			case lan && wan:
				r.Network = "LAN+WAN"
			case wan:
				r.Network = "WAN"
			default:
				r.Network = "LAN"
			}
			if enc && plain {
				r.Encryption = "partly"
			}
			for _, c := range []string{inventory.CatSensitiveMedical, inventory.CatNonSensitiveMedical, inventory.CatDevice, inventory.CatUnknown} {
				if cats[c] {
					r.DataTypes = append(r.DataTypes, c)
				}
			}
			r.Throughput = throughput(s.Bytes, s.FirstSeen, s.LastSeen)
			rows = append(rows, r)
		}
		for j := range a.Services {
			add(&a.Services[j], "server", "in")
		}
		for j := range a.Uses {
			add(&a.Uses[j], "client", "out")
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := &rows[i], &rows[j]
		if a.AssetID != b.AssetID {
			da, db := ix.byID[a.AssetID], ix.byID[b.AssetID]
			if da != nil && db != nil {
				return ipLess(da.IP, db.IP)
			}
			return a.AssetID < b.AssetID
		}
		if a.Role != b.Role {
			return a.Role > b.Role // server first
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.Transport < b.Transport
	})
	return rows
}

// interfaceUse names what an interface is for, from its protocol and role.
func interfaceUse(r *InterfaceRow, t *tr) string {
	role := t.s(r.Role)
	name := strings.ToUpper(r.Protocol)
	if name == "UNKNOWN" || name == "" {
		name = t.s("unknown")
	}
	return name + " " + role
}
