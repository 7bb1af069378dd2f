package http

import "github.com/medtap/medtap/parsers/textscan"

// Transaction is one HTTP/1.x request and its response, emitted when the
// response ends (or at the end of the flow, for a request left
// unanswered). Field names are stable. Values that may carry personal data
// are not serialised: the query string and credentials never, the path
// with identifiers found by textscan masked.
type Transaction struct {
	Method string `json:"method"`
	// Path is the request target's path (query removed), at most
	// MaxPathLen bytes, with every identifier textscan finds and every
	// segment holding a digit replaced by '*'. QueryPresent says a query
	// string followed.
	Path         string `json:"path"`
	QueryPresent bool   `json:"query_present,omitempty"`
	Version      string `json:"version"` // "1.0", "1.1"
	Host         string `json:"host,omitempty"`
	UserAgent    string `json:"user_agent,omitempty"`
	// AuthScheme is the Authorization header's scheme, lower-case:
	// "basic" (credentials in clear, base64 only), "digest", "ntlm",
	// "negotiate", "bearer", "other"; "" when absent. The credentials are
	// never kept, except the Basic user name in User (never serialised)
	// for detect/ to pseudonymise.
	AuthScheme string `json:"auth_scheme,omitempty"`
	User       string `json:"-"`
	// RequestContentType and RequestContentLength are the request's
	// Content-Type (media type only, lower-case) and declared length;
	// RequestBodyBytes what the body really held.
	RequestContentType   string `json:"request_content_type,omitempty"`
	RequestContentLength int64  `json:"request_content_length,omitempty"`
	RequestBodyBytes     int64  `json:"request_body_bytes,omitempty"`
	// Status is the response status code (0 when no response was seen).
	Status int `json:"status,omitempty"`
	// Server is the response's Server header.
	Server string `json:"server,omitempty"`
	// WWWAuthenticate is the scheme a 401 response asked for, lower-case.
	WWWAuthenticate       string `json:"www_authenticate,omitempty"`
	ResponseContentType   string `json:"response_content_type,omitempty"`
	ResponseContentLength int64  `json:"response_content_length,omitempty"`
	ResponseBodyBytes     int64  `json:"response_body_bytes,omitempty"`
	// WinRM is true for WS-Management: a request to /wsman (Windows
	// Remote Management on 5985, or on any port).
	WinRM bool `json:"winrm,omitempty"`
	// Upgrade is the Upgrade header of a 101 response ("websocket"): the
	// rest of the flow is not HTTP and the parser stops.
	Upgrade string `json:"upgrade,omitempty"`
	// Encoded is true when a body had a Content-Encoding other than
	// identity (gzip, deflate, br): it was not scanned.
	Encoded bool `json:"encoded,omitempty"`
	// Truncated is true when the transaction was not seen whole: a gap, a
	// limit, or the flow ended first.
	Truncated bool `json:"truncated,omitempty"`
	// PHI counts identifiers textscan found in the request target, the
	// headers' values and the bodies (first MaxScanBody bytes of each);
	// PHICategories names them; PHIValues holds the values for detection
	// only.
	PHICategories []string         `json:"phi_categories,omitempty"`
	PHI           textscan.Counts  `json:"phi"`
	PHIValues     []textscan.Value `json:"-"`
}

// EventType implements parser.Body.
func (*Transaction) EventType() string { return "http" }
