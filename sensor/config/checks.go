package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/medtap/medtap/sensor/output"
	"github.com/medtap/medtap/sensor/output/syslog"
)

// sizeUnits are the units ParseSize accepts: binary (KiB, MiB, GiB, TiB)
// and decimal (kB, MB, GB, TB).
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseSize reads a byte size: a whole number with an optional unit, such
// as 65536, 512KiB, 100MiB or 1GB.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size like 65536, 512KiB, 100MiB or 1GB", s)
	}
	return n * mult, nil
}

// MinMemoryLimit is the smallest memory limit taken: below it the
// collector would run nearly all the time on any input.
const MinMemoryLimit = 16 << 20

// ParseMemoryLimit reads a memory limit: a size (at least MinMemoryLimit)
// or "off" (0).
func ParseMemoryLimit(s string) (int64, error) {
	if strings.TrimSpace(s) == "off" {
		return 0, nil
	}
	n, err := ParseSize(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither off nor a size like 44MiB or 1GiB", s)
	}
	if n < MinMemoryLimit {
		return 0, fmt.Errorf("%q is below the least limit, 16MiB; use a larger size or off", s)
	}
	return n, nil
}

func memoryLimit(v any) error {
	_, err := ParseMemoryLimit(v.(string))
	return err
}

func nonEmpty(v any) error {
	if v.(string) == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func intRange(lo, hi int) func(any) error {
	return func(v any) error {
		if n := v.(int); n < lo || n > hi {
			return fmt.Errorf("%d out of range; use %d..%d", n, lo, hi)
		}
		return nil
	}
}

func sizeRange(lo, hi int64) func(any) error {
	return func(v any) error {
		if n := v.(int64); n < lo || n > hi {
			return fmt.Errorf("%d bytes out of range; use %d..%d", n, lo, hi)
		}
		return nil
	}
}

func durRange(lo, hi time.Duration) func(any) error {
	return func(v any) error {
		if d := v.(time.Duration); d < lo || d > hi {
			return fmt.Errorf("%s out of range; use %s..%s", d, lo, hi)
		}
		return nil
	}
}

func oneOf(vals ...string) func(any) error {
	return func(v any) error {
		for _, x := range vals {
			if v.(string) == x {
				return nil
			}
		}
		return fmt.Errorf("%q: use %s", v, strings.Join(vals, " or "))
	}
}

func network(v any) error {
	s := v.(string)
	if _, err := netip.ParsePrefix(s); err == nil {
		return nil
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	return fmt.Errorf("%q is not a network like 10.20.0.0/16 or an address", s)
}

func rotateSize(v any) error {
	if n := v.(int64); n != 0 && n < output.MinRotateSize {
		return fmt.Errorf("%d bytes is too small; use 0 (never rotate) or at least %d", n, output.MinRotateSize)
	}
	return nil
}

func syslogURL(v any) error {
	_, _, err := syslog.ParseURL(v.(string))
	return err
}

func facility(v any) error {
	if _, ok := syslog.Facilities[v.(string)]; !ok {
		return fmt.Errorf("%q is not a facility; use a name like local0..local7, daemon or security", v)
	}
	return nil
}

func natsURL(v any) error {
	for _, s := range strings.Split(v.(string), ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls") {
			return fmt.Errorf("%q is not a NATS URL like nats://host:4222 (comma-separated for a cluster)", s)
		}
	}
	return nil
}

func hostPort(v any) error {
	_, port, err := net.SplitHostPort(v.(string))
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT like 127.0.0.1:9797", v)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q: bad port", v)
	}
	return nil
}

func httpURL(v any) error {
	u, err := url.Parse(v.(string))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an http:// or https:// URL", v)
	}
	return nil
}

func sortStrings(s []string) { sort.Strings(s) }

func ioLimit(r io.Reader, n int64) io.Reader { return io.LimitReader(r, n) }
