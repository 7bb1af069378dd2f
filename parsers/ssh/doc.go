// Package ssh decodes the clear part of an SSH connection (RFC 4253): both
// sides' identification strings (protocol version, software, comments) and
// their first SSH_MSG_KEXINIT, from which it computes the HASSH client and
// server fingerprints (MD5 of the offered key exchange, encryption, MAC and
// compression lists). Everything after the key exchange is encrypted and
// only counted by the flow record. One [Session] event per flow.
package ssh
