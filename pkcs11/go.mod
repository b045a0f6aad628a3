module github.com/giotls/giotls/pkcs11

go 1.26.0

require github.com/giotls/giotls v0.0.0

require (
	github.com/miekg/pkcs11 v1.1.2
	golang.org/x/crypto v0.59.0
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	software.sslmate.com/src/go-pkcs12 v0.7.4 // indirect
)

replace github.com/giotls/giotls => ../
