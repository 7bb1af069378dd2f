// Package textscan finds personal identifiers in plaintext that no protocol
// field names as such: PRC resident identity numbers (GB 11643, with their
// ISO 7064 MOD 11-2 check character), PRC mobile and landline telephone
// numbers, and payment card numbers (13 to 19 digits passing the Luhn
// check). Text parsers (http, ftp, syslog, telnet, ...) offer it the bytes
// they carry.
//
// Scan reports each hit's category and byte range to a callback and keeps
// nothing; it does not allocate and passes over text without digits a word
// at a time. Collector is the form parsers embed in their events: counts per
// category for the JSON, and the first MaxValues values in a field tagged
// `json:"-"`, so that detect/ can pseudonymise them with its keyed HMAC as
// it does hl7.PHIValue; the values are never serialised.
package textscan
