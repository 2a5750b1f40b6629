// Package tests runs the Go binding against a real salusd: the daemon meson
// built ($SALUSD), on a private socket in a temporary directory.
package tests

import (
	"fmt"
	"os"
	"testing"

	"salus.dev/salus"
)

// shared is the daemon of every test that does not need its own.
var shared *daemon

func TestMain(m *testing.M) {
	d, err := startDaemon()
	if err != nil {
		fmt.Fprintln(os.Stderr, "TestMain:", err)
		os.Exit(1)
	}
	shared = d
	code := m.Run()
	if err := d.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "TestMain:", err)
		code = 1
	}
	os.Exit(code)
}

// connect opens a client on socket, closed when the test ends.
func connect(t *testing.T, socket string) *salus.Client {
	t.Helper()
	c, err := salus.Connect(&salus.ConnectOptions{SocketPath: socket, ClientName: "go-test"})
	if err != nil {
		t.Fatalf("Connect(%s): %v", socket, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// openSession creates a session of g on c, closed when the test ends.
func openSession(t *testing.T, c *salus.Client, g *salus.Graph, opts *salus.SessionOptions) *salus.Session {
	t.Helper()
	s, err := c.CreateSession(g, opts)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
