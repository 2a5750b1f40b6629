package salus

import (
	"fmt"
	"runtime"

	"salus.dev/salus/internal/capi"
)

// Code is a libsalus error code: one of the negative SALUS_E... values of
// <salus/salus.h>.
type Code int

// String returns libsalus's description of the code (salus_strerror).
func (c Code) String() string { return capi.Salus_strerror(int(c)) }

// Error is a failure reported by libsalus or the daemon, or found by this
// package before calling either.
type Error struct {
	Code    Code   // the SALUS_E... code
	Message string // the detailed message (salus_last_error), may be empty
}

// Error describes the code, then the detailed message.
func (e *Error) Error() string {
	if e.Message == "" {
		return "salus: " + e.Code.String()
	}
	return "salus: " + e.Code.String() + ": " + e.Message
}

// Is reports whether target is an *Error with the same code and no message
// (one of the sentinels), so that errors.Is(err, ErrShape) matches every
// shape error whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// The sentinels, one per error code of the C API, for errors.Is.
var (
	ErrInvalid      = &Error{Code: Code(capi.SALUS_EINVAL)}     // invalid argument
	ErrNoMemory     = &Error{Code: Code(capi.SALUS_ENOMEM)}     // out of host memory
	ErrConnect      = &Error{Code: Code(capi.SALUS_ECONNECT)}   // the daemon cannot be reached, went away, or the Client is closed
	ErrProtocol     = &Error{Code: Code(capi.SALUS_EPROTO)}     // malformed or unexpected message
	ErrVersion      = &Error{Code: Code(capi.SALUS_EVERSION)}   // protocol versions do not match
	ErrGraph        = &Error{Code: Code(capi.SALUS_EGRAPH)}     // the daemon rejected the graph
	ErrNoSession    = &Error{Code: Code(capi.SALUS_ENOSESSION)} // unknown or closed session
	ErrShape        = &Error{Code: Code(capi.SALUS_ESHAPE)}     // a fed tensor has the wrong dtype, shape or size
	ErrTooBig       = &Error{Code: Code(capi.SALUS_ETOOBIG)}    // over a configured size limit
	ErrExec         = &Error{Code: Code(capi.SALUS_EEXEC)}      // a kernel failed during an iteration
	ErrNotSupported = &Error{Code: Code(capi.SALUS_ENOTSUP)}    // valid but not supported by this daemon
	ErrResource     = &Error{Code: Code(capi.SALUS_ERESOURCE)}  // the daemon lacks device memory
	ErrCanceled     = &Error{Code: Code(capi.SALUS_ECANCELED)}  // the iteration was dropped before it ran
	ErrInternal     = &Error{Code: Code(capi.SALUS_EINTERNAL)}  // a bug: please report it
	ErrShutdown     = &Error{Code: Code(capi.SALUS_ESHUTDOWN)}  // the daemon is draining or shutting down
	ErrPermission   = &Error{Code: Code(capi.SALUS_EPERM)}      // the daemon refused it to this user (needs root or its admin group)
)

// errorf makes an error found by this package, with a message in the style
// of libsalus.
func errorf(sentinel *Error, format string, args ...any) error {
	return &Error{Code: sentinel.Code, Message: fmt.Sprintf(format, args...)}
}

// call runs f, which makes one libsalus call and returns its result, and
// turns a negative result into an *Error. libsalus keeps the last message per
// OS thread, so the goroutine stays on one thread for the call and the read.
func call(f func() int) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rc := f()
	if rc >= 0 {
		return rc, nil
	}
	return rc, &Error{Code: Code(rc), Message: capi.Salus_last_error()}
}

// check is call for the functions that return 0 on success.
func check(f func() int) error {
	_, err := call(f)
	return err
}
