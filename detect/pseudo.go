package detect

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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

// pseudonymizer turns patient identifiers into stable keyed pseudonyms.
type pseudonymizer struct {
	key []byte
	buf []byte
}

// pseudonym returns the first 16 hex digits of HMAC-SHA256(key, id) for a
// normalised identifier: the first component (before '^') of each
// repetition, so a DICOM PatientID and an HL7 PID-3 CX of the same patient
// give the same pseudonym.
func (p *pseudonymizer) pseudonym(id string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(id))
	p.buf = m.Sum(p.buf[:0])
	return hex.EncodeToString(p.buf[:pseudonymHex/2])
}

// identifiers splits a value into normalised identifiers.
func identifiers(v string, dst []string) []string {
	for _, rep := range strings.Split(v, "~") {
		id, _, _ := strings.Cut(rep, "^")
		id = strings.TrimSpace(id)
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
func mask(v string) string {
	v = strings.TrimRight(v, "^~ ")
	var b strings.Builder
	first := true
	for _, r := range v {
		switch r {
		case '^', ' ', '-', '/', '~':
			b.WriteRune(r)
			first = true
			continue
		}
		if first {
			first = false
			b.WriteRune(r)
			continue
		}
		b.WriteByte('*')
	}
	// Fix one-rune components: they were written in full.
	out := []rune(b.String())
	start := 0
	for i := 0; i <= len(out); i++ {
		if i == len(out) || strings.ContainsRune("^ -/~", out[i]) {
			if i-start == 1 {
				out[start] = '*'
			}
			start = i + 1
		}
	}
	s := string(out)
	if !utf8.ValidString(s) {
		return "***"
	}
	return s
}
