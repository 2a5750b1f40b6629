package salus

import (
	"errors"
	"sync"

	"salus.dev/salus/internal/capi"
)

// ConnectOptions are the options of Connect (salus_connect_options).
type ConnectOptions struct {
	// SocketPath is the daemon's socket; "" means $SALUS_SOCKET, else
	// DefaultSocketPath().
	SocketPath string
	// ClientName is shown by the daemon; "" means the program name.
	ClientName string
}

// Client is one connection to salusd (salus_client). It may be used from
// several goroutines at once; Close ends it.
type Client struct {
	mu  sync.RWMutex                // write-held by Close only
	ptr capi.Struct_SS_salus_client // nil once closed

	sessionsMu sync.Mutex
	sessions   map[*Session]struct{} // open sessions, closed by Close
}

// Connect connects to the daemon and negotiates the protocol
// (salus_connect). opts may be nil.
func Connect(opts *ConnectOptions) (*Client, error) {
	copts := capi.NewSalus_connect_options()
	defer capi.DeleteSalus_connect_options(copts)
	if err := check(func() int {
		return capi.Salus_connect_options_init(copts, uint(capi.SALUS_CONNECT_OPTIONS_VERSION))
	}); err != nil {
		return nil, err
	}
	// Unset strings stay NULL, which selects the defaults.
	if opts != nil && opts.SocketPath != "" {
		copts.SetSocket_path(opts.SocketPath)
	}
	if opts != nil && opts.ClientName != "" {
		copts.SetClient_name(opts.ClientName)
	}
	out := []uintptr{0}
	if err := check(func() int { return capi.Salus_connect(copts, out) }); err != nil {
		return nil, err
	}
	return &Client{
		ptr:      capi.SwigcptrStruct_SS_salus_client(out[0]),
		sessions: map[*Session]struct{}{},
	}, nil
}

// DefaultSocketPath returns the socket used when neither ConnectOptions nor
// $SALUS_SOCKET name one: $XDG_RUNTIME_DIR/salus/salusd.sock for a user,
// /run/salus/salusd.sock for root (salus_default_socket_path).
func DefaultSocketPath() (string, error) {
	for size := 128; ; size *= 4 {
		buf := make([]byte, size)
		n, err := call(func() int { return capi.Salus_default_socket_path(buf) })
		if err == nil {
			return string(buf[:n]), nil
		}
		if !errors.Is(err, ErrTooBig) || size >= 1<<16 {
			return "", err
		}
	}
}

// Close closes the client's open sessions (each waits for its queued
// iterations), then the connection (salus_disconnect). It waits for calls in
// progress on the client. Afterwards every call fails: with ErrNoSession on
// its sessions, with ErrConnect on the client and on a Pending not yet
// waited for (Pending.Close still frees it). Close returns the first error
// of closing a session; calling it again does nothing.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return nil
	}
	c.sessionsMu.Lock()
	open := make([]*Session, 0, len(c.sessions))
	for s := range c.sessions {
		open = append(open, s)
	}
	c.sessionsMu.Unlock()
	var first error
	for _, s := range open {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	capi.Salus_disconnect(c.ptr)
	c.ptr = nil
	return first
}

// use runs f with the connection while it is open, and fails with
// ErrConnect once the client is closed.
func (c *Client) use(what string, f func(ptr capi.Struct_SS_salus_client) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return errorf(ErrConnect, "%s: the client is closed", what)
	}
	return f(c.ptr)
}

// SetPolicy switches the daemon's scheduling policy: "fifo", "srtf", "pack",
// "fair" or "priority" (salus_set_policy). It applies from the next
// iteration boundary.
func (c *Client) SetPolicy(policy string) error {
	return c.use("SetPolicy", func(p capi.Struct_SS_salus_client) error {
		return check(func() int { return capi.Salus_set_policy(p, policy) })
	})
}
