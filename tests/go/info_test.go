package tests

import (
	"os"
	"strings"
	"testing"

	"salus.dev/salus"
)

// findSession returns the daemon's listing of session id.
func findSession(t *testing.T, c *salus.Client, id uint64) salus.SessionInfo {
	t.Helper()
	infos, err := c.ListSessions()
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	for _, info := range infos {
		if info.ID == id {
			return info
		}
	}
	t.Fatalf("session %d is not listed among %d", id, len(infos))
	return salus.SessionInfo{}
}

func TestSessionInfo(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	opts := &salus.SessionOptions{Name: "go-info", DeclaredIterations: 10, Priority: 3, Weight: 2}
	s := openSession(t, c, m.graph, opts)
	for it := uint64(0); it < 3; it++ {
		m.train(t, s, it)
	}
	info := findSession(t, c, s.ID())
	if info.Name != opts.Name || info.DeclaredIterations != 10 || info.Priority != 3 || info.Weight != 2 {
		t.Errorf("options came back as %q, %d iterations, priority %d, weight %g",
			info.Name, info.DeclaredIterations, info.Priority, info.Weight)
	}
	if info.PersistentBytes != s.PersistentBytes() || info.EphemeralBytes != s.EphemeralBytes() {
		t.Errorf("listed P %d, T %d; the session says P %d, T %d",
			info.PersistentBytes, info.EphemeralBytes, s.PersistentBytes(), s.EphemeralBytes())
	}
	// The four variables of the MLP are P at least: 8x16 + 16 + 16x4 + 4 floats.
	if s.PersistentBytes() < 4*(8*16+16+16*4+4) || s.EphemeralBytes() == 0 {
		t.Errorf("P %d, T %d: too small for the MLP", s.PersistentBytes(), s.EphemeralBytes())
	}
	if info.Iterations != 3 || info.Pending != 0 || info.RunTime <= 0 || info.MeanIterationTime <= 0 {
		t.Errorf("%d iterations (%d pending), run time %v, mean %v; want 3 done",
			info.Iterations, info.Pending, info.RunTime, info.MeanIterationTime)
	}
	if info.ClientPID != int32(os.Getpid()) || info.Lane == salus.NoLane || info.Admitted == 0 || info.Completed != 0 {
		t.Errorf("pid %d, lane %d, admitted %v, completed %v", info.ClientPID, info.Lane, info.Admitted, info.Completed)
	}
	if info.State == "closed" || info.State == "queued" {
		t.Errorf("an open admitted session is %q", info.State)
	}
	if s.NumOutputs() != 1 {
		t.Errorf("%d outputs, want the loss only", s.NumOutputs())
	}
}

func TestStatus(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	openSession(t, c, m.graph, nil)
	st, err := c.Status()
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	t.Logf("%+v", st)
	if st.Device == "" || st.Policy != "pack" || st.Admission != "safe" {
		t.Errorf("device %q, policy %q, admission %q", st.Device, st.Policy, st.Admission)
	}
	if st.PoolBytes == 0 || st.FreeBytes > st.PoolBytes || st.Lanes == 0 || st.OpenSessions == 0 {
		t.Errorf("pool %d, free %d, %d lanes, %d open sessions", st.PoolBytes, st.FreeBytes, st.Lanes, st.OpenSessions)
	}
}

func TestSetPolicy(t *testing.T) {
	d := privateDaemon(t, "--policy", "fifo")
	c := connect(t, d.socket)
	if err := c.SetPolicy("fair"); err != nil {
		t.Fatalf("SetPolicy(fair): %v", err)
	}
	wantError(t, "SetPolicy(bogus)", c.SetPolicy("bogus"), salus.ErrInvalid)
	st, err := c.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Policy != "fair" {
		t.Errorf("policy %q after SetPolicy(fair)", st.Policy)
	}
}

// With no socket in the options, Connect uses $SALUS_SOCKET.
func TestConnectFromEnvironment(t *testing.T) {
	t.Setenv("SALUS_SOCKET", shared.socket)
	c, err := salus.Connect(nil)
	if err != nil {
		t.Fatalf("Connect(nil) with $SALUS_SOCKET: %v", err)
	}
	defer c.Close()
	if _, err := c.Status(); err != nil {
		t.Errorf("Status: %v", err)
	}
}

func TestDefaultSocketPath(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/4242")
	want := "/run/user/4242/salus/salusd.sock"
	if os.Geteuid() == 0 {
		want = "/run/salus/salusd.sock"
	}
	if got, err := salus.DefaultSocketPath(); err != nil || got != want {
		t.Errorf("DefaultSocketPath() = %q, %v; want %q", got, err, want)
	}
}

// Export gives the IR the daemon receives: a flatbuffer with the SLGR
// identifier, the same bytes every time.
func TestGraphExport(t *testing.T) {
	m := newMLP(t, defaultMLP)
	a, err := m.graph.Export()
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	b, _ := m.graph.Export()
	if len(a) < 8 || string(a[4:8]) != "SLGR" || string(a) != string(b) {
		t.Errorf("%d bytes, identifier %q, stable %v", len(a), a[4:8], string(a) == string(b))
	}
	if m.graph.NodeCount() != 17 {
		t.Errorf("%d nodes, newMLP adds 17", m.graph.NodeCount())
	}
}

func TestDeviceInfo(t *testing.T) {
	c := connect(t, shared.socket)
	dev, err := c.DeviceInfo()
	if err != nil {
		t.Fatalf("DeviceInfo: %v", err)
	}
	st, err := c.Status()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", dev)
	want := os.Getenv("SALUS_TEST_DEVICE")
	if want == "" {
		want = "cpu"
	}
	typeOK := want == "auto" || strings.HasPrefix(want, dev.Type) // cuda:N is a cuda device
	if !typeOK || dev.Name == "" || dev.PoolBytes != st.PoolBytes || dev.TotalBytes == 0 {
		t.Errorf("device %+v; the daemon runs --device %s with a pool of %d bytes", dev, want, st.PoolBytes)
	}
	if (dev.Type == "cpu") != (dev.Index == -1) {
		t.Errorf("a %s device with index %d", dev.Type, dev.Index)
	}
}

// The lane a session is placed in holds at least its P, and its ephemeral
// region at least its T.
func TestListLanes(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	s := openSession(t, c, m.graph, nil)
	info := findSession(t, c, s.ID())
	lanes, err := c.ListLanes()
	if err != nil {
		t.Fatalf("ListLanes: %v", err)
	}
	st, _ := c.Status()
	if len(lanes) != int(st.Lanes) {
		t.Errorf("%d lanes listed, the status says %d", len(lanes), st.Lanes)
	}
	found := false
	for i, l := range lanes {
		t.Logf("%+v", l)
		if i > 0 && l.Base < lanes[i-1].Base+lanes[i-1].Capacity {
			t.Errorf("lane %d at %d overlaps the previous one", l.Lane, l.Base)
		}
		if l.Lane != info.Lane {
			continue
		}
		found = true
		if l.Sessions == 0 || l.PersistentBytes < s.PersistentBytes() || l.EphemeralBytes < s.EphemeralBytes() ||
			l.PersistentBytes+l.EphemeralBytes > l.Capacity || l.Stream == "" {
			t.Errorf("lane %+v cannot hold session %d (P %d, T %d)", l, s.ID(), s.PersistentBytes(), s.EphemeralBytes())
		}
	}
	if !found {
		t.Errorf("the session's lane %d is not listed", info.Lane)
	}
}
