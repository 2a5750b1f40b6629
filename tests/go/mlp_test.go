package tests

import (
	"math"
	"testing"

	"salus.dev/salus"
)

// The MLP of tests/capi/mlp_graph.c, ported line for line: the same
// configuration, initial weights and batches, so its losses are the ones the
// C MLP test gets.

type mlpConfig struct {
	batch, in, hidden, classes int64
	lr                         float64
	seed                       uint64
}

// defaultMLP is mlp_default_config(): 32 x 8 -> 16 -> 4, lr 0.1, seed 1.
var defaultMLP = mlpConfig{batch: 32, in: 8, hidden: 16, classes: 4, lr: 0.1, seed: 1}

// splitmix64, as next_u64 in mlp_graph.c.
func nextU64(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func uniform(state *uint64) float64 { // [0, 1)
	return float64(nextU64(state)>>11) * (1.0 / 9007199254740992.0)
}

func gaussian(state *uint64) float64 {
	u, v := uniform(state), uniform(state)
	return math.Sqrt(-2*math.Log(1-u)) * math.Cos(6.283185307179586*v)
}

// mlp is the training graph, its input ids and the variables' initial values.
type mlp struct {
	cfg            mlpConfig
	graph          *salus.Graph
	x, labels      salus.TensorID
	loss           salus.TensorID
	w1, b1, w2, b2 []float32
}

// newMLP builds the graph: forward (MatMul, Add, Relu, MatMul, Add), the
// loss, the backward pass and one SGDUpdate per variable. The graph is closed
// when the test ends.
func newMLP(t testing.TB, cfg mlpConfig) *mlp {
	t.Helper()
	m := &mlp{cfg: cfg}
	rng := cfg.seed
	l1 := math.Sqrt(6.0 / float64(cfg.in+cfg.hidden))
	l2 := math.Sqrt(6.0 / float64(cfg.hidden+cfg.classes))
	fill := func(n int64, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((2*uniform(&rng) - 1) * scale)
		}
		return v
	}
	m.w1 = fill(cfg.in*cfg.hidden, l1)
	m.b1 = fill(cfg.hidden, 0.1)
	m.w2 = fill(cfg.hidden*cfg.classes, l2)
	m.b2 = fill(cfg.classes, 0.1)

	g := salus.NewGraph()
	t.Cleanup(g.Close)
	m.graph = g
	m.x = g.AddInput("x", salus.Float32, cfg.batch, cfg.in)
	m.labels = g.AddInput("labels", salus.Float32, cfg.batch, cfg.classes)
	W1 := g.AddVariable("W1", tensor(t, m.w1, cfg.in, cfg.hidden))
	B1 := g.AddVariable("b1", tensor(t, m.b1, cfg.hidden))
	W2 := g.AddVariable("W2", tensor(t, m.w2, cfg.hidden, cfg.classes))
	B2 := g.AddVariable("b2", tensor(t, m.b2, cfg.classes))

	one := func(op, name string, attrs map[string]any, inputs ...salus.TensorID) salus.TensorID {
		outs, _ := g.AddNode(salus.Node{Op: op, Name: name, Inputs: inputs, Outputs: 1, Attrs: attrs})
		return outs[0]
	}
	transA := map[string]any{"transA": 1}
	transB := map[string]any{"transB": 1}
	sumBatch := map[string]any{"axes": []int64{0}, "keepdims": 0}
	sgd := func(name string, v, grad salus.TensorID) {
		g.AddNode(salus.Node{Op: "SGDUpdate", Name: name, Inputs: []salus.TensorID{v, grad},
			Attrs: map[string]any{"lr": cfg.lr}})
	}

	// forward
	h1 := one("MatMul", "fc1", nil, m.x, W1)
	z1 := one("Add", "fc1_bias", nil, h1, B1)
	a1 := one("Relu", "relu1", nil, z1)
	h2 := one("MatMul", "fc2", nil, a1, W2)
	logits := one("Add", "fc2_bias", nil, h2, B2)
	m.loss = one("SoftmaxCrossEntropy", "loss", nil, logits, m.labels)
	g.AddOutput(m.loss)
	// backward
	dlogits := one("SoftmaxCrossEntropyGrad", "dlogits", nil, logits, m.labels)
	dW2 := one("MatMul", "dW2", transA, a1, dlogits)
	db2 := one("ReduceSum", "db2", sumBatch, dlogits)
	da1 := one("MatMul", "da1", transB, dlogits, W2)
	dz1 := one("ReluGrad", "dz1", nil, da1, z1)
	dW1 := one("MatMul", "dW1", transA, m.x, dz1)
	db1 := one("ReduceSum", "db1", sumBatch, dz1)
	// updates
	sgd("sgd_W1", W1, dW1)
	sgd("sgd_b1", B1, db1)
	sgd("sgd_W2", W2, dW2)
	sgd("sgd_b2", B2, db2)
	if err := g.Err(); err != nil {
		t.Fatalf("building the MLP: %v", err)
	}
	return m
}

// batch returns batch number index of the data set, as mlp_make_batch: x
// [batch, in] and one-hot labels [batch, classes].
func (m *mlp) batch(index uint64) (x, labels []float32) {
	cfg := m.cfg
	crng := cfg.seed ^ 0x5eed5eed5eed5eed
	srng := cfg.seed*1000003 + index + 1
	x = make([]float32, cfg.batch*cfg.in)
	labels = make([]float32, cfg.batch*cfg.classes)
	for i := int64(0); i < cfg.batch; i++ {
		c := uint64(uniform(&srng) * float64(cfg.classes))
		centre := crng + c*0x1000 // the centre of class c, regenerated
		for j := int64(0); j < cfg.in; j++ {
			x[i*cfg.in+j] = float32(3.0*gaussian(&centre) + gaussian(&srng))
		}
		labels[i*cfg.classes+int64(c)] = 1
	}
	return x, labels
}

// feeds returns the feeds of batch index, and the batch.
func (m *mlp) feeds(t testing.TB, index uint64) (salus.Feeds, []float32, []float32) {
	x, labels := m.batch(index)
	return salus.Feeds{
		m.x:      tensor(t, x, m.cfg.batch, m.cfg.in),
		m.labels: tensor(t, labels, m.cfg.batch, m.cfg.classes),
	}, x, labels
}

// train runs batch index on s and returns the loss.
func (m *mlp) train(t testing.TB, s *salus.Session, index uint64) float64 {
	t.Helper()
	feeds, _, _ := m.feeds(t, index)
	return scalar(t, run(t, s, feeds))
}

func tensor(t testing.TB, values []float32, shape ...int64) *salus.Tensor {
	t.Helper()
	v, err := salus.NewFloat32(values, shape...)
	if err != nil {
		t.Fatalf("NewFloat32(%d values, %v): %v", len(values), shape, err)
	}
	return v
}

func run(t testing.TB, s *salus.Session, feeds salus.Feeds) []*salus.Tensor {
	t.Helper()
	outs, err := s.Run(feeds)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return outs
}

// scalar is the value of the single scalar output of an iteration.
func scalar(t testing.TB, outs []*salus.Tensor) float64 {
	t.Helper()
	if len(outs) != 1 || len(outs[0].Shape()) != 0 || len(outs[0].Float32s()) != 1 {
		t.Fatalf("want one f32 scalar output, got %d outputs", len(outs))
	}
	return float64(outs[0].Float32s()[0])
}
