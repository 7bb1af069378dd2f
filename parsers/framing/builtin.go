package framing

import (
	"embed"
	"fmt"
	"io/fs"
	"sync"

	"github.com/medtap/medtap/parsers/parser"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// builtinDefs compiles the embedded definitions once. They are tested, so a
// mistake in one is a bug in medtap: it panics.
var builtinDefs = sync.OnceValue(func() []*def {
	files, err := fs.Glob(builtinFS, "builtin/*.yaml")
	if err != nil {
		panic(err)
	}
	var out []*def
	for _, f := range files {
		data, err := builtinFS.ReadFile(f)
		if err != nil {
			panic(err)
		}
		defs, err := parseFile(f, data)
		if err != nil {
			panic(fmt.Sprintf("framing: built-in definition: %v", err))
		}
		out = append(out, defs...)
	}
	return out
})

// Builtin returns one parser.Factory per enabled built-in definition
// (parsers/framing/builtin/*.yaml, embedded), in file name order.
func Builtin() []parser.Factory { return factories(builtinDefs()) }

// BuiltinNames lists every built-in definition's name, the disabled ones
// too (those are enabled with Load("builtin:NAME")).
func BuiltinNames() []string {
	var out []string
	for _, d := range builtinDefs() {
		out = append(out, d.name)
	}
	return out
}
