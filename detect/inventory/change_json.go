package inventory

import "github.com/medtap/medtap/parsers/parser"

// AppendJSON appends the change as one JSON object, exactly as
// encoding/json marshals it (event.Appender): a run writes one per new
// asset, service or identity, thousands on a big capture.
func (c *Change) AppendJSON(dst []byte) []byte {
	dst = parser.AppendJSONField(dst, `{"change":`, c.Change)
	dst = parser.AppendJSONField(dst, `,"asset_id":`, c.AssetID)
	dst = parser.AppendJSONOptField(dst, `,"ip":`, c.IP)
	dst = parser.AppendJSONOptField(dst, `,"mac":`, c.MAC)
	dst = parser.AppendJSONOptField(dst, `,"class":`, c.Class)
	dst = parser.AppendJSONOptField(dst, `,"field":`, c.Field)
	dst = parser.AppendJSONOptField(dst, `,"value":`, c.Value)
	dst = parser.AppendJSONOptField(dst, `,"previous":`, c.Previous)
	return append(dst, '}')
}
