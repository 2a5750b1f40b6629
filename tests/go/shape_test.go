package tests

import (
	"reflect"
	"strings"
	"testing"

	"salus.dev/salus"
)

// Shapes come from the daemon's own rules through libsalus: a broadcast, a
// reduction with attributes, an integer op, and a misuse named by its node.
func TestGraphTensorShape(t *testing.T) {
	g := salus.NewGraph()
	defer g.Close()
	x := g.AddInput("x", salus.Float32, 4, 1, 3)
	b := g.AddInput("b", salus.Float32, 5, 1)
	sum := g.Op("Add", x, b)
	outs, _ := g.AddNode(salus.Node{Op: "ReduceSum", Name: "r", Inputs: []salus.TensorID{sum},
		Outputs: 1, Attrs: map[string]any{"axes": []int{1}, "keepdims": 0}})
	labels := g.AddInput("labels", salus.Int32, 4)
	oneHot, _ := g.AddNode(salus.Node{Op: "OneHot", Inputs: []salus.TensorID{labels},
		Outputs: 1, Attrs: map[string]any{"depth": 7}})
	for _, c := range []struct {
		t     salus.TensorID
		dtype salus.DType
		shape []int64
	}{{x, salus.Float32, []int64{4, 1, 3}}, {sum, salus.Float32, []int64{4, 5, 3}},
		{outs[0], salus.Float32, []int64{4, 3}}, {oneHot[0], salus.Float32, []int64{4, 7}}} {
		dtype, shape, err := g.TensorShape(c.t)
		if err != nil || dtype != c.dtype || !reflect.DeepEqual(shape, c.shape) {
			t.Errorf("tensor %d: %v %v %v; want %v %v", c.t, dtype, shape, err, c.dtype, c.shape)
		}
	}

	bad := salus.NewGraph()
	defer bad.Close()
	m := bad.AddInput("m", salus.Float32, 2, 3)
	mm, _ := bad.AddNode(salus.Node{Op: "MatMul", Name: "proj", Inputs: []salus.TensorID{m, m}, Outputs: 1})
	_, _, err := bad.TensorShape(mm[0])
	wantError(t, "TensorShape", err, salus.ErrGraph, "proj")
}

func TestOpNames(t *testing.T) {
	names := salus.OpNames()
	joined := "," + strings.Join(names, ",") + ","
	for _, op := range []string{"MatMul", "Relu", "AdamUpdate"} {
		if !strings.Contains(joined, ","+op+",") {
			t.Errorf("OpNames lacks %s: %v", op, names)
		}
	}
}
