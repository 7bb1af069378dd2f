package inventory

import (
	"testing"

	"github.com/medtap/medtap/parsers/parser/jsontest"
	"github.com/medtap/medtap/sensor/event"
)

var _ event.Appender = (*Change)(nil)

// FuzzChangeJSON compares AppendJSON with encoding/json on any values.
func FuzzChangeJSON(f *testing.F) {
	f.Add(ChangeNewService, "a-10.1.2.3", "10.1.2.3", "", "modality", "service", "tcp/104 dicom", "")
	f.Add("", "", "", "00:11:22:33:44:55", "", "", "<&>\"\\\xff\u2028", "old")
	f.Fuzz(func(t *testing.T, change, id, ip, mac, class, field, value, prev string) {
		c := Change{Change: change, AssetID: id, IP: ip, MAC: mac, Class: class, Field: field, Value: value, Previous: prev}
		jsontest.SameAsMarshal(t, &c)
	})
}
