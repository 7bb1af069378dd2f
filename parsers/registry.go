// Package parsers holds medtap's one registry of protocol parsers. Each
// parser is a package under parsers/ behind the streaming contract in
// parsers/parser; the pipeline probes them in the order listed here.
package parsers

import (
	"slices"

	"github.com/medtap/medtap/parsers/astm"
	"github.com/medtap/medtap/parsers/dicom"
	"github.com/medtap/medtap/parsers/framing"
	"github.com/medtap/medtap/parsers/hl7"
	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/tls"
)

// Coded are the parsers written in Go, in probe order. They probe before any
// declared framing, so a vendor definition cannot claim a standard protocol.
var Coded = []parser.Factory{
	dicom.Factory,
	hl7.Factory,
	tls.Factory,
	astm.Factory,
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
