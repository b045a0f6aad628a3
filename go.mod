module github.com/giotls/giotls

go 1.26.0

require (
	go.uber.org/goleak v1.3.0
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	software.sslmate.com/src/go-pkcs12 v0.7.4
)
