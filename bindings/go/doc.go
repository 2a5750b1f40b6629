// Package salus is the Go binding of libsalus, the client library of the
// Salus GPU-sharing service.
//
// A job connects to salusd, builds a computation graph once, opens a session
// with it (the daemon validates the graph, plans its persistent memory P and
// ephemeral peak T, and admits it into a lane) and then runs iterations: it
// feeds the graph's inputs and receives its outputs.
//
//	client, err := salus.Connect(nil) // $SALUS_SOCKET or the default socket
//	...
//	defer client.Close()
//	g := salus.NewGraph()
//	defer g.Close()
//	x := g.AddInput("x", salus.Float32, 32, 8)
//	... // variables, nodes (MatMul, Relu, SoftmaxCrossEntropy, ...), outputs
//	session, err := client.CreateSession(g, nil)
//	...
//	defer session.Close()
//	outputs, err := session.Run(salus.Feeds{x: batch, labels: onehot})
//
// A session may hold several graphs over its one set of variables: AddGraph
// adds, say, the forward pass at another batch size next to the training
// step, and RunGraph or SubmitGraph run it by the index AddGraph returned (Run
// and Submit run graph 0, the graph the session was created with).
// ReadVariables and WriteVariables move variable values between iterations,
// in order with them: a checkpoint, or pretrained weights.
//
//	eval, err := session.AddGraph(forward, "eval")      // same variable names, dtypes, shapes
//	logits, err := session.RunGraph(eval, salus.Feeds{fx: images})
//	weights, err := session.ReadVariables("W1", "b1")   // map[string]*Tensor
//	err = session.WriteVariables(weights)                // ErrShape: nothing written
//
// The raw functions come from the public C header through SWIG (see
// internal/capi), so the binding follows the C API exactly; this package adds
// Go types, errors and ownership on top. Handles (Client, Graph, Session,
// Pending) hold C resources: Close frees them at once, there are no
// finalizers. A Client, and the Sessions and Pendings made from it, may be
// used from several goroutines at once; so may a Graph.
//
// Errors are *Error values carrying the negative SALUS_E... code and the
// library's or the daemon's message; compare them with errors.Is against
// ErrGraph, ErrShape, ErrNoSession and the other sentinels.
//
// Build against an installed libsalus: cgo finds it with pkg-config
// (libsalus.pc), and go build runs swig, so both must be installed.
package salus
