module salus.dev/salus

go 1.19
