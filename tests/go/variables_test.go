package tests

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"salus.dev/salus"
)

// Several graphs over one set of variables, and variables read and written
// between iterations, as tests/capi/test_variables.c: the MLP training graph
// with a forward-only graph added at other batch sizes.

// mlpNames are the MLP's variables. They are made at run time, so that the
// strings are Go heap memory: cgo refuses to pass those inside a []string,
// which the binding must copy into C memory.
func mlpNames() []string {
	names := make([]string, 0, 4)
	for layer := 1; layer <= 2; layer++ {
		names = append(names, fmt.Sprintf("W%d", layer), fmt.Sprintf("b%d", layer))
	}
	return names
}

// forward is the MLP's forward pass at batch rows, added to a session.
type forward struct {
	graph *salus.Graph
	x     salus.TensorID
}

// newForward builds the forward pass of m at batch rows; its outputs are the
// logits, then the hidden activations. W2 is named w2name (the session's is
// "W2"). The graph is closed when the test ends.
func newForward(t testing.TB, m *mlp, batch int64, w2name string) *forward {
	t.Helper()
	c := m.cfg
	g := salus.NewGraph()
	t.Cleanup(g.Close)
	x := g.AddInput("x", salus.Float32, batch, c.in)
	// Initial values other than the session's: an added graph's are ignored.
	zeros := func(shape ...int64) *salus.Tensor {
		z, err := salus.Zeros(salus.Float32, shape...)
		if err != nil {
			t.Fatalf("Zeros: %v", err)
		}
		return z
	}
	W1 := g.AddVariable("W1", zeros(c.in, c.hidden))
	B1 := g.AddVariable("b1", zeros(c.hidden))
	W2 := g.AddVariable(w2name, zeros(c.hidden, c.classes))
	B2 := g.AddVariable("b2", zeros(c.classes))
	a1 := g.Op("Relu", g.Op("Add", g.Op("MatMul", x, W1), B1))
	logits := g.Op("Add", g.Op("MatMul", a1, W2), B2)
	g.AddOutput(logits)
	g.AddOutput(a1)
	if err := g.Err(); err != nil {
		t.Fatalf("building the forward graph: %v", err)
	}
	return &forward{graph: g, x: x}
}

// addGraph adds f to s under name and returns its index.
func addGraph(t *testing.T, s *salus.Session, f *forward, name string) int {
	t.Helper()
	index, err := s.AddGraph(f.graph, name)
	if err != nil {
		t.Fatalf("AddGraph %q: %v", name, err)
	}
	return index
}

// input is a [rows, cols] matrix of varied values.
func input(t testing.TB, rows, cols int64, base float32) *salus.Tensor {
	v := make([]float32, rows*cols)
	for i := range v {
		v[i] = base + 0.01*float32(i%17) - 0.05*float32(i%5)
	}
	return tensor(t, v, rows, cols)
}

func readVariables(t *testing.T, s *salus.Session, names ...string) map[string]*salus.Tensor {
	t.Helper()
	values, err := s.ReadVariables(names...)
	if err != nil {
		t.Fatalf("ReadVariables(%q): %v", names, err)
	}
	if len(values) != len(names) {
		t.Fatalf("ReadVariables(%q): %d values", names, len(values))
	}
	return values
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// hostLogits computes the logits of x [rows, in] from the variables.
func hostLogits(c mlpConfig, v map[string]*salus.Tensor, x []float32, rows int64) []float64 {
	w1, b1 := v["W1"].Float32s(), v["b1"].Float32s()
	w2, b2 := v["W2"].Float32s(), v["b2"].Float32s()
	out := make([]float64, rows*c.classes)
	for r := int64(0); r < rows; r++ {
		for k := int64(0); k < c.classes; k++ {
			o := float64(b2[k])
			for h := int64(0); h < c.hidden; h++ {
				z := float64(b1[h])
				for i := int64(0); i < c.in; i++ {
					z += float64(x[r*c.in+i]) * float64(w1[i*c.hidden+h])
				}
				if z > 0 {
					o += z * float64(w2[h*c.classes+k])
				}
			}
			out[r*c.classes+k] = o
		}
	}
	return out
}

// Reads give the initial values, then what training made of them; writing
// the initial values back replays the same loss.
func TestVariablesReadTrainWriteReplay(t *testing.T) {
	m := newMLP(t, defaultMLP)
	s := openSession(t, connect(t, shared.socket), m.graph, nil)
	names := mlpNames()
	initial := readVariables(t, s, names...)
	for name, want := range map[string][]float32{"W1": m.w1, "b1": m.b1, "W2": m.w2, "b2": m.b2} {
		v := initial[name]
		if v == nil || v.DType() != salus.Float32 || !equalFloats(v.Float32s(), want) {
			t.Fatalf("%s: read %v, want the initial value", name, v)
		}
	}
	if shape := initial["W1"].Shape(); len(shape) != 2 || shape[0] != m.cfg.in || shape[1] != m.cfg.hidden {
		t.Errorf("W1 has shape %v, want [%d %d]", shape, m.cfg.in, m.cfg.hidden)
	}

	first := m.train(t, s, 0)
	after := readVariables(t, s, names...)
	if equalFloats(after["W1"].Float32s(), initial["W1"].Float32s()) {
		t.Errorf("W1 did not change with training")
	}
	if second := m.train(t, s, 0); !(second < first) {
		t.Errorf("the loss went from %g to %g", first, second)
	}

	if err := s.WriteVariables(initial); err != nil {
		t.Fatalf("WriteVariables: %v", err)
	}
	if replay := m.train(t, s, 0); replay != first {
		t.Errorf("after writing the initial values the loss is %.9g, want %.9g again", replay, first)
	}
	// A name twice is read once; no names read nothing.
	if v := readVariables(t, s, "b2"); len(v) != 1 {
		t.Errorf("ReadVariables(b2): %d values", len(v))
	}
	if v, err := s.ReadVariables("b2", "b2"); err != nil || len(v) != 1 {
		t.Errorf("ReadVariables(b2, b2): %d values, %v", len(v), err)
	}
	if v, err := s.ReadVariables(); err != nil || len(v) != 0 {
		t.Errorf("ReadVariables(): %d values, %v", len(v), err)
	}
	if err := s.WriteVariables(nil); err != nil {
		t.Errorf("WriteVariables(nil): %v", err)
	}
}

// A read or a write queues behind the iterations submitted before it: read
// while three are in flight, it sees all three.
func TestReadVariablesAfterSubmitted(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	a := openSession(t, c, m.graph, nil)
	b := openSession(t, c, m.graph, nil)
	pending := make([]*salus.Pending, 3)
	for i := range pending {
		pending[i] = m.submit(t, a, uint64(i))
	}
	queued := readVariables(t, a, mlpNames()...)
	for i, p := range pending {
		if !p.Ready() {
			t.Errorf("iteration %d is not done after the read", i+1)
		}
		p.Close()
		m.train(t, b, uint64(i))
	}
	reference := readVariables(t, b, mlpNames()...)
	for name, v := range reference {
		if !equalFloats(queued[name].Float32s(), v.Float32s()) {
			t.Errorf("%s: the read did not follow the three iterations", name)
		}
	}
}

// A forward graph added at another batch size computes with the trained
// values, and writes reach it too.
func TestAddedGraphSharesVariables(t *testing.T) {
	m := newMLP(t, defaultMLP)
	cfg := m.cfg
	s := openSession(t, connect(t, shared.socket), m.graph, nil)
	m.train(t, s, 0)
	const rows = 5
	f := newForward(t, m, rows, "W2")
	persistent := s.PersistentBytes()
	if index := addGraph(t, s, f, "eval:5"); index != 1 {
		t.Errorf("the added graph has index %d, want 1", index)
	}
	if s.NumGraphs() != 2 || s.NumGraphOutputs(1) != 2 || s.NumGraphOutputs(0) != 1 ||
		s.NumOutputs() != 1 || s.NumGraphOutputs(2) != 0 {
		t.Errorf("%d graphs, outputs %d, %d, %d; want 2 graphs, outputs 1, 2 and 0 for graph 2",
			s.NumGraphs(), s.NumGraphOutputs(0), s.NumGraphOutputs(1), s.NumGraphOutputs(2))
	}
	if s.PersistentBytes() != persistent {
		t.Errorf("P changed from %d to %d", persistent, s.PersistentBytes())
	}

	x := input(t, rows, cfg.in, 0.5)
	outs, err := s.RunGraph(1, salus.Feeds{f.x: x})
	if err != nil {
		t.Fatalf("RunGraph: %v", err)
	}
	if len(outs) != 2 {
		t.Fatalf("RunGraph returned %d outputs, want 2", len(outs))
	}
	if shape := outs[0].Shape(); len(shape) != 2 || shape[0] != rows || shape[1] != cfg.classes {
		t.Fatalf("logits of shape %v, want [%d %d]", shape, rows, cfg.classes)
	}
	// The same logits on the host, from the values the daemon holds.
	v := readVariables(t, s, mlpNames()...)
	want := hostLogits(cfg, v, x.Float32s(), rows)
	for i, got := range outs[0].Float32s() {
		if math.Abs(float64(got)-want[i]) > 1e-4 {
			t.Errorf("logit %d: %g, the host computes %g", i, got, want[i])
		}
	}

	// Submitted in one queue: the forward pass sees the training step before
	// it, and its Pending returns its own graph's two outputs.
	train := m.submit(t, s, 1)
	p, err := s.SubmitGraph(1, salus.Feeds{f.x: x})
	if err != nil {
		t.Fatalf("SubmitGraph: %v", err)
	}
	waitLoss(t, train)
	outs, err = p.Wait()
	if err != nil || len(outs) != 2 {
		t.Fatalf("Wait of graph 1: %d outputs, %v; want 2", len(outs), err)
	}
	v = readVariables(t, s, mlpNames()...)
	want = hostLogits(cfg, v, x.Float32s(), rows)
	for i, got := range outs[0].Float32s() {
		if math.Abs(float64(got)-want[i]) > 1e-4 {
			t.Errorf("after a step, logit %d: %g, the host computes %g", i, got, want[i])
		}
	}

	// Zero weights written through the session give the bias alone (of the
	// values after that step).
	zero, _ := salus.Zeros(salus.Float32, cfg.hidden, cfg.classes)
	if err := s.WriteVariables(map[string]*salus.Tensor{"W2": zero}); err != nil {
		t.Fatalf("WriteVariables(W2): %v", err)
	}
	outs, err = s.RunGraph(1, salus.Feeds{f.x: x})
	if err != nil {
		t.Fatalf("RunGraph after the write: %v", err)
	}
	b2 := v["b2"].Float32s()
	for i, got := range outs[0].Float32s() {
		if k := i % int(cfg.classes); math.Abs(float64(got-b2[k])) > 1e-6 {
			t.Errorf("logit %d with W2 = 0: %g, want b2[%d] = %g", i, got, k, b2[k])
		}
	}
	// Graph 0 trains on.
	if loss := m.train(t, s, 2); math.IsNaN(loss) {
		t.Errorf("training after the added graph: loss %g", loss)
	}
}

// Goroutines adding graphs at once each get their own index and output count
// and run their graph, next to training.
func TestAddGraphConcurrently(t *testing.T) {
	m := newMLP(t, defaultMLP)
	s := openSession(t, connect(t, shared.socket), m.graph, nil)
	const n = 4
	graphs := make([]*forward, n)
	inputs := make([]*salus.Tensor, n)
	for i := range graphs {
		graphs[i] = newForward(t, m, int64(i+1), "W2")
		inputs[i] = input(t, int64(i+1), m.cfg.in, 0.1)
	}
	batches := make([]salus.Feeds, 3)
	for i := range batches {
		batches[i], _, _ = m.feeds(t, uint64(i))
	}
	var wg sync.WaitGroup
	indexes := make([]int, n)
	errs := make([]error, n+1)
	for i := range graphs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			f := graphs[i]
			indexes[i], errs[i] = s.AddGraph(f.graph, fmt.Sprintf("eval:%d", i+1))
			if errs[i] != nil {
				return
			}
			for it := 0; it < 3 && errs[i] == nil; it++ {
				var outs []*salus.Tensor
				outs, errs[i] = s.RunGraph(indexes[i], salus.Feeds{f.x: inputs[i]})
				if errs[i] == nil && (len(outs) != 2 || outs[0].Shape()[0] != int64(i+1)) {
					errs[i] = fmt.Errorf("graph %d returned %d outputs", indexes[i], len(outs))
				}
			}
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, feeds := range batches {
			if _, errs[n] = s.Run(feeds); errs[n] != nil {
				return
			}
		}
	}()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	seen := map[int]bool{}
	for _, index := range indexes {
		if index < 1 || index > n || seen[index] {
			t.Errorf("indexes %v: want each of 1..%d once", indexes, n)
			break
		}
		seen[index] = true
	}
	if s.NumGraphs() != n+1 {
		t.Errorf("%d graphs, want %d", s.NumGraphs(), n+1)
	}
}

// Refusals name what is wrong, write nothing, and leave the session going.
func TestVariableRefusals(t *testing.T) {
	m := newMLP(t, defaultMLP)
	cfg := m.cfg
	c := connect(t, shared.socket)
	s := openSession(t, c, m.graph, nil)
	before := readVariables(t, s, mlpNames()...)

	_, err := s.ReadVariables("W1", "nope")
	wantError(t, "reading an unknown name", err, salus.ErrInvalid, `"nope"`)
	err = s.WriteVariables(map[string]*salus.Tensor{"nope": before["b1"]})
	wantError(t, "writing an unknown name", err, salus.ErrInvalid, `"nope"`)

	// A wrong shape writes nothing, not even the valid value beside it.
	err = s.WriteVariables(map[string]*salus.Tensor{
		"W1": input(t, cfg.in, cfg.hidden, 1),
		"b1": input(t, 3, 3, 1),
	})
	wantError(t, "writing a wrong shape", err, salus.ErrShape, `"b1"`)
	if w1 := readVariables(t, s, "W1")["W1"]; !equalFloats(w1.Float32s(), before["W1"].Float32s()) {
		t.Errorf("W1 was written beside the refused b1")
	}
	err = s.WriteVariables(map[string]*salus.Tensor{"W1": nil})
	wantError(t, "writing nil", err, salus.ErrInvalid, `"W1"`)
	_, err = s.ReadVariables("W\x001")
	wantError(t, "a name with a NUL", err, salus.ErrInvalid, "NUL")

	// An added graph with a variable the session lacks.
	index, err := s.AddGraph(newForward(t, m, 5, "W2_new").graph, "extra")
	wantError(t, "adding a graph with a new variable", err, salus.ErrGraph, `"W2_new"`)
	if index != -1 {
		t.Errorf("a refused AddGraph returned index %d", index)
	}
	// More ephemeral memory than the session's lane holds.
	_, err = s.AddGraph(newForward(t, m, 1<<16, "W2").graph, "huge")
	wantError(t, "adding a huge graph", err, salus.ErrResource, "largest graph first")
	f := newForward(t, m, 2, "W2")
	addGraph(t, s, f, "eval")
	_, err = s.AddGraph(f.graph, "eval")
	wantError(t, "adding a name twice", err, salus.ErrInvalid, "already has a graph")
	_, err = s.AddGraph(nil, "none")
	wantError(t, "adding nil", err, salus.ErrInvalid)
	if s.NumGraphs() != 2 {
		t.Errorf("%d graphs after the refusals, want 2", s.NumGraphs())
	}

	for _, graph := range []int{7, -1, 1 << 40} {
		_, err = s.RunGraph(graph, nil)
		wantError(t, fmt.Sprintf("RunGraph(%d)", graph), err, salus.ErrInvalid, fmt.Sprintf("no graph %d", graph))
		_, err = s.SubmitGraph(graph, nil)
		wantError(t, fmt.Sprintf("SubmitGraph(%d)", graph), err, salus.ErrInvalid, fmt.Sprintf("no graph %d", graph))
	}
	// A feed of the wrong shape for graph 1.
	_, err = s.RunGraph(1, salus.Feeds{f.x: input(t, 5, cfg.in, 0)})
	wantError(t, "RunGraph with a wrong feed", err, salus.ErrShape)

	// The session still trains, from the values it had.
	ref := newRefMLP(m)
	feeds, x, y := m.feeds(t, 0)
	if got, want := scalar(t, run(t, s, feeds)), ref.step(x, y, cfg.lr); math.Abs(got-want) > 1e-4*math.Abs(want) {
		t.Errorf("loss %.9g after the refusals, the reference is %.9g", got, want)
	}

	// A closed session refuses everything.
	s.Close()
	_, err = s.ReadVariables("W1")
	wantError(t, "ReadVariables after Close", err, salus.ErrNoSession)
	err = s.WriteVariables(before)
	wantError(t, "WriteVariables after Close", err, salus.ErrNoSession)
	_, err = s.AddGraph(f.graph, "late")
	wantError(t, "AddGraph after Close", err, salus.ErrNoSession)
	_, err = s.RunGraph(1, salus.Feeds{f.x: input(t, 2, cfg.in, 0)})
	wantError(t, "RunGraph after Close", err, salus.ErrNoSession)
	if !errors.Is(err, salus.ErrNoSession) || s.NumGraphOutputs(1) != 2 {
		t.Errorf("the closed session forgot its graphs: %d outputs", s.NumGraphOutputs(1))
	}
}
