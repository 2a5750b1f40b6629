module salus.dev/examples/classifier

go 1.19

require salus.dev/salus v0.0.0

// The binding in this source tree. Against an installed Salus, point it at
// /usr/share/gocode/src/salus.dev/salus instead.
replace salus.dev/salus => ../../bindings/go
