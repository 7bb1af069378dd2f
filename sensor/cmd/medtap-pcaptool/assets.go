package main

import (
	"bytes"
	"compress/flate"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"math/big"
	"time"
)

const (
	frameRows  = 512
	frameCols  = 512
	frameBytes = frameRows * frameCols * 2
	nVariants  = 4
)

// assets are the large, expensive pieces built once per capture and shared
// by all flows: CT frames (plain and deflated), certificates, text corpora.
type assets struct {
	clock      *uint64 // capture clock, µs
	frames     [nVariants][]byte
	deflFrames [nVariants][]byte // raw deflate, sync-flushed, not final
	deflEnd    []byte            // an empty final deflate block
	fw         *flate.Writer
	fbuf       bytes.Buffer
	certs      map[string][]byte // DER by server name
	text       []byte            // HTML-ish text
	json       []byte            // JSON-ish text
}

func newAssets(r *rng, clock *uint64) (*assets, error) {
	a := &assets{clock: clock, certs: map[string][]byte{}}
	var err error
	if a.fw, err = flate.NewWriter(&a.fbuf, flate.BestSpeed); err != nil {
		return nil, err
	}
	for v := range nVariants {
		a.frames[v] = ctFrame(r, v)
		a.fbuf.Reset()
		a.fw.Reset(&a.fbuf)
		a.fw.Write(a.frames[v])
		a.fw.Flush()
		a.deflFrames[v] = bytes.Clone(a.fbuf.Bytes())
	}
	a.fbuf.Reset()
	a.fw.Reset(&a.fbuf)
	a.fw.Close()
	a.deflEnd = bytes.Clone(a.fbuf.Bytes())
	for _, name := range []string{"pacs.hospital.example", "ehr.hospital.example", "portal.hospital.example",
		"lab.hospital.example", "updates.vendor.example", "cloud.imaging.example",
		"telemetry.vendor.example", "api.partner.example"} {
		der, err := selfSigned(r, name)
		if err != nil {
			return nil, fmt.Errorf("certificate for %s: %w", name, err)
		}
		a.certs[name] = der
	}
	a.text = corpusHTML(r)
	a.json = corpusJSON(r)
	return a, nil
}

// deflate compresses b as the start of a raw deflate stream (sync-flushed,
// no final block) and appends the result to dst.
func (a *assets) deflate(dst, b []byte) []byte {
	a.fbuf.Reset()
	a.fw.Reset(&a.fbuf)
	a.fw.Write(b)
	a.fw.Flush()
	return append(dst, a.fbuf.Bytes()...)
}

func (a *assets) now() time.Time { return time.UnixMicro(int64(*a.clock)).UTC() }

// ctFrame draws a 512x512 16-bit (12 bits stored) CT-like slice: a body
// ellipse with a few organs and noise, different per variant.
func ctFrame(r *rng, v int) []byte {
	b := make([]byte, frameBytes)
	cx, cy := 256.0, 256.0+float64(v*6)
	for y := range frameRows {
		for x := range frameCols {
			dx, dy := (float64(x)-cx)/220, (float64(y)-cy)/170
			val := 24 // air, around -1000 HU with intercept -1024
			if dx*dx+dy*dy < 1 {
				val = 1040 // soft tissue
				ox, oy := (float64(x)-cx-80+float64(v*10))/50, (float64(y)-cy)/60
				if ox*ox+oy*oy < 1 {
					val = 1090
				}
				bx, by := (float64(x)-cx)/25, (float64(y)-cy-120)/25
				if bx*bx+by*by < 1 {
					val = 1900 // bone
				}
			}
			val += int(r.u64() & 31)
			binary.LittleEndian.PutUint16(b[2*(y*frameCols+x):], uint16(val&0x0fff))
		}
	}
	return b
}

// selfSigned makes a deterministic self-signed Ed25519 server certificate:
// the key comes from the seed and Ed25519 signatures are deterministic.
func selfSigned(r *rng, name string) ([]byte, error) {
	var seed [ed25519.SeedSize]byte
	r.fill(seed[:])
	key := ed25519.NewKeyFromSeed(seed[:])
	serial := new(big.Int).SetUint64(r.u64() >> 1)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Synthetic Test Hospital"}, Country: []string{"CN"}},
		NotBefore:             time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{name},
	}
	return x509.CreateCertificate(r.reader(), tmpl, tmpl, key.Public(), key)
}

// reader adapts the PRNG to io.Reader.
func (r *rng) reader() *rngReader { return &rngReader{r} }

type rngReader struct{ r *rng }

func (rr *rngReader) Read(p []byte) (int, error) { rr.r.fill(p); return len(p), nil }

var words = []string{"patient", "ward", "radiology", "imaging", "report", "schedule", "nurse",
	"station", "update", "clinic", "laboratory", "result", "order", "pharmacy", "admission",
	"discharge", "transfer", "worklist", "study", "series", "modality", "archive", "portal",
	"synthetic", "record", "department", "cardiology", "oncology", "emergency", "surgery"}

func corpusHTML(r *rng) []byte {
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Synthetic Hospital Intranet</title>" +
		"<link rel=\"stylesheet\" href=\"/static/site.css\"></head>\n<body>\n")
	for b.Len() < 96<<10 {
		fmt.Fprintf(&b, "<div class=\"%s\"><h2>%s %s</h2><p>", pick(r, words), pick(r, words), pick(r, words))
		for range r.between(10, 60) {
			b.WriteString(pick(r, words))
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "</p><a href=\"/%s/%d\">%s</a></div>\n", pick(r, words), r.intn(100000), pick(r, words))
	}
	return b.Bytes()
}

func corpusJSON(r *rng) []byte {
	var b bytes.Buffer
	b.WriteString("[")
	for i := 0; b.Len() < 96<<10; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"id":%d,"type":"%s","status":"%s","room":"%d","updated":"2024-03-04T%02d:%02d:%02dZ","note":"%s %s %s"}`,
			100000+i, pick(r, words), pick(r, []string{"scheduled", "arrived", "in-progress", "completed"}),
			r.between(100, 999), r.intn(24), r.intn(60), r.intn(60), pick(r, words), pick(r, words), pick(r, words))
	}
	b.WriteString("]\n")
	return b.Bytes()
}
