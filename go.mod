module github.com/medtap/medtap

go 1.26.0

require (
	github.com/gopacket/gopacket v1.7.7
	github.com/oschwald/maxminddb-golang/v2 v2.9.0
	github.com/suyashkumar/dicom v1.1.0
	golang.org/x/term v0.43.0
	golang.org/x/text v0.37.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
