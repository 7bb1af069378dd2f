// Package parsers holds medtap's one registry of protocol parsers. Each
// parser is a package under parsers/ behind the streaming contract in
// parsers/parser; the pipeline probes them in the order listed here.
package parsers

import (
	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/tls"
)

// All is the registry: every protocol parser medtap runs, in probe order.
var All = []parser.Factory{
	dicom.Factory,
	hl7.Factory,
	tls.Factory,
	astm.Factory,
}
