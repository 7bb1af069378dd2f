// Package jsonlist writes a list as an indented JSON array, byte for byte
// what encoding/json.MarshalIndent(list, "", "  ") writes, in a fraction
// of its time.
//
// medtap writes assets.json when an analysis ends, after the pipeline has
// stopped, so its time is added whole to every run. For the 4,000 assets of
// the benchmark capture MarshalIndent took 31 ms, of which 20 ms was its
// indentation pass: json.Indent runs encoding/json's full scanner state
// machine, one indirect call per byte. Here the elements are marshalled
// compact, in parallel, and indented by a loop that only has to find
// strings and structural bytes, which compact JSON from json.Marshal holds
// nothing but.
package jsonlist

import (
	"bytes"
	"encoding/json"
	"runtime"
	"sync"
)

// minPerPart is the fewest elements worth a goroutine of their own.
const minPerPart = 64

// MarshalIndent encodes list as MarshalIndent(list, "", "  ") does; a nil
// list is encoded as an empty array, not null.
func MarshalIndent[T any](list []T) ([]byte, error) {
	if len(list) == 0 {
		return []byte("[]"), nil
	}
	parts := min(runtime.GOMAXPROCS(0), (len(list)+minPerPart-1)/minPerPart)
	out := make([][]byte, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(list)/parts, (p+1)*len(list)/parts
		wg.Go(func() { out[p], errs[p] = marshalPart(list[lo:hi]) })
	}
	wg.Wait()
	n := 4
	for p := range parts {
		if errs[p] != nil {
			return nil, errs[p]
		}
		n += len(out[p])
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	b = append(b, out[0][1:]...) // no comma before the first element
	for _, o := range out[1:] {
		b = append(b, o...)
	}
	return append(b, "\n]"...), nil
}

// marshalPart encodes each element indented one level deep, each after a
// separator: ",\n  " but "\n  " before the list's first element, which
// opens the first part (a later part's leading comma is right). All are
// encoded compact first, so that the indented buffer is sized once.
func marshalPart[T any](elems []T) ([]byte, error) {
	var compact bytes.Buffer
	enc := json.NewEncoder(&compact)
	ends := make([]int, len(elems))
	for i := range elems {
		if err := enc.Encode(&elems[i]); err != nil {
			return nil, err
		}
		ends[i] = compact.Len()
	}
	all := compact.Bytes()
	// Indented JSON is about half as long again as compact.
	b := make([]byte, 0, len(all)+len(all)/2+4*len(elems))
	start := 0
	for _, end := range ends {
		b = append(b, ",\n  "...)
		b = appendIndented(b, all[start:end-1], 1) // without Encode's newline
		start = end
	}
	return b, nil
}

// appendIndented appends compact JSON (no white space outside strings, as
// json.Marshal writes it) indented by two spaces a level, as json.Indent
// with an empty prefix, starting at the given depth.
func appendIndented(dst, src []byte, depth int) []byte {
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '"':
			end := stringEnd(src, i)
			dst = append(dst, src[i:end]...)
			i = end
			continue
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				// An empty object or array stays on its line.
				dst = append(dst, src[i+1])
				i += 2
				continue
			}
			depth++
			dst = newline(dst, depth)
		case '}', ']':
			depth--
			dst = newline(dst, depth)
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = newline(dst, depth)
		case ':':
			dst = append(dst, ':', ' ')
		default:
			// A number, true, false or null: up to the next structural byte.
			j := i + 1
			for j < len(src) && !structural[src[j]] {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		i++
	}
	return dst
}

// structural marks the bytes that end a scalar in compact JSON.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true, ',': true, ':': true}

// stringEnd gives the index just past the string that opens at src[i]:
// past its first quote that an even number of backslashes precedes.
func stringEnd(src []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(src[j:], '"')
		if k < 0 {
			return len(src)
		}
		j += k
		n := 0
		for p := j - 1; p > i && src[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

func newline(dst []byte, depth int) []byte {
	dst = append(dst, '\n')
	for range depth {
		dst = append(dst, ' ', ' ')
	}
	return dst
}
