package tests

import (
	"bytes"
	"reflect"
	"testing"

	"salus.dev/salus"
)

func TestTensorShapes(t *testing.T) {
	v, err := salus.NewFloat32([]float32{1, 2, 3})
	if err != nil || !reflect.DeepEqual(v.Shape(), []int64{3}) || v.Len() != 3 {
		t.Errorf("NewFloat32 of 3 values without a shape: %v, %v", v, err)
	}
	v.Shape()[0] = 7 // a copy
	if v.Shape()[0] != 3 {
		t.Errorf("Shape() exposes the tensor's own dimensions")
	}
	if s := salus.Scalar(2.5); len(s.Shape()) != 0 || s.Len() != 1 || s.Float32s()[0] != 2.5 {
		t.Errorf("Scalar(2.5): shape %v, values %v", s.Shape(), s.Float32s())
	}
	z, err := salus.Zeros(salus.Int64, 2, 3)
	if err != nil || len(z.Int64s()) != 6 || z.Float32s() != nil || len(z.Bytes()) != 48 || z.DType() != salus.Int64 {
		t.Errorf("Zeros(Int64, 2, 3): %v", err)
	}
	h, err := salus.NewHalf(salus.BFloat16, []uint16{0x3f80, 0}, 2)
	if err != nil || h.DType() != salus.BFloat16 || len(h.HalfBits()) != 2 || len(h.Bytes()) != 4 {
		t.Errorf("NewHalf(BFloat16): %v", err)
	}
	i, err := salus.NewInt32([]int32{1, 2, 3, 4}, 2, 2)
	if err != nil || i.Int32s()[3] != 4 {
		t.Errorf("NewInt32: %v", err)
	}

	// The tensor is the caller's slice: no copy.
	values := []float32{1, 2}
	shared, _ := salus.NewFloat32(values)
	before := append([]byte{}, shared.Bytes()...)
	values[1] = 0.5
	if shared.Float32s()[1] != 0.5 || bytes.Equal(before, shared.Bytes()) {
		t.Errorf("the tensor does not share the slice's memory")
	}
}

func TestTensorErrors(t *testing.T) {
	_, err := salus.NewFloat32(make([]float32, 5), 2, 3)
	wantError(t, "5 values for [2 3]", err, salus.ErrInvalid, "[2 3]")
	_, err = salus.NewFloat32(nil, 2, -1)
	wantError(t, "negative dimension", err, salus.ErrInvalid, "negative")
	_, err = salus.Zeros(salus.Float32, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	wantError(t, "rank 9", err, salus.ErrInvalid, "rank 9")
	_, err = salus.Zeros(salus.Float32, 1<<40, 1<<40)
	wantError(t, "2^80 elements", err, salus.ErrTooBig)
	_, err = salus.NewHalf(salus.Float32, []uint16{1})
	wantError(t, "NewHalf(Float32)", err, salus.ErrInvalid, "f32")
	_, err = salus.Zeros(salus.DType(9))
	wantError(t, "Zeros(DType(9))", err, salus.ErrInvalid, "DType(9)")
}

// Float64 and integer arithmetic: the daemon adds doubles beyond float32 and
// divides integers truncating toward zero.
func TestFloat64AndIntegerArithmetic(t *testing.T) {
	c := connect(t, shared.socket)
	g := salus.NewGraph()
	defer g.Close()
	x := g.AddInput("x", salus.Float64, 2, 1)
	y := g.AddInput("y", salus.Float64, 2)
	a := g.AddInput("a", salus.Int64, 3)
	b := g.AddInput("b", salus.Int64, 3)
	g.AddOutput(g.Op("Add", x, y))
	g.AddOutput(g.Op("Div", a, b))
	s := openSession(t, c, g, nil)
	xs, _ := salus.NewFloat64([]float64{1e198, 1}, 2, 1)
	ys, _ := salus.NewFloat64([]float64{2e197, 1e-12})
	as, _ := salus.NewInt64([]int64{7, -7, 9})
	bs, _ := salus.NewInt64([]int64{2, 2, -4})
	outs := run(t, s, salus.Feeds{x: xs, y: ys, a: as, b: bs})
	sum := []float64{1e198 + 2e197, 1e198 + 1e-12, 1 + 2e197, 1 + 1e-12}
	if outs[0].DType() != salus.Float64 || !reflect.DeepEqual(outs[0].Float64s(), sum) {
		t.Errorf("Add of f64 gave %v %v, want %v", outs[0].DType(), outs[0].Float64s(), sum)
	}
	if q := outs[1].Int64s(); !reflect.DeepEqual(q, []int64{3, -3, -2}) {
		t.Errorf("Div of i64 gave %v, want [3 -3 -2]", q)
	}
	if z, err := salus.Zeros(salus.Float64, 3); err != nil || len(z.Bytes()) != 24 || z.Float64s() == nil {
		t.Errorf("Zeros(Float64, 3): %v", err)
	}
}

// Outputs come back with the dtype, shape and values the daemon computed:
// Identity returns its input, ReduceSum without keepdims a scalar.
func TestOutputsRoundTrip(t *testing.T) {
	c := connect(t, shared.socket)
	g := salus.NewGraph()
	defer g.Close()
	x := g.AddInput("x", salus.Float32, 2, 3)
	g.AddOutput(g.Op("Identity", x))
	sum, _ := g.AddNode(salus.Node{Op: "ReduceSum", Inputs: []salus.TensorID{x}, Outputs: 1,
		Attrs: map[string]any{"keepdims": 0}})
	g.AddOutput(sum[0])
	s := openSession(t, c, g, nil)
	values := []float32{1, -2, 3.5, 4, 0.25, -6}
	outs := run(t, s, salus.Feeds{x: tensor(t, values, 2, 3)})
	if s.NumOutputs() != 2 || len(outs) != 2 {
		t.Fatalf("%d outputs (the session says %d), want 2", len(outs), s.NumOutputs())
	}
	if outs[0].DType() != salus.Float32 || !reflect.DeepEqual(outs[0].Shape(), []int64{2, 3}) ||
		!reflect.DeepEqual(outs[0].Float32s(), values) {
		t.Errorf("Identity gave %v %v %v", outs[0].DType(), outs[0].Shape(), outs[0].Float32s())
	}
	if len(outs[1].Shape()) != 0 || outs[1].Float32s()[0] != 0.75 {
		t.Errorf("ReduceSum gave shape %v, values %v; want a scalar 0.75", outs[1].Shape(), outs[1].Float32s())
	}
	_, err := s.Run(salus.Feeds{x: &salus.Tensor{}})
	wantError(t, "Run with a zero Tensor", err, salus.ErrInvalid)
}
