package salus

import (
	"sort"
	"sync"

	"salus.dev/salus/internal/capi"
)

// SessionOptions are the options of Client.CreateSession
// (salus_session_options).
type SessionOptions struct {
	Name               string  // shown by the daemon; "" for none
	DeclaredIterations uint64  // planned iterations, for the srtf policy; 0: unknown
	Priority           int32   // higher runs first under the priority policy
	Weight             float64 // share under the fair policy; 0 means 1
}

// Session is a graph opened on the daemon (salus_session): its variables stay
// resident there between iterations. It may be used from several goroutines
// at once; Close ends it.
type Session struct {
	client     *Client
	id         uint64
	persistent uint64
	ephemeral  uint64
	nOutputs   int

	mu  sync.RWMutex                 // write-held by Close only
	ptr capi.Struct_SS_salus_session // nil once closed
}

// Feeds maps each input of a graph to the tensor fed to it in one iteration.
type Feeds map[TensorID]*Tensor

// ids returns the fed tensor ids in ascending order.
func (f Feeds) ids() []uint32 {
	ids := make([]uint32, 0, len(f))
	for id := range f {
		ids = append(ids, uint32(id))
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// CreateSession sends the graph to the daemon, which validates it (ErrGraph
// names the offending node), plans its memory and admits it
// (salus_session_create). While the daemon's memory pool cannot hold it yet
// the call blocks in the admission queue; ErrResource when it never could.
// opts may be nil. The graph can be closed or reused afterwards.
func (c *Client) CreateSession(g *Graph, opts *SessionOptions) (*Session, error) {
	if g == nil {
		return nil, errorf(ErrInvalid, "CreateSession: the graph is nil")
	}
	copts := capi.NewSalus_session_options()
	defer capi.DeleteSalus_session_options(copts)
	if err := check(func() int {
		return capi.Salus_session_options_init(copts, uint(capi.SALUS_SESSION_OPTIONS_VERSION))
	}); err != nil {
		return nil, err
	}
	if opts != nil {
		if opts.Name != "" {
			copts.SetName(opts.Name)
		}
		copts.SetDeclared_iterations(opts.DeclaredIterations)
		copts.SetPriority(int(opts.Priority))
		copts.SetWeight(opts.Weight)
	}
	var s *Session
	err := c.use("CreateSession", func(cp capi.Struct_SS_salus_client) error {
		out := []uintptr{0}
		err := g.read("CreateSession", func(gp capi.Struct_SS_salus_graph) int {
			return capi.Salus_session_create(cp, gp, copts, out)
		})
		if err != nil {
			return err
		}
		ptr := capi.SwigcptrStruct_SS_salus_session(out[0])
		s = &Session{
			client:     c,
			id:         capi.Salus_session_id(ptr),
			persistent: capi.Salus_session_persistent_bytes(ptr),
			ephemeral:  capi.Salus_session_ephemeral_bytes(ptr),
			nOutputs:   int(capi.Salus_session_output_count(ptr)),
			ptr:        ptr,
		}
		c.sessionsMu.Lock()
		c.sessions[s] = struct{}{}
		c.sessionsMu.Unlock()
		return nil
	})
	return s, err
}

// ID returns the daemon's id of the session.
func (s *Session) ID() uint64 { return s.id }

// PersistentBytes returns the exact persistent device memory P planned for
// the graph: variables, constants and kernel state.
func (s *Session) PersistentBytes() uint64 { return s.persistent }

// EphemeralBytes returns the exact ephemeral device memory T one iteration
// needs at its peak.
func (s *Session) EphemeralBytes() uint64 { return s.ephemeral }

// NumOutputs returns the number of graph outputs each iteration returns.
func (s *Session) NumOutputs() int { return s.nOutputs }

// Close closes the session on the daemon, waiting for its queued iterations,
// and frees it (salus_session_close); it waits for calls in progress on the
// session. Pendings of the session stay valid. The handle is freed even when
// the daemon is gone (then the error is ErrConnect). Calling Close again
// does nothing and returns nil.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr == nil {
		return nil
	}
	err := check(func() int { return capi.Salus_session_close(s.ptr) })
	s.ptr = nil
	s.client.sessionsMu.Lock()
	delete(s.client.sessions, s)
	s.client.sessionsMu.Unlock()
	return err
}

// use runs f with the session while it is open, and fails with ErrNoSession
// once it is closed.
func (s *Session) use(what string, f func(ptr capi.Struct_SS_salus_session) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ptr == nil {
		return errorf(ErrNoSession, "%s: session %d is closed", what, s.id)
	}
	return f(s.ptr)
}

// Run runs one iteration and waits for it (salus_session_run). Every input
// of the graph must be fed once (else ErrInvalid); a wrong dtype or shape
// gives ErrShape, and the session goes on. It returns the graph's outputs in
// the order they were declared.
func (s *Session) Run(feeds Feeds) ([]*Tensor, error) {
	var outputs []*Tensor
	err := s.use("Run", func(p capi.Struct_SS_salus_session) error {
		ids, inputs, release, err := feedsToC(feeds)
		if err != nil {
			return err
		}
		defer release()
		outs := make([]uintptr, s.nOutputs)
		if err := check(func() int { return capi.Salus_session_run(p, ids, inputs, outs) }); err != nil {
			return err
		}
		outputs, err = takeOutputs(outs)
		return err
	})
	return outputs, err
}

// Submit queues one iteration and returns at once (salus_session_submit);
// Pending.Wait gets its outputs. Iterations of a session run in the order they
// were submitted, and several may be in flight. The feeds are copied: they
// may be changed as soon as Submit returns.
func (s *Session) Submit(feeds Feeds) (*Pending, error) {
	var pending *Pending
	err := s.use("Submit", func(p capi.Struct_SS_salus_session) error {
		ids, inputs, release, err := feedsToC(feeds)
		if err != nil {
			return err
		}
		defer release()
		out := []uintptr{0}
		if err := check(func() int { return capi.Salus_session_submit(p, ids, inputs, out) }); err != nil {
			return err
		}
		pending = &Pending{
			client:   s.client,
			nOutputs: s.nOutputs,
			ptr:      capi.SwigcptrStruct_SS_salus_pending(out[0]),
		}
		return nil
	})
	return pending, err
}
