package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// daemon is a real salusd on a socket in a fresh temporary directory.
type daemon struct {
	cmd    *exec.Cmd
	dir    string
	socket string
	exited chan error // receives the exit status once
	reaped bool       // the exit status was received
}

// startDaemon starts $SALUSD (the salusd meson built) with extra arguments
// and waits until it accepts connections.
func startDaemon(extra ...string) (*daemon, error) {
	salusd := os.Getenv("SALUSD")
	if salusd == "" {
		return nil, fmt.Errorf("$SALUSD is not set: run the tests with meson test")
	}
	dir, err := os.MkdirTemp("", "salus-go-")
	if err != nil {
		return nil, err
	}
	d := &daemon{dir: dir, socket: filepath.Join(dir, "salusd.sock"), exited: make(chan error, 1)}
	// The CPU backend unless a run asks for another, as in tests/capi.
	device := os.Getenv("SALUS_TEST_DEVICE")
	if device == "" {
		device = "cpu"
	}
	args := append([]string{"--socket", d.socket, "--workers", "2", "--device", device}, extra...)
	d.cmd = exec.Command(salusd, args...)
	d.cmd.Stdout = os.Stderr // the daemon's log goes to the test log
	d.cmd.Stderr = os.Stderr
	// Never outlive a test binary that crashes.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() { d.exited <- d.cmd.Wait() }()

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.Dial("unix", d.socket); err == nil {
			conn.Close()
			return d, nil
		}
		select {
		case err := <-d.exited:
			d.reaped = true
			os.RemoveAll(dir)
			return nil, fmt.Errorf("salusd exited early: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	d.kill()
	os.RemoveAll(dir)
	return nil, fmt.Errorf("salusd did not accept connections within 10 s")
}

// stop sends SIGTERM and fails unless salusd exits cleanly (status 0)
// within 5 s; then it removes the directory.
func (d *daemon) stop() error {
	defer os.RemoveAll(d.dir)
	if d.reaped {
		return nil // killed on purpose
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		d.reaped = true
		if err != nil {
			return fmt.Errorf("salusd stopped with %v", err)
		}
		return nil
	case <-time.After(5 * time.Second):
		d.kill()
		return fmt.Errorf("salusd ignored SIGTERM for 5 s")
	}
}

// kill ends salusd with SIGKILL and reaps it: its socket is closed from
// then on.
func (d *daemon) kill() {
	if !d.reaped {
		d.cmd.Process.Kill()
		<-d.exited
		d.reaped = true
	}
}

// privateDaemon starts a daemon for one test and stops it when the test
// ends, failing the test if it does not stop cleanly.
func privateDaemon(t *testing.T, extra ...string) *daemon {
	t.Helper()
	d, err := startDaemon(extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Error(err)
		}
	})
	return d
}
