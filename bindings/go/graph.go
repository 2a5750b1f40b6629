package salus

import (
	"sort"
	"sync"

	"salus.dev/salus/internal/capi"
)

// TensorID names a tensor of a Graph; ids count from 0 in the order tensors
// are added, node outputs included.
type TensorID uint32

// NodeID names a node of a Graph; ids count from 0 in the order nodes are
// added.
type NodeID uint32

// Graph is a computation graph under construction (salus_graph): inputs,
// variables, constants, nodes and outputs. The daemon receives a copy when a
// session is created with it, so one graph can open many sessions.
//
// Building uses a sticky error: the first failing call records its error,
// later calls do nothing and return zero ids, and Err and
// Client.CreateSession report it. A Graph may be used from several goroutines.
type Graph struct {
	mu  sync.RWMutex
	ptr capi.Struct_SS_salus_graph // nil once closed
	err error
}

// NewGraph starts an empty graph; Close frees it.
func NewGraph() *Graph {
	g := &Graph{}
	out := []uintptr{0}
	if g.err = check(func() int { return capi.Salus_graph_new(out) }); g.err == nil {
		g.ptr = capi.SwigcptrStruct_SS_salus_graph(out[0])
	}
	return g
}

// Close frees the graph. Sessions created from it are not affected. Calling
// it again does nothing.
func (g *Graph) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ptr != nil {
		capi.Salus_graph_free(g.ptr)
		g.ptr = nil
	}
}

// Err returns the first error of the graph's construction, or nil.
func (g *Graph) Err() error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.err
}

// build runs one builder call unless the graph has failed or is closed, and
// records its error.
func (g *Graph) build(what string, f func(ptr capi.Struct_SS_salus_graph) int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return
	}
	if g.ptr == nil {
		g.err = errorf(ErrInvalid, "%s: the graph is closed", what)
		return
	}
	g.err = check(func() int { return f(g.ptr) })
}

// AddInput adds a tensor fed on every iteration (salus_graph_add_input).
func (g *Graph) AddInput(name string, dtype DType, shape ...int64) TensorID {
	id := []uint32{0}
	g.build("AddInput", func(p capi.Struct_SS_salus_graph) int {
		return capi.Salus_graph_add_input(p, name, dtype.c(), shape, id)
	})
	return TensorID(id[0])
}

// AddVariable adds a persistent tensor initialised from init and updated in
// place by ops such as SGDUpdate (salus_graph_add_variable).
func (g *Graph) AddVariable(name string, init *Tensor) TensorID {
	return g.addPersistent("AddVariable", name, init, capi.Salus_graph_add_variable)
}

// AddConstant adds a persistent read-only tensor (salus_graph_add_constant).
func (g *Graph) AddConstant(name string, value *Tensor) TensorID {
	return g.addPersistent("AddConstant", name, value, capi.Salus_graph_add_constant)
}

type addPersistentFunc func(capi.Struct_SS_salus_graph, string, capi.Enum_SS_salus_dtype, []int64, []byte, []uint32) int

func (g *Graph) addPersistent(what, name string, value *Tensor, add addPersistentFunc) TensorID {
	id := []uint32{0}
	if value == nil {
		g.fail(errorf(ErrInvalid, "%s %q: the value is nil", what, name))
		return 0
	}
	g.build(what, func(p capi.Struct_SS_salus_graph) int {
		return add(p, name, value.dtype.c(), value.shape, value.Bytes(), id)
	})
	return TensorID(id[0])
}

// fail records err unless an earlier error is recorded.
func (g *Graph) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = err
	}
}

// Node describes a node for AddNode.
type Node struct {
	Op      string     // the op, e.g. "MatMul" (see doc/ops.md)
	Name    string     // optional; names the node in the daemon's errors
	Inputs  []TensorID // the input tensors
	Outputs int        // how many output tensors the node creates
	// Attributes by name. Values are int, int32, int64 (an int attribute),
	// float32, float64 (float), []int, []int64 (ints), []float32, []float64
	// (floats) or string.
	Attrs map[string]any
}

// AddNode adds a node running n.Op (salus_graph_add_node), sets its
// attributes, and returns the ids of its new output tensors (their shapes are
// inferred by the daemon) and the node's id.
func (g *Graph) AddNode(n Node) ([]TensorID, NodeID) {
	if n.Outputs < 0 {
		g.fail(errorf(ErrInvalid, "AddNode %s: %d outputs", n.Op, n.Outputs))
		return nil, 0
	}
	inputs := make([]uint32, len(n.Inputs))
	for i, t := range n.Inputs {
		inputs[i] = uint32(t)
	}
	outs := make([]uint32, n.Outputs)
	node := []uint32{0}
	g.build("AddNode", func(p capi.Struct_SS_salus_graph) int {
		return capi.Salus_graph_add_node(p, n.Op, n.Name, inputs, outs, node)
	})
	names := make([]string, 0, len(n.Attrs))
	for name := range n.Attrs {
		names = append(names, name)
	}
	sort.Strings(names) // the same graph bytes on every run
	for _, name := range names {
		g.SetAttr(NodeID(node[0]), name, n.Attrs[name])
	}
	ids := make([]TensorID, len(outs))
	for i, o := range outs {
		ids[i] = TensorID(o)
	}
	return ids, NodeID(node[0])
}

// Op adds an unnamed node with one output and no attributes, and returns
// that output: g.Op("Relu", x).
func (g *Graph) Op(op string, inputs ...TensorID) TensorID {
	outs, _ := g.AddNode(Node{Op: op, Inputs: inputs, Outputs: 1})
	if len(outs) == 0 {
		return 0
	}
	return outs[0]
}

// SetAttr sets an attribute of a node (salus_graph_set_attr_*); setting a
// name twice replaces the value. The value's Go type picks the attribute
// type, as listed for Node.Attrs.
func (g *Graph) SetAttr(node NodeID, name string, value any) {
	n := uint(node)
	var set func(p capi.Struct_SS_salus_graph) int
	switch v := value.(type) {
	case int:
		set = func(p capi.Struct_SS_salus_graph) int { return capi.Salus_graph_set_attr_int(p, n, name, int64(v)) }
	case int32:
		set = func(p capi.Struct_SS_salus_graph) int { return capi.Salus_graph_set_attr_int(p, n, name, int64(v)) }
	case int64:
		set = func(p capi.Struct_SS_salus_graph) int { return capi.Salus_graph_set_attr_int(p, n, name, v) }
	case float32:
		set = func(p capi.Struct_SS_salus_graph) int { return capi.Salus_graph_set_attr_float(p, n, name, float64(v)) }
	case float64:
		set = func(p capi.Struct_SS_salus_graph) int { return capi.Salus_graph_set_attr_float(p, n, name, v) }
	case []int:
		ints := make([]int64, len(v))
		for i, x := range v {
			ints[i] = int64(x)
		}
		set = func(p capi.Struct_SS_salus_graph) int { return capi.Salus_graph_set_attr_ints(p, n, name, ints) }
	case []int64:
		set = func(p capi.Struct_SS_salus_graph) int { return capi.Salus_graph_set_attr_ints(p, n, name, v) }
	case []float32:
		floats := make([]float64, len(v))
		for i, x := range v {
			floats[i] = float64(x)
		}
		set = func(p capi.Struct_SS_salus_graph) int { return capi.Salus_graph_set_attr_floats(p, n, name, floats) }
	case []float64:
		set = func(p capi.Struct_SS_salus_graph) int { return capi.Salus_graph_set_attr_floats(p, n, name, v) }
	case string:
		set = func(p capi.Struct_SS_salus_graph) int { return capi.Salus_graph_set_attr_string(p, n, name, v) }
	default:
		g.fail(errorf(ErrInvalid, "SetAttr %q of node %d: unsupported value type %T", name, node, value))
		return
	}
	g.build("SetAttr", set)
}

// AddOutput declares t an output, returned after every iteration in the
// order of these calls (salus_graph_add_output).
func (g *Graph) AddOutput(t TensorID) {
	g.build("AddOutput", func(p capi.Struct_SS_salus_graph) int {
		return capi.Salus_graph_add_output(p, uint(t))
	})
}

// TensorCount returns the number of tensors, node outputs included.
func (g *Graph) TensorCount() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.ptr == nil {
		return 0
	}
	return int(capi.Salus_graph_tensor_count(g.ptr))
}

// NodeCount returns the number of nodes.
func (g *Graph) NodeCount() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.ptr == nil {
		return 0
	}
	return int(capi.Salus_graph_node_count(g.ptr))
}

// TensorShape returns the dtype and shape the daemon will give tensor t: a
// declared tensor's own, a node output's from the daemon's op schema and
// shape rules (salus_graph_tensor_shape). An error names the node whose
// inputs or attributes do not fit.
func (g *Graph) TensorShape(t TensorID) (DType, []int64, error) {
	dtype := []int32{0}
	shape := make([]int64, MaxRank)
	rank := []int64{0}
	err := g.read("TensorShape", func(p capi.Struct_SS_salus_graph) int {
		return capi.Salus_graph_tensor_shape(p, uint(t), dtype, shape, rank)
	})
	if err != nil {
		return 0, nil, err
	}
	return DType(dtype[0]), shape[:rank[0]], nil
}

// OpNames returns the ops the daemon of this version runs (doc/ops.md is
// their catalogue).
func OpNames() []string {
	names := make([]string, capi.Salus_op_count())
	for i := range names {
		names[i] = capi.Salus_op_name(int64(i))
	}
	return names
}

// Export returns the graph in the Salus IR, exactly what the daemon receives
// (salus_graph_export): a salus.ir.Graph flatbuffer, see
// libsalus/protocol/graph.fbs.
func (g *Graph) Export() ([]byte, error) {
	var out []byte
	err := g.read("Export", func(p capi.Struct_SS_salus_graph) int {
		var view []byte // C memory, until Salus_buffer_free
		rc := capi.Salus_graph_export(p, &view)
		if rc == 0 {
			out = append([]byte{}, view...)
			capi.Salus_buffer_free(view)
		}
		return rc
	})
	return out, err
}

// read runs a call that only reads the graph, after reporting a sticky error
// or a closed graph.
func (g *Graph) read(what string, f func(ptr capi.Struct_SS_salus_graph) int) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.err != nil {
		return g.err
	}
	if g.ptr == nil {
		return errorf(ErrInvalid, "%s: the graph is closed", what)
	}
	return check(func() int { return f(g.ptr) })
}
