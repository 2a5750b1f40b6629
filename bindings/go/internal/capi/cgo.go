// Package capi is the raw binding of libsalus that SWIG generates from
// capi.swig and the public header <salus/salus.h> when the package is built.
// Only the parent package salus uses it.
package capi

// libsalus ships libsalus.pc; an in-tree build points PKG_CONFIG_PATH at
// meson's meson-uninstalled directory. go build runs swig with the -I flags
// it knows, and pkg-config drops -I/usr/include, so that one is named here
// for swig to find salus/salus.h when libsalus is installed under /usr.

// #cgo pkg-config: libsalus
// #cgo CFLAGS: -I/usr/include
import "C"
