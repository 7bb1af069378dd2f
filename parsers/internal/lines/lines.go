// Package lines splits one direction of a text protocol's byte stream into
// lines with a bounded buffer, identically however the stream was cut into
// segments. It is shared by medtap's line-based parsers (ftp, http headers,
// syslog over TCP, teamviewer's HTTP transport).
package lines

// Buf gathers one direction's bytes into lines. A line ends at LF; a CR
// before the LF is dropped. A line longer than Max is delivered cut to Max
// bytes with long set, and the rest of it up to the LF is discarded. The
// zero value needs Max set before use.
type Buf struct {
	Max      int // longest line kept, in bytes
	buf      []byte
	skipping bool // discarding the tail of an over-long line
}

// Feed passes the next bytes and calls fn for each complete line. The line
// is valid only during the call. fn returns false to stop: Feed then
// returns the number of bytes of data consumed up to and including that
// line's LF, so a caller can hand the rest to another decoder (a body, TLS).
// Otherwise it returns len(data).
func (b *Buf) Feed(data []byte, fn func(line []byte, long bool) bool) int {
	used := 0
	for used < len(data) {
		rest := data[used:]
		nl := -1
		for i, c := range rest {
			if c == '\n' {
				nl = i
				break
			}
		}
		if nl < 0 {
			b.add(rest)
			return len(data)
		}
		used += nl + 1
		var line []byte
		long := false
		if len(b.buf) == 0 && !b.skipping {
			line = rest[:nl]
			if len(line) > b.Max {
				line, long = line[:b.Max], true
			}
		} else {
			b.add(rest[:nl])
			if b.skipping {
				long = true
				b.skipping = false
			}
			line = b.buf
		}
		if n := len(line); n > 0 && line[n-1] == '\r' && !long {
			line = line[:n-1]
		}
		cont := fn(line, long)
		b.buf = b.buf[:0]
		if !cont {
			return used
		}
	}
	return used
}

// add keeps bytes of an unfinished line, up to Max.
func (b *Buf) add(p []byte) {
	if b.skipping {
		return
	}
	room := b.Max - len(b.buf)
	if len(p) > room {
		b.buf = append(b.buf, p[:room]...)
		b.skipping = true
		return
	}
	b.buf = append(b.buf, p...)
}

// Pending returns the bytes of the unfinished line (valid until the next
// Feed).
func (b *Buf) Pending() []byte { return b.buf }

// Reset drops any unfinished line, after a gap.
func (b *Buf) Reset() {
	b.buf = b.buf[:0]
	b.skipping = false
}
