// Package parsers holds medtap's one registry of protocol parsers. Each
// parser is a package under parsers/ behind the streaming contract in
// parsers/parser; the pipeline probes them in the order listed here.
package parsers

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medtap/medtap/parsers/anydesk"
	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/dhcp"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/dns"
	"github.com/medtap/medtap/parsers/framing"
	"github.com/medtap/medtap/parsers/ftp"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/http"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/rdp"
	"github.com/medtap/medtap/parsers/smb"
	"github.com/medtap/medtap/parsers/snmp"
	"github.com/medtap/medtap/parsers/ssh"
	"github.com/medtap/medtap/parsers/syslog"
	"github.com/medtap/medtap/parsers/teamviewer"
	"github.com/medtap/medtap/parsers/telnet"
	"github.com/medtap/medtap/parsers/tftp"
	"github.com/medtap/medtap/parsers/tls"
	"github.com/medtap/medtap/parsers/vnc"
)

// Coded are the parsers written in Go, in probe order. They probe before any
// declared framing, so a vendor definition cannot claim a standard protocol.
var Coded = []parser.Factory{
	dicom.Factory,
	hl7.Factory,
	anydesk.Factory, // before tls: it claims TLS server flights with AnyDesk's certificate
	tls.Factory,
	astm.Factory,
	dhcp.Factory,
	dns.Factory,
	// Remote access and IT protocols: binary magic first, then text.
	ssh.Factory,
	rdp.Factory,
	vnc.Factory,
	smb.Factory,
	teamviewer.Factory, // before http: it claims DynGate's HTTP requests
	snmp.Factory,
	tftp.Factory,
	telnet.Factory,
	ftp.Factory,
	syslog.Factory,
	http.Factory,
}

// All is the registry medtap runs by default: the coded parsers, then the
// built-in declared framings (parsers/framing/builtin).
var All = append(slices.Clone(Coded), framing.Builtin()...)

// With is the registry with protocol definitions from files (--framing): the
// coded parsers, then the built-in framings and the files' protocols (a
// file's protocol replaces a built-in of the same name). Errors say
// FILE:LINE: reason.
func With(framingFiles ...string) ([]parser.Factory, error) {
	if len(framingFiles) == 0 {
		return All, nil
	}
	declared, err := framing.Factories(framingFiles...)
	if err != nil {
		return nil, err
	}
	return append(slices.Clone(Coded), declared...), nil
}

// Without returns the registry less the parsers named (--disable-parsers):
// their flows stay flow records, with app_proto unknown. A name not in the
// registry is an error that lists the names there are.
func Without(reg []parser.Factory, names ...string) ([]parser.Factory, error) {
	if len(names) == 0 {
		return reg, nil
	}
	off := make(map[string]bool, len(names))
	for _, n := range names {
		if !slices.ContainsFunc(reg, func(f parser.Factory) bool { return f.Name == n }) {
			known := make([]string, len(reg))
			for i, f := range reg {
				known[i] = f.Name
			}
			return nil, fmt.Errorf("no parser named %q; the parsers are: %s", n, strings.Join(known, ", "))
		}
		off[n] = true
	}
	return slices.DeleteFunc(slices.Clone(reg), func(f parser.Factory) bool { return off[f.Name] }), nil
}
