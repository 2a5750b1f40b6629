package tests

import (
	"math"
	"testing"

	"salus.dev/salus"
)

// submit queues batch index on s.
func (m *mlp) submit(t *testing.T, s *salus.Session, index uint64) *salus.Pending {
	t.Helper()
	feeds, _, _ := m.feeds(t, index)
	p, err := s.Submit(feeds)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return p
}

// waitLoss waits for p and returns its loss.
func waitLoss(t *testing.T, p *salus.Pending) float64 {
	t.Helper()
	outs, err := p.Wait()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return scalar(t, outs)
}

// syncLosses trains a fresh session of m on batches 0..n-1 with Run.
func syncLosses(t *testing.T, c *salus.Client, m *mlp, n int) []float64 {
	s := openSession(t, c, m.graph, nil)
	losses := make([]float64, n)
	for i := range losses {
		losses[i] = m.train(t, s, uint64(i))
	}
	// Training changed the loss: comparing with these checks the order.
	if !(losses[n-1] < losses[0]) {
		t.Fatalf("the loss did not fall over %d iterations: %v", n, losses)
	}
	return losses
}

func sameLoss(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// Sixteen iterations queued before the first Wait give the losses of sixteen
// Runs, in the same order.
func TestSubmitInFlightEqualsRun(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	const n = 16
	want := syncLosses(t, c, m, n)
	s := openSession(t, c, m.graph, nil)
	pending := make([]*salus.Pending, n)
	for i := range pending {
		pending[i] = m.submit(t, s, uint64(i))
	}
	for i, p := range pending {
		if got := waitLoss(t, p); !sameLoss(got, want[i]) {
			t.Errorf("iteration %d: loss %.9g, Run gave %.9g", i+1, got, want[i])
		}
		if !p.Ready() || p.Iteration() != uint64(i+1) {
			t.Errorf("pending %d: ready %v, iteration %d", i, p.Ready(), p.Iteration())
		}
	}
}

// Waiting on the last first: every Pending still gets its own result, and
// a second Wait returns the same one.
func TestWaitOutOfOrder(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	const n = 6
	want := syncLosses(t, c, m, n)
	s := openSession(t, c, m.graph, nil)
	pending := make([]*salus.Pending, n)
	for i := range pending {
		pending[i] = m.submit(t, s, uint64(i))
	}
	for i := n - 1; i >= 0; i-- {
		if got := waitLoss(t, pending[i]); !sameLoss(got, want[i]) || pending[i].Iteration() != uint64(i+1) {
			t.Errorf("pending %d: iteration %d, loss %.9g; want %d, %.9g",
				i, pending[i].Iteration(), got, i+1, want[i])
		}
	}
	for i, p := range pending {
		if again := waitLoss(t, p); !sameLoss(again, want[i]) {
			t.Errorf("pending %d: second Wait gave %.9g, the first %.9g", i, again, want[i])
		}
	}
}

// A Pending closed before its result: the iteration still runs, and Wait
// on it fails.
func TestPendingClosedUnwaited(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	s := openSession(t, c, m.graph, nil)
	dropped := m.submit(t, s, 0)
	dropped.Close()
	m.submit(t, s, 1).Close()
	p := m.submit(t, s, 2)
	waitLoss(t, p)
	if p.Iteration() != 3 {
		t.Errorf("iteration %d after two dropped ones, want 3", p.Iteration())
	}
	_, err := dropped.Wait()
	wantError(t, "Wait after Close", err, salus.ErrInvalid)
	dropped.Close()
}

// Iterations queued before Session.Close complete, and their Pendings
// deliver.
func TestPendingOutlivesSession(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	s, err := c.CreateSession(m.graph, nil)
	if err != nil {
		t.Fatal(err)
	}
	pending := make([]*salus.Pending, 4)
	for i := range pending {
		pending[i] = m.submit(t, s, uint64(i))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i, p := range pending {
		waitLoss(t, p)
		if p.Iteration() != uint64(i+1) {
			t.Errorf("pending %d: iteration %d", i, p.Iteration())
		}
	}
}
