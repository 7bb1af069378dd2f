package detect

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// DefaultKeyFile is where the pseudonym key lives when Options.KeyFile is
// empty: in the working directory, beside medtap's other state.
const DefaultKeyFile = "medtap-pseudonym.key"

// keyBytes is the pseudonym key size (HMAC-SHA256 key).
const keyBytes = 32

// pseudonymHex is how many hex digits of the HMAC a pseudonym keeps.
const pseudonymHex = 16

// LoadOrCreateKey returns the pseudonym key kept in path, creating it (32
// random bytes, hex, mode 0600) if the file does not exist. An existing file
// readable or writable by group or others is refused: whoever holds the key
// can test guesses of patient identifiers against pseudonyms.
func LoadOrCreateKey(path string) ([]byte, error) {
	if path == "" {
		path = DefaultKeyFile
	}
	k, err := readKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	k = make([]byte, keyBytes)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	// Write a temporary file and link it into place, so a concurrent
	// starter never reads a half-written key and never overwrites one.
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".medtap-key-*")
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKey(path) // another process won the race
		}
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	return k, nil
}

func readKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("pseudonym key %s: mode %#o is open to group or others; chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) < keyBytes {
		return nil, fmt.Errorf("pseudonym key %s: want %d hex-encoded bytes", path, keyBytes)
	}
	return k, nil
}

// pseudonymizer turns patient identifiers into stable keyed pseudonyms, and
// hashes them (maphash, a seed of its own per engine, never written out) so
// that an alert can count distinct identifiers without keeping them or
// computing an HMAC for each.
type pseudonymizer struct {
	key  []byte
	seed maphash.Seed
	mac  hash.Hash // HMAC-SHA256 with key, reset after each use
	in   []byte    // the identifier being hashed; cleared after each use
	sum  []byte
}

func newPseudonymizer(key []byte) pseudonymizer {
	return pseudonymizer{key: append([]byte(nil), key...), seed: maphash.MakeSeed()}
}

// hash is a 64-bit non-cryptographic hash of a normalised identifier, for
// de-duplication within one run only.
func (p *pseudonymizer) hash(id string) uint64 { return maphash.String(p.seed, id) }

// pseudonym returns the first 16 hex digits of HMAC-SHA256(key, id) for a
// normalised identifier: the first component (before '^') of each
// repetition, so a DICOM PatientID and an HL7 PID-3 CX of the same patient
// give the same pseudonym.
func (p *pseudonymizer) pseudonym(id string) string { return pseudonymText(p.mac64(id)) }

// mac64 is the pseudonym of id as a number: the first 64 bits of
// HMAC-SHA256(key, id).
func (p *pseudonymizer) mac64(id string) uint64 {
	if p.mac == nil {
		p.mac = hmac.New(sha256.New, p.key)
	}
	p.in = append(p.in[:0], id...)
	p.mac.Write(p.in)
	clear(p.in)
	p.sum = p.mac.Sum(p.sum[:0])
	p.mac.Reset() // also drops the identifier's bytes from the hash state
	return binary.BigEndian.Uint64(p.sum)
}

// pseudonymText writes a pseudonym as alerts show it: 16 hex digits.
func pseudonymText(h uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h)
	var t [pseudonymHex]byte
	hex.Encode(t[:], b[:pseudonymHex/2])
	return string(t[:])
}

// identifiers splits a value into normalised identifiers (substrings of v:
// the caller must not keep them).
func identifiers(v string, dst []string) []string {
	for len(v) > 0 {
		rep := v
		if i := strings.IndexByte(v, '~'); i >= 0 {
			rep, v = v[:i], v[i+1:]
		} else {
			v = ""
		}
		if i := strings.IndexByte(rep, '^'); i >= 0 {
			rep = rep[:i]
		}
		id := strings.TrimSpace(rep)
		if id != "" && !wildcardOnly(id) {
			dst = append(dst, id)
		}
	}
	return dst
}

// wildcardOnly reports whether a query value holds only DICOM wildcards.
func wildcardOnly(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	for _, c := range v {
		if c != '*' && c != '?' {
			return false
		}
	}
	return true
}

// mask keeps the first character of each component of a value (components
// split on '^', ' ', '-', '/') and replaces the rest with '*'; a one-character
// component becomes '*' (a one-character Chinese given name is the name).
func mask(v string) string { return string(appendMask(nil, v)) }

// appendMask appends mask(v) to b.
func appendMask(b []byte, v string) []byte {
	v = strings.TrimRight(v, "^~ ")
	start, runes := len(b), 0 // the current component
	end := func() {
		if runes == 1 {
			b = append(b[:start], '*')
		}
	}
	for _, r := range v {
		switch r {
		case '^', ' ', '-', '/', '~':
			end()
			b = append(b, byte(r))
			start, runes = len(b), 0
			continue
		}
		if runes == 0 {
			b = utf8.AppendRune(b, r)
		} else {
			b = append(b, '*')
		}
		runes++
	}
	end()
	return b
}
