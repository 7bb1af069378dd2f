package inventory

import "github.com/medtap/medtap/parsers/parser"

// AppendJSON appends the change as one JSON object, exactly as
// encoding/json marshals it (event.Appender): a run writes one per new
// asset, service or identity, thousands on a big capture.
func (c *Change) AppendJSON(dst []byte) []byte {
	dst = parser.AppendJSONString(append(dst, `{"change":`...), c.Change)
	dst = parser.AppendJSONString(append(dst, `,"asset_id":`...), c.AssetID)
	for _, f := range [...]struct{ key, v string }{
		{`,"ip":`, c.IP}, {`,"mac":`, c.MAC}, {`,"class":`, c.Class},
		{`,"field":`, c.Field}, {`,"value":`, c.Value}, {`,"previous":`, c.Previous},
	} {
		if f.v != "" {
			dst = parser.AppendJSONString(append(dst, f.key...), f.v)
		}
	}
	return append(dst, '}')
}
