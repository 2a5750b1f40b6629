package tests

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"salus.dev/salus"
)

// Eight goroutines share one Client, each training its own session of one
// Graph, while another lists sessions and status: every session trains the
// same way, and the race detector watches the binding.
func TestGoroutinesShareClient(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	const workers, iterations = 8, 30
	first := make([]float64, workers)
	last := make([]float64, workers)
	errs := make(chan error, workers+1)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() { // an observer on the same client
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			if _, err := c.ListSessions(); err != nil {
				errs <- err
				return
			}
			if _, err := c.Status(); err != nil {
				errs <- err
				return
			}
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s, err := c.CreateSession(m.graph, &salus.SessionOptions{Name: "worker"})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := 0; i < iterations; i++ {
				x, labels := m.batch(uint64(i % 4))
				xt, _ := salus.NewFloat32(x, m.cfg.batch, m.cfg.in)
				lt, _ := salus.NewFloat32(labels, m.cfg.batch, m.cfg.classes)
				outs, err := s.Run(salus.Feeds{m.x: xt, m.labels: lt})
				if err != nil {
					errs <- err
					return
				}
				loss := float64(outs[0].Float32s()[0])
				if i == 0 {
					first[w] = loss
				}
				last[w] = loss
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	for len(errs) > 0 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for w := 0; w < workers; w++ {
		// Same graph, same batches: every session trains the same way.
		if !sameLoss(first[w], first[0]) || !sameLoss(last[w], last[0]) || !(last[w] < first[w]) {
			t.Errorf("worker %d: loss %.6f -> %.6f; worker 0: %.6f -> %.6f", w, first[w], last[w], first[0], last[0])
		}
	}
}

// Goroutines submitting to one Session get distinct iteration numbers, and
// the daemon counts every iteration.
func TestGoroutinesShareSession(t *testing.T) {
	c := connect(t, shared.socket)
	m := newMLP(t, defaultMLP)
	s := openSession(t, c, m.graph, nil)
	const workers, each = 4, 10
	feeds, _, _ := m.feeds(t, 0)
	iterations := make(chan uint64, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				p, err := s.Submit(feeds)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := p.Wait(); err != nil {
					t.Error(err)
					return
				}
				iterations <- p.Iteration()
			}
		}()
	}
	wg.Wait()
	close(iterations)
	seen := map[uint64]bool{}
	for it := range iterations {
		if it < 1 || it > workers*each || seen[it] {
			t.Errorf("iteration number %d out of range or repeated", it)
		}
		seen[it] = true
	}
	if info := findSession(t, c, s.ID()); info.Iterations != workers*each {
		t.Errorf("the daemon counted %d iterations, want %d", info.Iterations, workers*each)
	}
}

// Client.Close while goroutines run iterations: each stops with
// ErrNoSession or ErrConnect, nothing else, and nothing crashes.
func TestCloseWhileRunning(t *testing.T) {
	c, err := salus.Connect(&salus.ConnectOptions{SocketPath: shared.socket})
	if err != nil {
		t.Fatal(err)
	}
	m := newMLP(t, defaultMLP)
	feeds, _, _ := m.feeds(t, 0)
	const workers = 4
	started := make(chan struct{}, workers)
	ended := make(chan error, workers)
	for w := 0; w < workers; w++ {
		s, err := c.CreateSession(m.graph, nil)
		if err != nil {
			t.Fatal(err)
		}
		go func(w int) {
			for i := 0; ; i++ {
				var err error
				if w%2 == 0 {
					_, err = s.Run(feeds)
				} else {
					var p *salus.Pending
					if p, err = s.Submit(feeds); err == nil {
						_, err = p.Wait()
						p.Close()
					}
				}
				if i == 0 {
					started <- struct{}{}
				}
				if err != nil {
					ended <- err
					return
				}
			}
		}(w)
	}
	for w := 0; w < workers; w++ {
		<-started
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	for w := 0; w < workers; w++ {
		if err := <-ended; !errors.Is(err, salus.ErrNoSession) && !errors.Is(err, salus.ErrConnect) {
			t.Errorf("a worker stopped with %v", err)
		}
	}
}

// Each failing call gets its own message, though libsalus keeps the last
// message per OS thread and goroutines move between threads.
func TestErrorMessagesPerCall(t *testing.T) {
	c := connect(t, shared.socket)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				name := fmt.Sprintf("no-such-policy-%d-%d", w, i)
				var serr *salus.Error
				if err := c.SetPolicy(name); !errors.As(err, &serr) || !strings.Contains(serr.Message, name) {
					t.Errorf("SetPolicy(%s): %v", name, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
}
