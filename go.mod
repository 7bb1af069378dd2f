module github.com/medtap/medtap

go 1.26.0

require (
	github.com/gopacket/gopacket v1.7.7
	golang.org/x/sys v0.49.0
)

require golang.org/x/term v0.27.0 // indirect
