package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// examples/go builds and, run as a user runs it against the shared daemon,
// prints a loss that falls.
func TestExampleTrains(t *testing.T) {
	dir := os.Getenv("SALUS_GO_EXAMPLE")
	if dir == "" {
		t.Fatal("$SALUS_GO_EXAMPLE is not set: run the tests with meson test")
	}
	bin := filepath.Join(t.TempDir(), "classifier")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", dir, err, out)
	}
	out, err := exec.Command(bin, "-socket", shared.socket, "-iterations", "100").CombinedOutput()
	t.Logf("classifier:\n%s", out)
	if err != nil {
		t.Fatalf("classifier: %v", err)
	}
	var losses []float64
	for _, m := range regexp.MustCompile(`loss (\d+\.\d+)`).FindAllSubmatch(out, -1) {
		loss, _ := strconv.ParseFloat(string(m[1]), 64)
		losses = append(losses, loss)
	}
	if len(losses) < 3 || !(losses[len(losses)-1] < 0.5*losses[0]) {
		t.Errorf("losses %v: want at least 3, the last under half the first", losses)
	}
}
