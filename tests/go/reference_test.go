package tests

import "math"

// refMLP is the MLP computed here in double precision, as ref_step in
// tests/capi/test_mlp.c: the independent answer the daemon's losses must
// match.
type refMLP struct {
	n, in, hidden, classes int64
	w1, b1, w2, b2         []float64
}

func newRefMLP(m *mlp) *refMLP {
	widen := func(v []float32) []float64 {
		w := make([]float64, len(v))
		for i, x := range v {
			w[i] = float64(x)
		}
		return w
	}
	c := m.cfg
	return &refMLP{n: c.batch, in: c.in, hidden: c.hidden, classes: c.classes,
		w1: widen(m.w1), b1: widen(m.b1), w2: widen(m.w2), b2: widen(m.b2)}
}

// step returns the loss of the batch before the update and applies one SGD
// step with rate lr, as the graph does: every gradient from the old weights
// first, then the updates.
func (r *refMLP) step(x, y []float32, lr float64) float64 {
	N, I, H, C := r.n, r.in, r.hidden, r.classes
	z1 := make([]float64, N*H)
	a1 := make([]float64, N*H)
	dlogits := make([]float64, N*C)
	dz1 := make([]float64, N*H)
	logits := make([]float64, C)
	loss := 0.0
	for n := int64(0); n < N; n++ {
		for h := int64(0); h < H; h++ {
			s := r.b1[h]
			for i := int64(0); i < I; i++ {
				s += float64(x[n*I+i]) * r.w1[i*H+h]
			}
			z1[n*H+h] = s
			a1[n*H+h] = math.Max(s, 0)
		}
		max := math.Inf(-1)
		for c := int64(0); c < C; c++ {
			s := r.b2[c]
			for h := int64(0); h < H; h++ {
				s += a1[n*H+h] * r.w2[h*C+c]
			}
			logits[c] = s
			max = math.Max(max, s)
		}
		sum := 0.0
		for c := int64(0); c < C; c++ {
			sum += math.Exp(logits[c] - max)
		}
		for c := int64(0); c < C; c++ {
			logP := logits[c] - max - math.Log(sum)
			loss -= float64(y[n*C+c]) * logP
			dlogits[n*C+c] = (math.Exp(logP) - float64(y[n*C+c])) / float64(N)
		}
	}
	loss /= float64(N)

	for n := int64(0); n < N; n++ {
		for h := int64(0); h < H; h++ {
			s := 0.0
			for c := int64(0); c < C; c++ {
				s += dlogits[n*C+c] * r.w2[h*C+c]
			}
			if z1[n*H+h] > 0 {
				dz1[n*H+h] = s
			}
		}
	}
	for h := int64(0); h < H; h++ {
		for c := int64(0); c < C; c++ {
			g := 0.0
			for n := int64(0); n < N; n++ {
				g += a1[n*H+h] * dlogits[n*C+c]
			}
			r.w2[h*C+c] -= lr * g
		}
	}
	for c := int64(0); c < C; c++ {
		g := 0.0
		for n := int64(0); n < N; n++ {
			g += dlogits[n*C+c]
		}
		r.b2[c] -= lr * g
	}
	for i := int64(0); i < I; i++ {
		for h := int64(0); h < H; h++ {
			g := 0.0
			for n := int64(0); n < N; n++ {
				g += float64(x[n*I+i]) * dz1[n*H+h]
			}
			r.w1[i*H+h] -= lr * g
		}
	}
	for h := int64(0); h < H; h++ {
		g := 0.0
		for n := int64(0); n < N; n++ {
			g += dz1[n*H+h]
		}
		r.b1[h] -= lr * g
	}
	return loss
}
