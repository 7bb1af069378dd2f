// Package ftp decodes FTP control connections (RFC 959, with AUTH from RFC
// 4217): the server's banner, whether a user name and a password crossed in
// clear, the login result, AUTH TLS, commands and replies counted, and file
// transfers with the file name's extension only. Argument values are never
// serialised; the user name is kept for detect/ to pseudonymise, the
// password never. One [Session] event per control connection. Data
// connections are not followed.
package ftp
