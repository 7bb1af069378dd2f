package main

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"
)

var dnsNames = []string{
	"pacs.hospital.example", "ehr.hospital.example", "portal.hospital.example", "lab.hospital.example",
	"updates.vendor.example", "cloud.imaging.example", "telemetry.vendor.example", "api.partner.example",
}

var syslogMsgs = []string{
	"DICOM association accepted from CT_SCANNER_07",
	"study transfer complete, 128 instances",
	"user clinician01 logged in from workstation",
	"HL7 interface queue depth 3",
	"disk usage 71% on /var/lib/archive",
	"license check ok",
	"service heartbeat",
}

// appendSyslog appends an RFC 5424 message from the pair's client.
func appendSyslog(b []byte, r *rng, usec uint64, p *hostPair) []byte {
	pri := 8*pick(r, []int{1, 4, 10, 16, 23}) + pick(r, []int{3, 4, 5, 6, 6, 6})
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(pri), 10)
	b = append(b, ">1 "...)
	b = time.UnixMicro(int64(usec)).UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	b = append(b, " host-10-"...)
	b = strconv.AppendInt(b, int64(p.cli.ip[1]), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(p.cli.ip[2]), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(p.cli.ip[3]), 10)
	b = append(b, ' ')
	b = append(b, kindNames[p.kind]...)
	b = append(b, "d "...)
	b = strconv.AppendInt(b, int64(r.between(100, 65000)), 10)
	b = append(b, " - - "...)
	return append(b, pick(r, syslogMsgs)...)
}

// appendDNS appends a DNS query for name (answer nil) or a response with one
// A record.
func appendDNS(b []byte, id uint16, name string, answer []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, id)
	if answer == nil {
		b = append(b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
	} else {
		b = append(b, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0)
	}
	for l := range strings.SplitSeq(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0, 0, 1, 0, 1) // QTYPE A, QCLASS IN
	if answer != nil {
		b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4) // name ptr, A, IN, TTL 3600, len 4
		b = append(b, answer...)
	}
	return b
}
