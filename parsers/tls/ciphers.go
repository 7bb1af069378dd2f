package tls

import "strconv"

// cipherNames maps IANA cipher suite ids to their IANA names, for the suites
// seen in practice (and every NULL suite). Others are named "0xXXXX".
var cipherNames = map[uint16]string{
	0x0000: "TLS_NULL_WITH_NULL_NULL",
	0x0001: "TLS_RSA_WITH_NULL_MD5",
	0x0002: "TLS_RSA_WITH_NULL_SHA",
	0x0004: "TLS_RSA_WITH_RC4_128_MD5",
	0x0005: "TLS_RSA_WITH_RC4_128_SHA",
	0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
	0x0016: "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
	0x002C: "TLS_PSK_WITH_NULL_SHA",
	0x002D: "TLS_DHE_PSK_WITH_NULL_SHA",
	0x002E: "TLS_RSA_PSK_WITH_NULL_SHA",
	0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
	0x0032: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
	0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
	0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
	0x0038: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
	0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
	0x003B: "TLS_RSA_WITH_NULL_SHA256",
	0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256",
	0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
	0x0040: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
	0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
	0x006A: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
	0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
	0x008C: "TLS_PSK_WITH_AES_128_CBC_SHA",
	0x008D: "TLS_PSK_WITH_AES_256_CBC_SHA",
	0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",
	0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
	0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
	0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
	0x00A2: "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
	0x00A3: "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
	0x00A8: "TLS_PSK_WITH_AES_128_GCM_SHA256",
	0x00A9: "TLS_PSK_WITH_AES_256_GCM_SHA384",
	0x00AE: "TLS_PSK_WITH_AES_128_CBC_SHA256",
	0x00AF: "TLS_PSK_WITH_AES_256_CBC_SHA384",
	0x00B0: "TLS_PSK_WITH_NULL_SHA256",
	0x00B1: "TLS_PSK_WITH_NULL_SHA384",
	0x00B4: "TLS_DHE_PSK_WITH_NULL_SHA256",
	0x00B5: "TLS_DHE_PSK_WITH_NULL_SHA384",
	0x00B8: "TLS_RSA_PSK_WITH_NULL_SHA256",
	0x00B9: "TLS_RSA_PSK_WITH_NULL_SHA384",
	0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
	0x1301: "TLS_AES_128_GCM_SHA256",
	0x1302: "TLS_AES_256_GCM_SHA384",
	0x1303: "TLS_CHACHA20_POLY1305_SHA256",
	0x1304: "TLS_AES_128_CCM_SHA256",
	0x1305: "TLS_AES_128_CCM_8_SHA256",
	0x5600: "TLS_FALLBACK_SCSV",
	0xC001: "TLS_ECDH_ECDSA_WITH_NULL_SHA",
	0xC006: "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
	0xC007: "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
	0xC008: "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
	0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	0xC00B: "TLS_ECDH_RSA_WITH_NULL_SHA",
	0xC010: "TLS_ECDHE_RSA_WITH_NULL_SHA",
	0xC011: "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
	0xC012: "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
	0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	0xC015: "TLS_ECDH_anon_WITH_NULL_SHA",
	0xC023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
	0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	0xC035: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",
	0xC036: "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",
	0xC037: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
	0xC038: "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384",
	0xC039: "TLS_ECDHE_PSK_WITH_NULL_SHA",
	0xC03A: "TLS_ECDHE_PSK_WITH_NULL_SHA256",
	0xC03B: "TLS_ECDHE_PSK_WITH_NULL_SHA384",
	0xC09C: "TLS_RSA_WITH_AES_128_CCM",
	0xC09D: "TLS_RSA_WITH_AES_256_CCM",
	0xC0AC: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
	0xC0AD: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
	0xC0B4: "TLS_SHA256_SHA256",
	0xC0B5: "TLS_SHA384_SHA384",
	0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	0xCCAA: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	0xCCAB: "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
	0xCCAC: "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
	0xD001: "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
}

// nullSuite describes a cipher suite that authenticates but does not
// encrypt: its records carry the plaintext in clear.
type nullSuite struct {
	mac   int  // MAC (or TLS 1.3 tag) length at the end of each record
	tls13 bool // RFC 9150 integrity-only TLS 1.3 suite: inner plaintext not extracted
}

// nullSuites is every IANA NULL (integrity-only) cipher suite, with the MAC
// length of its records: MD5 16, SHA-1 20, SHA-256 32, SHA-384 48 bytes.
var nullSuites = map[uint16]nullSuite{
	0x0000: {mac: 0},               // TLS_NULL_WITH_NULL_NULL
	0x0001: {mac: 16},              // TLS_RSA_WITH_NULL_MD5
	0x0002: {mac: 20},              // TLS_RSA_WITH_NULL_SHA
	0x002C: {mac: 20},              // TLS_PSK_WITH_NULL_SHA
	0x002D: {mac: 20},              // TLS_DHE_PSK_WITH_NULL_SHA
	0x002E: {mac: 20},              // TLS_RSA_PSK_WITH_NULL_SHA
	0x003B: {mac: 32},              // TLS_RSA_WITH_NULL_SHA256
	0x00B0: {mac: 32},              // TLS_PSK_WITH_NULL_SHA256
	0x00B1: {mac: 48},              // TLS_PSK_WITH_NULL_SHA384
	0x00B4: {mac: 32},              // TLS_DHE_PSK_WITH_NULL_SHA256
	0x00B5: {mac: 48},              // TLS_DHE_PSK_WITH_NULL_SHA384
	0x00B8: {mac: 32},              // TLS_RSA_PSK_WITH_NULL_SHA256
	0x00B9: {mac: 48},              // TLS_RSA_PSK_WITH_NULL_SHA384
	0xC001: {mac: 20},              // TLS_ECDH_ECDSA_WITH_NULL_SHA
	0xC006: {mac: 20},              // TLS_ECDHE_ECDSA_WITH_NULL_SHA
	0xC00B: {mac: 20},              // TLS_ECDH_RSA_WITH_NULL_SHA
	0xC010: {mac: 20},              // TLS_ECDHE_RSA_WITH_NULL_SHA
	0xC015: {mac: 20},              // TLS_ECDH_anon_WITH_NULL_SHA
	0xC039: {mac: 20},              // TLS_ECDHE_PSK_WITH_NULL_SHA
	0xC03A: {mac: 32},              // TLS_ECDHE_PSK_WITH_NULL_SHA256
	0xC03B: {mac: 48},              // TLS_ECDHE_PSK_WITH_NULL_SHA384
	0xC0B4: {mac: 32, tls13: true}, // TLS_SHA256_SHA256 (RFC 9150)
	0xC0B5: {mac: 48, tls13: true}, // TLS_SHA384_SHA384 (RFC 9150)
}

// cipherName gives the IANA name of a suite, or "0xXXXX".
func cipherName(id uint16) string {
	if n, ok := cipherNames[id]; ok {
		return n
	}
	return hex4(id)
}

// hex4 formats v as "0x" and four lower-case hex digits.
func hex4(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{'0', 'x', digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]})
}

// Protocol versions as they appear on the wire.
const (
	verSSL3  = 0x0300
	verTLS10 = 0x0301
	verTLS11 = 0x0302
	verTLS12 = 0x0303
	verTLS13 = 0x0304
)

// versionName gives the stable name of a protocol version ("TLSv1.2"), or
// "0xXXXX" for others (drafts, DTLS, garbage).
func versionName(v uint16) string {
	switch v {
	case 0x0002:
		return "SSLv2"
	case verSSL3:
		return "SSLv3"
	case verTLS10:
		return "TLSv1.0"
	case verTLS11:
		return "TLSv1.1"
	case verTLS12:
		return "TLSv1.2"
	case verTLS13:
		return "TLSv1.3"
	}
	return hex4(v)
}

// alertNames are the TLS alert descriptions (IANA TLS Alert Registry).
var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
	21: "decryption_failed", 22: "record_overflow", 30: "decompression_failure",
	40: "handshake_failure", 41: "no_certificate", 42: "bad_certificate",
	43: "unsupported_certificate", 44: "certificate_revoked",
	45: "certificate_expired", 46: "certificate_unknown",
	47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
	50: "decode_error", 51: "decrypt_error", 60: "export_restriction",
	70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation",
	109: "missing_extension", 110: "unsupported_extension",
	111: "certificate_unobtainable", 112: "unrecognized_name",
	113: "bad_certificate_status_response", 114: "bad_certificate_hash_value",
	115: "unknown_psk_identity", 116: "certificate_required",
	120: "no_application_protocol",
}

// alertName gives an alert description's name, or its number.
func alertName(d uint8) string {
	if n, ok := alertNames[d]; ok {
		return n
	}
	return strconv.Itoa(int(d))
}
