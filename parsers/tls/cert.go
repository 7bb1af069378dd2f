package tls

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"time"
	"unicode/utf8"
)

// maxNameLen caps the subject and issuer strings kept from a certificate.
const maxNameLen = 1024

var errNoCertificate = errors.New("empty certificate list")

// leafDER returns the first (leaf) certificate of a TLS 1.2 Certificate
// message body: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>.
func leafDER(body []byte) ([]byte, error) {
	r := reader{b: body}
	list := r.vec24()
	if r.bad || len(r.b) != 0 {
		return nil, errMalformed
	}
	if len(list) == 0 {
		return nil, errNoCertificate
	}
	lr := reader{b: list}
	der := lr.vec24()
	if lr.bad || len(der) == 0 {
		return nil, errMalformed
	}
	return der, nil
}

// parseCert reports a leaf certificate's facts. The returned Cert keeps no
// reference to der.
func parseCert(der []byte) (*Cert, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &Cert{
		Subject:    clip(c.Subject.String()),
		Issuer:     clip(c.Issuer.String()),
		NotBefore:  c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:   c.NotAfter.UTC().Format(time.RFC3339),
		Serial:     c.SerialNumber.Text(16),
		SelfSigned: selfSigned(c),
		SHA256:     hex.EncodeToString(sum[:]),
	}, nil
}

// selfSigned is true when the certificate's issuer equals its subject (as
// DER) and its signature does not fail verification with its own public key.
// Where Go cannot check the signature algorithm (MD5, SHA-1, unknown key
// types), issuer equal to subject decides alone.
func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
	if err == nil {
		return true
	}
	var insecure x509.InsecureAlgorithmError
	return errors.As(err, &insecure) || errors.Is(err, x509.ErrUnsupportedAlgorithm)
}

// clip shortens s to at most maxNameLen bytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxNameLen {
		return s
	}
	n := maxNameLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
