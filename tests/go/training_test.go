package tests

import (
	"math"
	"testing"
)

// The first losses equal the double-precision reference: the first checks
// the forward pass, the next ones the backward pass and the updates too.
func TestMLPMatchesReference(t *testing.T) {
	m := newMLP(t, defaultMLP)
	s := openSession(t, connect(t, shared.socket), m.graph, nil)
	ref := newRefMLP(m)
	for it := uint64(0); it < 3; it++ {
		feeds, x, y := m.feeds(t, it)
		got := scalar(t, run(t, s, feeds))
		want := ref.step(x, y, m.cfg.lr)
		t.Logf("iteration %d: loss %.9g, reference %.9g", it+1, got, want)
		if math.Abs(got-want) > 1e-4*math.Abs(want) {
			t.Errorf("iteration %d: loss %.9g, the reference is %.9g", it+1, got, want)
		}
	}
}

// A hundred SGD steps over ten batches at least halve the loss of batch 0.
func TestMLPLossFalls(t *testing.T) {
	m := newMLP(t, defaultMLP)
	s := openSession(t, connect(t, shared.socket), m.graph, nil)
	first := m.train(t, s, 0)
	for it := uint64(1); it < 100; it++ {
		m.train(t, s, it%10)
	}
	after := m.train(t, s, 0)
	t.Logf("loss on batch 0: %.4f at iteration 1, %.4f at iteration 101", first, after)
	if !(after < 0.5*first) {
		t.Errorf("loss went from %.4f to %.4f: not halved", first, after)
	}
}
