// Command gen rebuilds the OUI table embedded in package oui from the IEEE
// registry CSV files that Debian's ieee-data package installs
// (/usr/share/ieee-data: oui.csv MA-L, mam.csv MA-M, oui36.csv MA-S,
// iab.csv IAB). It writes gzip-compressed lines "BITS\tHEXPREFIX\tORG",
// sorted, and a version file with the registry's date. The output is the
// same for the same input: no time stamps, fixed compression level.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	src := flag.String("src", "/usr/share/ieee-data", "directory of the IEEE registry CSV files")
	out := flag.String("o", "oui.tsv.gz", "output file")
	version := flag.String("version", "VERSION", "version file (the registry's date)")
	flag.Parse()
	if err := run(*src, *out, *version); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(src, out, version string) error {
	files := []struct {
		name string
		bits int
	}{{"oui.csv", 24}, {"mam.csv", 28}, {"oui36.csv", 36}, {"iab.csv", 36}}
	seen := map[string]bool{}
	var lines []string
	for _, f := range files {
		fh, err := os.Open(filepath.Join(src, f.name))
		if err != nil {
			return fmt.Errorf("%w (install Debian's ieee-data package)", err)
		}
		r := csv.NewReader(fh)
		r.FieldsPerRecord = -1
		for first := true; ; first = false {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				fh.Close()
				return fmt.Errorf("%s: %w", f.name, err)
			}
			if first || len(rec) < 3 {
				continue
			}
			prefix := strings.ToLower(strings.TrimSpace(rec[1]))
			org := strings.Join(strings.Fields(rec[2]), " ")
			if len(prefix)*4 != f.bits || org == "" || strings.EqualFold(org, "private") || seen[prefix] {
				continue
			}
			seen[prefix] = true
			lines = append(lines, fmt.Sprintf("%d\t%s\t%s", f.bits, prefix, org))
		}
		fh.Close()
	}
	sort.Strings(lines)
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	date, err := os.ReadFile(filepath.Join(src, ".lastupdate"))
	if err != nil {
		return fmt.Errorf("registry date: %w", err)
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(string(date)), 10, 64)
	if err != nil {
		return fmt.Errorf("registry date %q: %w", date, err)
	}
	day := time.Unix(secs, 0).UTC().Format("2006-01-02")
	return os.WriteFile(version, []byte("IEEE registries of "+day+" (Debian ieee-data)\n"), 0o644)
}
