package tests

import (
	"errors"
	"strings"
	"testing"
	"time"

	"salus.dev/salus"
)

// wantError fails unless err is a *salus.Error matching sentinel whose
// message mentions each of the texts.
func wantError(t *testing.T, what string, err error, sentinel *salus.Error, texts ...string) {
	t.Helper()
	var serr *salus.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &serr) {
		t.Errorf("%s: got error %v, want %v", what, err, sentinel)
		return
	}
	for _, text := range texts {
		if !strings.Contains(serr.Message, text) {
			t.Errorf("%s: message %q does not mention %q", what, serr.Message, text)
		}
	}
}

// The daemon rejects invalid graphs with ErrGraph naming the node, and the
// client goes on.
func TestInvalidGraphs(t *testing.T) {
	c := connect(t, shared.socket)
	w := tensor(t, make([]float32, 20), 4, 5)
	cases := []struct {
		node  string
		build func(g *salus.Graph)
	}{
		{"bad_matmul", func(g *salus.Graph) { // inner dimensions 3 and 4
			x := g.AddInput("x", salus.Float32, 2, 3)
			outs, _ := g.AddNode(salus.Node{Op: "MatMul", Name: "bad_matmul",
				Inputs: []salus.TensorID{x, g.AddVariable("w", w)}, Outputs: 1})
			g.AddOutput(outs[0])
		}},
		{"mystery", func(g *salus.Graph) { // an op nobody knows
			x := g.AddInput("x", salus.Float32, 2, 3)
			outs, _ := g.AddNode(salus.Node{Op: "NoSuchOp", Name: "mystery", Inputs: []salus.TensorID{x}, Outputs: 1})
			g.AddOutput(outs[0])
		}},
		{"no_lr", func(g *salus.Graph) { // SGDUpdate needs lr
			v := g.AddVariable("w", w)
			grad := g.AddConstant("grad", w)
			g.AddNode(salus.Node{Op: "SGDUpdate", Name: "no_lr", Inputs: []salus.TensorID{v, grad}})
		}},
	}
	for _, tc := range cases {
		g := salus.NewGraph()
		tc.build(g)
		if err := g.Err(); err != nil {
			t.Fatalf("%s: building: %v", tc.node, err)
		}
		s, err := c.CreateSession(g, nil)
		wantError(t, tc.node, err, salus.ErrGraph, tc.node)
		if s != nil {
			t.Errorf("%s: a session came back with the error", tc.node)
		}
		g.Close()
	}
	m := newMLP(t, defaultMLP)
	m.train(t, openSession(t, c, m.graph, nil), 0)
}

// The first failing builder call is kept and reported by CreateSession;
// later calls do nothing.
func TestGraphErrorIsSticky(t *testing.T) {
	c := connect(t, shared.socket)
	g := salus.NewGraph()
	defer g.Close()
	x := g.AddInput("x", salus.Float32, 2, 3)
	g.Op("Relu", salus.TensorID(99))
	if later := g.Op("Relu", x); later != 0 {
		t.Errorf("a call after the failure returned id %d", later)
	}
	wantError(t, "Err", g.Err(), salus.ErrInvalid, "99")
	if g.NodeCount() != 0 || g.TensorCount() != 1 {
		t.Errorf("after the failure: %d nodes, %d tensors; want 0 and 1", g.NodeCount(), g.TensorCount())
	}
	_, err := c.CreateSession(g, nil)
	wantError(t, "CreateSession", err, salus.ErrInvalid, "99")
	_, err = g.Export()
	wantError(t, "Export", err, salus.ErrInvalid, "99")

	for what, build := range map[string]func(g *salus.Graph){
		"attribute type": func(g *salus.Graph) {
			g.SetAttr(0, "axes", map[string]int{})
		},
		"nil variable": func(g *salus.Graph) { g.AddVariable("v", nil) },
		"closed graph": func(g *salus.Graph) {
			g.Close()
			g.AddInput("x", salus.Float32, 1)
		},
	} {
		g := salus.NewGraph()
		build(g)
		wantError(t, what, g.Err(), salus.ErrInvalid)
		g.Close()
	}
}

// Bad feeds fail with ErrShape or ErrInvalid, through Run and through
// Submit, and the session goes on without counting them.
func TestWrongFeeds(t *testing.T) {
	m := newMLP(t, defaultMLP)
	s := openSession(t, connect(t, shared.socket), m.graph, nil)
	good, _, _ := m.feeds(t, 0)
	b, in, classes := m.cfg.batch, m.cfg.in, m.cfg.classes
	wide := tensor(t, make([]float32, b*(in+1)), b, in+1)
	ints, _ := salus.NewInt32(make([]int32, b*in), b, in)

	for _, tc := range []struct {
		what     string
		feeds    salus.Feeds
		sentinel *salus.Error
		mentions string
	}{
		{"wrong shape", salus.Feeds{m.x: wide, m.labels: good[m.labels]}, salus.ErrShape, `"x"`},
		{"wrong dtype", salus.Feeds{m.x: ints, m.labels: good[m.labels]}, salus.ErrShape, `"x"`},
		{"input left out", salus.Feeds{m.x: good[m.x]}, salus.ErrInvalid, ""},
		{"not an input", salus.Feeds{m.x: good[m.x], m.labels: good[m.labels],
			m.loss: tensor(t, make([]float32, 1))}, salus.ErrInvalid, ""},
		{"nil tensor", salus.Feeds{m.x: good[m.x], m.labels: nil}, salus.ErrInvalid, ""},
	} {
		outs, err := s.Run(tc.feeds)
		wantError(t, "Run: "+tc.what, err, tc.sentinel, tc.mentions)
		if outs != nil {
			t.Errorf("Run: %s: outputs came back with the error", tc.what)
		}
	}

	// A feed of the wrong shape queues, and its Wait fails, every time.
	p, err := s.Submit(salus.Feeds{m.x: wide, m.labels: tensor(t, make([]float32, b*classes), b, classes)})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	for i := 0; i < 2; i++ {
		_, err = p.Wait()
		wantError(t, "Wait", err, salus.ErrShape, `"x"`)
	}

	m.train(t, s, 0)
	p, err = s.Submit(good)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if p.Iteration() != 2 {
		t.Errorf("iteration %d after one run and one submit, want 2", p.Iteration())
	}
}

// A closed session fails with ErrNoSession; the daemon lists it closed.
func TestClosedSession(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	s, err := c.CreateSession(m.graph, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.train(t, s, 0)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	feeds, _, _ := m.feeds(t, 1)
	_, err = s.Run(feeds)
	wantError(t, "Run", err, salus.ErrNoSession)
	_, err = s.Submit(feeds)
	wantError(t, "Submit", err, salus.ErrNoSession)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if info := findSession(t, c, s.ID()); info.State != "closed" || info.Iterations != 1 {
		t.Errorf("the daemon lists session %d as %q after %d iterations, want closed after 1",
			s.ID(), info.State, info.Iterations)
	}
}

// Closing a client closes its sessions; then every call fails cleanly.
func TestClosedClient(t *testing.T) {
	observer := connect(t, shared.socket)
	c, err := salus.Connect(&salus.ConnectOptions{SocketPath: shared.socket})
	if err != nil {
		t.Fatal(err)
	}
	m := newMLP(t, defaultMLP)
	s, err := c.CreateSession(m.graph, nil)
	if err != nil {
		t.Fatal(err)
	}
	feeds, _, _ := m.feeds(t, 0)
	p, err := s.Submit(feeds)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if info := findSession(t, observer, s.ID()); info.State != "closed" {
		t.Errorf("after Client.Close the session is %q", info.State)
	}
	_, err = s.Run(feeds)
	wantError(t, "Run", err, salus.ErrNoSession)
	_, err = p.Wait()
	wantError(t, "Wait", err, salus.ErrConnect, "closed")
	p.Close()
	_, err = c.CreateSession(m.graph, nil)
	wantError(t, "CreateSession", err, salus.ErrConnect, "closed")
	_, err = c.ListSessions()
	wantError(t, "ListSessions", err, salus.ErrConnect, "closed")
	_, err = c.Status()
	wantError(t, "Status", err, salus.ErrConnect, "closed")
	wantError(t, "SetPolicy", c.SetPolicy("fifo"), salus.ErrConnect, "closed")
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// SIGKILL mid-session: in-flight waits and every later call fail with
// ErrConnect at once, in order, and handles are still freed.
func TestDaemonGone(t *testing.T) {
	d := privateDaemon(t)
	c := connect(t, d.socket)
	m := newMLP(t, defaultMLP)
	s := openSession(t, c, m.graph, nil)
	m.train(t, s, 0)
	feeds, _, _ := m.feeds(t, 1)
	pending := make([]*salus.Pending, 32)
	for i := range pending {
		var err error
		if pending[i], err = s.Submit(feeds); err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
	}
	d.kill()

	start := time.Now()
	lost := 0
	for i, p := range pending {
		_, err := p.Wait()
		switch {
		case err == nil && lost > 0:
			t.Errorf("pending %d succeeded after an earlier one was lost", i)
		case err != nil:
			wantError(t, "Wait", err, salus.ErrConnect)
			lost++
		}
	}
	t.Logf("%d of %d iterations in flight were lost", lost, len(pending))
	_, err := s.Run(feeds)
	wantError(t, "Run", err, salus.ErrConnect, "closed the connection")
	_, err = c.CreateSession(m.graph, nil)
	wantError(t, "CreateSession", err, salus.ErrConnect)
	_, err = c.ListSessions()
	wantError(t, "ListSessions", err, salus.ErrConnect)
	wantError(t, "Session.Close", s.Close(), salus.ErrConnect)
	if err := c.Close(); err != nil {
		t.Errorf("Client.Close: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("failing took %v", elapsed)
	}
	_, err = salus.Connect(&salus.ConnectOptions{SocketPath: d.socket})
	wantError(t, "Connect", err, salus.ErrConnect)
}

// Requests over the daemon's frame limit fail with ErrTooBig, before
// sending or from the daemon, and the connection survives.
func TestOversize(t *testing.T) {
	d := privateDaemon(t, "--max-frame-bytes", "4096")
	c := connect(t, d.socket)

	// An 8 KiB variable cannot travel in a 4 KiB frame.
	g := salus.NewGraph()
	defer g.Close()
	g.AddOutput(g.AddVariable("v", tensor(t, make([]float32, 2048))))
	_, err := c.CreateSession(g, nil)
	wantError(t, "CreateSession with 8 KiB of variables", err, salus.ErrTooBig)

	// 1024 floats in, a scalar out: the session fits, a feed does not.
	g = salus.NewGraph()
	defer g.Close()
	x := g.AddInput("x", salus.Float32, 1024)
	g.AddOutput(g.Op("ReduceSum", x))
	s := openSession(t, c, g, nil)
	big := salus.Feeds{x: tensor(t, make([]float32, 1024))}
	_, err = s.Run(big)
	wantError(t, "Run with a 4 KiB feed", err, salus.ErrTooBig)
	if p, err := s.Submit(big); err == nil {
		_, err = p.Wait()
		wantError(t, "Wait for a 4 KiB feed", err, salus.ErrTooBig)
	} else {
		wantError(t, "Submit with a 4 KiB feed", err, salus.ErrTooBig)
	}

	// A 16 KiB output would not fit in a reply: the daemon refuses the graph.
	g = salus.NewGraph()
	defer g.Close()
	small := g.AddInput("x", salus.Float32, 4)
	outs, _ := g.AddNode(salus.Node{Op: "Expand", Name: "wide", Inputs: []salus.TensorID{small}, Outputs: 1,
		Attrs: map[string]any{"shape": []int64{1024, 4}}})
	g.AddOutput(outs[0])
	_, err = c.CreateSession(g, nil)
	wantError(t, "CreateSession with a 16 KiB output", err, salus.ErrTooBig)

	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	infos, err := c.ListSessions()
	if err != nil {
		t.Fatalf("ListSessions after the refusals: %v", err)
	}
	for _, info := range infos {
		if info.State != "closed" {
			t.Errorf("session %d is still %q", info.ID, info.State)
		}
	}
}

func TestConnectFails(t *testing.T) {
	_, err := salus.Connect(&salus.ConnectOptions{SocketPath: t.TempDir() + "/nobody.sock"})
	wantError(t, "Connect", err, salus.ErrConnect)
}
