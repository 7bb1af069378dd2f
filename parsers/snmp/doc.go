// Package snmp decodes SNMP messages over UDP (RFC 1157 v1, RFC 1901/3416
// v2c, RFC 3412/3414 v3) into one [Message] event per datagram: version,
// whether a community string travels in clear (and whether it is a
// default one), the PDU type, request id, error status and variable
// binding count, and the v3 security flags and user presence. The
// community string is never kept; a v3 user name only in a field that is
// never serialised.
package snmp
