module salus.dev/salus-tests

go 1.19

require salus.dev/salus v0.0.0

replace salus.dev/salus => ../../bindings/go
