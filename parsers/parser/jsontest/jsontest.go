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
