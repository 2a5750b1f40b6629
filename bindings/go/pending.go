package salus

import (
	"sync"

	"salus.dev/salus/internal/capi"
)

// Pending is an iteration queued by Session.Submit or Session.SubmitGraph
// (salus_pending); it returns the outputs of the graph it ran. Wait gets its
// result; the first Wait to return frees the libsalus handle, and
// later Waits return the same result again. Close frees a Pending that is
// never waited for. It may be used from several goroutines at once.
type Pending struct {
	client   *Client
	nOutputs int

	mu        sync.Mutex
	ptr       capi.Struct_SS_salus_pending // nil once waited for or closed
	done      bool                         // the result below is final
	outputs   []*Tensor
	err       error
	iteration uint64
}

// Wait waits for the iteration and returns its outputs (salus_pending_wait).
// A failed iteration (ErrShape for a bad feed, ErrConnect when the daemon went
// away) reports its error. Waiting after Close fails with ErrInvalid.
func (p *Pending) Wait() ([]*Tensor, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return p.outputs, p.err
	}
	if p.ptr == nil {
		return nil, errorf(ErrInvalid, "Wait: the pending iteration was closed")
	}
	p.err = p.client.use("Wait", func(capi.Struct_SS_salus_client) error {
		outs := make([]uintptr, p.nOutputs)
		if err := check(func() int { return capi.Salus_pending_wait(p.ptr, outs) }); err != nil {
			return err
		}
		p.iteration = capi.Salus_pending_iteration(p.ptr)
		var err error
		p.outputs, err = takeOutputs(outs)
		return err
	})
	p.done = true
	capi.Salus_pending_free(p.ptr)
	p.ptr = nil
	return p.outputs, p.err
}

// Ready reports whether the result has arrived, so that Wait returns without
// blocking (salus_pending_ready). It does not block: while another goroutine
// is inside Wait it reports false.
func (p *Pending) Ready() bool {
	if !p.mu.TryLock() {
		return false
	}
	defer p.mu.Unlock()
	if p.done {
		return true
	}
	if p.ptr == nil {
		return false
	}
	ready := false
	_ = p.client.use("Ready", func(capi.Struct_SS_salus_client) error {
		ready = capi.Salus_pending_ready(p.ptr) == 1
		return nil
	})
	return ready
}

// Iteration returns the 1-based index of the iteration in its session once
// Wait has succeeded, else 0 (salus_pending_iteration).
func (p *Pending) Iteration() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.iteration
}

// Close frees the pending iteration if Wait has not (salus_pending_free):
// an iteration still in flight runs, its result is dropped. Calling it again
// does nothing.
func (p *Pending) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ptr != nil {
		capi.Salus_pending_free(p.ptr)
		p.ptr = nil
	}
}
