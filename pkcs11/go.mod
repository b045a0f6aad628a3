module github.com/giotls/giotls/pkcs11

go 1.26.0

require github.com/giotls/giotls v0.0.0

require github.com/miekg/pkcs11 v1.1.2 // indirect

replace github.com/giotls/giotls => ../
