// Command classifier trains a small classifier on salusd: a multi-layer
// perceptron learns which of three Gaussian blobs a point was drawn from.
//
// The whole training step (forward pass, loss, backward pass and SGD update)
// is one graph, sent to the daemon once. Every iteration then feeds a batch
// of points and labels and gets back the loss and the class probabilities;
// the weights stay on the daemon's device between iterations.
//
//	classifier [-socket PATH] [-iterations N]
//
// The socket defaults to $SALUS_SOCKET, else the daemon's default socket.
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand"

	"salus.dev/salus"
)

// The model and the data set.
const (
	batch        = 64 // points per iteration
	features     = 4  // coordinates of a point
	hidden       = 32 // hidden units
	classes      = 3  // blobs
	learningRate = 0.1
)

func main() {
	socket := flag.String("socket", "", "salusd's socket (default $SALUS_SOCKET, else the default path)")
	iterations := flag.Int("iterations", 200, "training iterations")
	flag.Parse()
	log.SetFlags(0)

	client, err := salus.Connect(&salus.ConnectOptions{SocketPath: *socket, ClientName: "classifier"})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	rng := rand.New(rand.NewSource(42)) // the same run every time
	model := buildModel(rng)
	defer model.graph.Close()
	session, err := client.CreateSession(model.graph, &salus.SessionOptions{
		Name:               "classifier",
		DeclaredIterations: uint64(*iterations),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()
	fmt.Printf("session %d: persistent %d bytes, ephemeral %d bytes\n",
		session.ID(), session.PersistentBytes(), session.EphemeralBytes())

	data := newBlobs(rng)
	for it := 1; it <= *iterations; it++ {
		x, labels, truth := data.batch()
		outputs, err := session.Run(salus.Feeds{model.x: x, model.labels: labels})
		if err != nil {
			log.Fatal(err)
		}
		loss, probs := outputs[0].Float32s()[0], outputs[1].Float32s()
		if it == 1 || it%25 == 0 || it == *iterations {
			fmt.Printf("iteration %3d: loss %.4f, batch accuracy %.2f\n", it, loss, accuracy(probs, truth))
		}
	}
}

// model is the training graph and the ids of its inputs.
type model struct {
	graph     *salus.Graph
	x, labels salus.TensorID
}

// buildModel builds logits = relu(x W1 + b1) W2 + b2, its cross-entropy loss
// and class probabilities (the outputs), the gradients, and the updates.
func buildModel(rng *rand.Rand) model {
	g := salus.NewGraph()
	x := g.AddInput("x", salus.Float32, batch, features)
	labels := g.AddInput("labels", salus.Float32, batch, classes)
	w1 := g.AddVariable("W1", glorot(rng, features, hidden))
	b1 := g.AddVariable("b1", zeros(hidden))
	w2 := g.AddVariable("W2", glorot(rng, hidden, classes))
	b2 := g.AddVariable("b2", zeros(classes))

	// Forward.
	z1 := g.Op("Add", g.Op("MatMul", x, w1), b1)
	a1 := g.Op("Relu", z1)
	logits := g.Op("Add", g.Op("MatMul", a1, w2), b2)
	g.AddOutput(g.Op("SoftmaxCrossEntropy", logits, labels))
	g.AddOutput(g.Op("Softmax", logits))

	// Backward, layer by layer; MatMul's flags transpose an operand.
	matmul := func(a, b salus.TensorID, flag string) salus.TensorID {
		outs, _ := g.AddNode(salus.Node{Op: "MatMul", Inputs: []salus.TensorID{a, b}, Outputs: 1,
			Attrs: map[string]any{flag: 1}})
		return outs[0]
	}
	sumBatch := func(t salus.TensorID) salus.TensorID { // the gradient of a broadcast bias
		outs, _ := g.AddNode(salus.Node{Op: "ReduceSum", Inputs: []salus.TensorID{t}, Outputs: 1,
			Attrs: map[string]any{"axes": []int64{0}, "keepdims": 0}})
		return outs[0]
	}
	dLogits := g.Op("SoftmaxCrossEntropyGrad", logits, labels)
	dW2 := matmul(a1, dLogits, "transA")
	db2 := sumBatch(dLogits)
	dz1 := g.Op("ReluGrad", matmul(dLogits, w2, "transB"), z1)
	dW1 := matmul(x, dz1, "transA")
	db1 := sumBatch(dz1)

	// Updates: var -= learningRate * grad, in place on the daemon, each after
	// every other reader of its variable.
	for _, u := range [][2]salus.TensorID{{w1, dW1}, {b1, db1}, {w2, dW2}, {b2, db2}} {
		g.AddNode(salus.Node{Op: "SGDUpdate", Inputs: u[:], Attrs: map[string]any{"lr": learningRate}})
	}
	// Builder errors are kept until here (or CreateSession) to check once.
	if err := g.Err(); err != nil {
		log.Fatal(err)
	}
	return model{graph: g, x: x, labels: labels}
}

// glorot returns Glorot-uniform initial weights [in, out].
func glorot(rng *rand.Rand, in, out int64) *salus.Tensor {
	limit := math.Sqrt(6 / float64(in+out))
	w := make([]float32, in*out)
	for i := range w {
		w[i] = float32((2*rng.Float64() - 1) * limit)
	}
	return must(salus.NewFloat32(w, in, out))
}

func zeros(n int64) *salus.Tensor { return must(salus.Zeros(salus.Float32, n)) }

func must(t *salus.Tensor, err error) *salus.Tensor {
	if err != nil {
		log.Fatal(err)
	}
	return t
}

// blobs draws points around one random centre per class.
type blobs struct {
	rng     *rand.Rand
	centres [classes][features]float64
}

func newBlobs(rng *rand.Rand) *blobs {
	b := &blobs{rng: rng}
	for c := range b.centres {
		for j := range b.centres[c] {
			b.centres[c][j] = 4 * rng.NormFloat64()
		}
	}
	return b
}

// batch returns points [batch, features], one-hot labels [batch, classes]
// as SoftmaxCrossEntropy expects, and each point's class.
func (b *blobs) batch() (x, labels *salus.Tensor, truth []int) {
	xs := make([]float32, batch*features)
	ls := make([]float32, batch*classes)
	truth = make([]int, batch)
	for i := range truth {
		c := b.rng.Intn(classes)
		truth[i] = c
		for j := 0; j < features; j++ {
			xs[i*features+j] = float32(b.centres[c][j] + b.rng.NormFloat64())
		}
		ls[i*classes+c] = 1
	}
	return must(salus.NewFloat32(xs, batch, features)), must(salus.NewFloat32(ls, batch, classes)), truth
}

// accuracy is the share of points whose most probable class is the truth.
func accuracy(probs []float32, truth []int) float64 {
	right := 0
	for i, c := range truth {
		best := 0
		for k := 1; k < classes; k++ {
			if probs[i*classes+k] > probs[i*classes+best] {
				best = k
			}
		}
		if best == c {
			right++
		}
	}
	return float64(right) / float64(len(truth))
}
