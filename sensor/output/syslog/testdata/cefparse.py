#!/usr/bin/env python3
"""An independent CEF reader for medtap's tests, written from the ArcSight
CEF specification (not from medtap's encoder): one CEF record per input
line, one JSON object per output line with the seven header fields and the
extension as a dict of unescaped values.

Header: "CEF:Version|Vendor|Product|DeviceVersion|SignatureID|Name|Severity|Extension",
where a header field escapes '|' and '\\' with a backslash. Extension:
space-separated key=value pairs; in a value '\\' and '=' are escaped with a
backslash, and '\\n', '\\r' stand for line breaks. A value runs to the
space before the next key=.
"""
import json
import re
import sys

KEY = re.compile(r"[A-Za-z0-9_.\[\]]+")


def header(s):
    fields, cur, i = [], [], 0
    while len(fields) < 7:
        if i >= len(s):
            raise ValueError("header has %d fields, want 7" % len(fields))
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s) or s[i + 1] not in "|\\":
                raise ValueError("bad header escape at %d" % i)
            cur.append(s[i + 1])
            i += 2
            continue
        if c == "|":
            fields.append("".join(cur))
            cur = []
        elif c in "\r\n":
            raise ValueError("line break in header")
        else:
            cur.append(c)
        i += 1
    return fields, s[i:]


def unescape_value(v):
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c == "\\":
            if i + 1 >= len(v):
                raise ValueError("dangling backslash")
            n = v[i + 1]
            out.append({"n": "\n", "r": "\r", "\\": "\\", "=": "="}.get(n))
            if out[-1] is None:
                raise ValueError("bad extension escape \\%s" % n)
            i += 2
            continue
        if c == "=":
            raise ValueError("unescaped '=' in value")
        out.append(c)
        i += 1
    return "".join(out)


def extension(s):
    # Positions of unescaped '=' mark keys: the key is the word before it.
    ext, starts, i = {}, [], 0
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s[i] == "=":
            j = i
            while j > 0 and KEY.fullmatch(s[j - 1]):
                j -= 1
            if j == i or (j > 0 and s[j - 1] != " "):
                raise ValueError("'=' without a key at %d" % i)
            starts.append((j, i))
        i += 1
    if s and not starts:
        raise ValueError("extension without key=value")
    if starts and starts[0][0] != 0:
        raise ValueError("text before the first key")
    for n, (k0, eq) in enumerate(starts):
        end = starts[n + 1][0] - 1 if n + 1 < len(starts) else len(s)
        key = s[k0:eq]
        if key in ext:
            raise ValueError("key %s repeated" % key)
        ext[key] = unescape_value(s[eq + 1:end])
    return ext


def main():
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.startswith("CEF:"):
            raise SystemExit("not a CEF record: %r" % line[:20])
        h, rest = header(line[4:])
        sev = int(h[6])
        if not 0 <= sev <= 10:
            raise SystemExit("severity %d out of 0-10" % sev)
        print(json.dumps({"version": h[0], "vendor": h[1], "product": h[2],
                          "device_version": h[3], "signature_id": h[4],
                          "name": h[5], "severity": sev,
                          "extension": extension(rest)}))


if __name__ == "__main__":
    main()
