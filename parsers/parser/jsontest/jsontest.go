// Package jsontest checks the hand-written JSON encoders of event bodies
// (sensor/event.Appender) against encoding/json, for the tests of every
// package that has one. It depends on nothing of medtap's, so that any
// package's own tests can use it.
package jsontest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// Appender is sensor/event.Appender.
type Appender interface {
	AppendJSON(dst []byte) []byte
}

// SameAsMarshal fails unless v.AppendJSON gives exactly json.Marshal's
// bytes, and appends them to what the buffer holds.
func SameAsMarshal(t testing.TB, v Appender) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	if got := v.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON differs from encoding/json:\n got %s\nwant %s", got, want)
	}
	if got := v.AppendJSON([]byte("x")); got[0] != 'x' || !bytes.Equal(got[1:], want) {
		t.Fatalf("AppendJSON does not append to the buffer it is given: %s", got)
	}
}

// SameBytes fails unless got equals want, showing both around the first
// byte where they differ (what names the output, for the message).
func SameBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < min(len(got), len(want)) && got[i] == want[i] {
		i++
	}
	t.Errorf("%s differs from encoding/json at byte %d:\n got %q\nwant %q", what, i,
		got[max(0, i-80):min(len(got), i+80)], want[max(0, i-80):min(len(want), i+80)])
}
