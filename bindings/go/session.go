package salus

import (
	"sort"
	"strings"
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
	Seed               uint64  // mixed into every random op's seed (Dropout); 0: the graph's own
}

// Session is a graph opened on the daemon (salus_session): its variables stay
// resident there between iterations. More graphs over the same variables can
// be added to it (AddGraph). It may be used from several goroutines at once;
// Close ends it.
type Session struct {
	client     *Client
	id         uint64
	persistent uint64
	ephemeral  uint64

	graphsMu sync.RWMutex
	nOutputs map[uint32]int // the number of outputs of each graph, by index

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
		copts.SetSeed(opts.Seed)
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
			nOutputs:   map[uint32]int{0: int(capi.Salus_session_output_count(ptr))},
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

// NumOutputs returns the number of outputs each iteration of graph 0, the
// graph the session was created with, returns.
func (s *Session) NumOutputs() int {
	n, _ := s.graphOutputs("NumOutputs", 0)
	return n
}

// NumGraphs returns the number of graphs of the session: 1 for the graph it
// was created with, plus one per successful AddGraph
// (salus_session_graph_count).
func (s *Session) NumGraphs() int {
	s.graphsMu.RLock()
	defer s.graphsMu.RUnlock()
	return len(s.nOutputs)
}

// NumGraphOutputs returns the number of outputs each iteration of graph
// returns (salus_session_graph_output_count), 0 for an unknown graph.
func (s *Session) NumGraphOutputs(graph int) int {
	n, _ := s.graphOutputs("NumGraphOutputs", graph)
	return n
}

// graphOutputs returns the number of outputs of graph, or ErrInvalid when
// the session has no such graph.
func (s *Session) graphOutputs(what string, graph int) (int, error) {
	if graph >= 0 && int64(graph) <= int64(^uint32(0)) {
		s.graphsMu.RLock()
		n, ok := s.nOutputs[uint32(graph)]
		s.graphsMu.RUnlock()
		if ok {
			return n, nil
		}
	}
	return 0, errorf(ErrInvalid, "%s: session %d has no graph %d", what, s.id, graph)
}

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

// Run runs one iteration of graph 0, the graph the session was created with,
// and waits for it (salus_session_run): RunGraph(0, feeds). Every input of
// the graph must be fed once (else ErrInvalid); a wrong dtype or shape gives
// ErrShape, and the session goes on. It returns the graph's outputs in the
// order they were declared.
func (s *Session) Run(feeds Feeds) ([]*Tensor, error) {
	return s.runGraph("Run", 0, feeds)
}

// RunGraph runs one iteration of graph, an index from AddGraph (0: the graph
// the session was created with), and waits for it
// (salus_session_run_graph). Feeds, errors and outputs are as for Run, for
// that graph; an unknown graph gives ErrInvalid.
func (s *Session) RunGraph(graph int, feeds Feeds) ([]*Tensor, error) {
	return s.runGraph("RunGraph", graph, feeds)
}

func (s *Session) runGraph(what string, graph int, feeds Feeds) ([]*Tensor, error) {
	var outputs []*Tensor
	err := s.use(what, func(p capi.Struct_SS_salus_session) error {
		n, err := s.graphOutputs(what, graph)
		if err != nil {
			return err
		}
		ids, inputs, release, err := feedsToC(feeds)
		if err != nil {
			return err
		}
		defer release()
		outs := make([]uintptr, n)
		if err := check(func() int { return capi.Salus_session_run_graph(p, uint(graph), ids, inputs, outs) }); err != nil {
			return err
		}
		outputs, err = takeOutputs(outs)
		return err
	})
	return outputs, err
}

// Submit queues one iteration of graph 0 and returns at once
// (salus_session_submit): SubmitGraph(0, feeds). Pending.Wait gets its
// outputs. Iterations of a session run in the order they were submitted, and
// several may be in flight. The feeds are copied: they may be changed as soon
// as Submit returns.
func (s *Session) Submit(feeds Feeds) (*Pending, error) {
	return s.submitGraph("Submit", 0, feeds)
}

// SubmitGraph queues one iteration of graph, an index from AddGraph (0: the
// graph the session was created with), and returns at once
// (salus_session_submit_graph); the Pending's Wait returns that graph's
// outputs. Iterations of all the session's graphs run one at a time, in the
// order they were submitted. Feeds and errors are as for Submit; an unknown
// graph gives ErrInvalid.
func (s *Session) SubmitGraph(graph int, feeds Feeds) (*Pending, error) {
	return s.submitGraph("SubmitGraph", graph, feeds)
}

func (s *Session) submitGraph(what string, graph int, feeds Feeds) (*Pending, error) {
	var pending *Pending
	err := s.use(what, func(p capi.Struct_SS_salus_session) error {
		n, err := s.graphOutputs(what, graph)
		if err != nil {
			return err
		}
		ids, inputs, release, err := feedsToC(feeds)
		if err != nil {
			return err
		}
		defer release()
		out := []uintptr{0}
		if err := check(func() int { return capi.Salus_session_submit_graph(p, uint(graph), ids, inputs, out) }); err != nil {
			return err
		}
		pending = &Pending{
			client:   s.client,
			nOutputs: n,
			ptr:      capi.SwigcptrStruct_SS_salus_pending(out[0]),
		}
		return nil
	})
	return pending, err
}

// AddGraph adds g to the session as another graph over the same variables
// (salus_session_add_graph) and returns its index (1, 2, ...) for RunGraph
// and SubmitGraph: the model in evaluation mode next to its training step, or
// the same step at another batch size. Each variable and constant of g must
// be one of the session's, by name, with the same dtype and shape (a
// constant with the same value; the initial values of g's variables are
// ignored): ErrGraph otherwise, naming it. The session's P does not change; a
// graph whose ephemeral memory T is over the room the session's lane holds
// gives ErrResource (create the session with its largest graph first). name
// is unique in the session ("" for none; a second graph of the same name
// gives ErrInvalid). On error the index is -1. g can be closed or reused
// afterwards.
func (s *Session) AddGraph(g *Graph, name string) (int, error) {
	if g == nil {
		return -1, errorf(ErrInvalid, "AddGraph: the graph is nil")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return -1, errorf(ErrInvalid, "AddGraph: the name %q contains a NUL byte", name)
	}
	index := -1
	err := s.use("AddGraph", func(p capi.Struct_SS_salus_session) error {
		out := []uint32{0}
		err := g.read("AddGraph", func(gp capi.Struct_SS_salus_graph) int {
			return capi.Salus_session_add_graph(p, gp, name, out)
		})
		if err != nil {
			return err
		}
		n := int(capi.Salus_session_graph_output_count(p, uint(out[0])))
		s.graphsMu.Lock()
		s.nOutputs[out[0]] = n
		s.graphsMu.Unlock()
		index = int(out[0])
		return nil
	})
	return index, err
}

// ReadVariables returns the values of the named variables (or constants) of
// graph 0, by name (salus_session_read_variables): a checkpoint, or the
// weights to compute with on the host. The read waits for the iterations
// submitted before it and comes before those submitted after it. An unknown
// name gives ErrInvalid naming it; values over the daemon's frame limit give
// ErrTooBig (read fewer at a time). A name given twice is read once; no names
// give an empty map.
func (s *Session) ReadVariables(names ...string) (map[string]*Tensor, error) {
	unique := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if strings.IndexByte(name, 0) >= 0 {
			return nil, errorf(ErrInvalid, "ReadVariables: the name %q contains a NUL byte", name)
		}
		if !seen[name] {
			seen[name] = true
			unique = append(unique, name)
		}
	}
	var values map[string]*Tensor
	err := s.use("ReadVariables", func(p capi.Struct_SS_salus_session) error {
		values = make(map[string]*Tensor, len(unique))
		if len(unique) == 0 {
			return nil
		}
		outs := make([]uintptr, len(unique)) // one per name: the typemap's n
		if err := check(func() int { return capi.Salus_session_read_variables(p, unique, outs) }); err != nil {
			return err
		}
		tensors, err := takeOutputs(outs)
		if err != nil {
			return err
		}
		for i, name := range unique {
			values[name] = tensors[i]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return values, nil
}

// WriteVariables writes each value into the variable of graph 0 it is keyed
// by (salus_session_write_variables): resuming from a checkpoint, or loading
// pretrained weights into a running session; every graph of the session sees
// them. The write waits for the iterations submitted before it and comes
// before those submitted after it. Each value must have its variable's dtype
// and shape, else ErrShape and nothing is written; an unknown name gives
// ErrInvalid naming it, values over the daemon's frame limit ErrTooBig (write
// fewer at a time). The values are copied: they may change once it returns.
func (s *Session) WriteVariables(values map[string]*Tensor) error {
	names := make([]string, 0, len(values))
	for name, t := range values {
		if t == nil {
			return errorf(ErrInvalid, "WriteVariables: the value of %q is nil", name)
		}
		if strings.IndexByte(name, 0) >= 0 {
			return errorf(ErrInvalid, "WriteVariables: the name %q contains a NUL byte", name)
		}
		names = append(names, name)
	}
	sort.Strings(names) // the first bad value is the same on every call
	return s.use("WriteVariables", func(p capi.Struct_SS_salus_session) error {
		if len(names) == 0 {
			return nil
		}
		tensors := make([]uintptr, 0, len(names))
		defer func() {
			for _, t := range tensors {
				capi.Salus_tensor_free(capi.SwigcptrStruct_SS_salus_tensor(t))
			}
		}()
		for _, name := range names {
			ct, err := values[name].toC()
			if err != nil {
				return err
			}
			tensors = append(tensors, ct.Swigcptr())
		}
		// names and tensors are as long: the typemap takes n from tensors.
		return check(func() int { return capi.Salus_session_write_variables(p, names, tensors) })
	})
}
