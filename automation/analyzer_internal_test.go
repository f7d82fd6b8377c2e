package automation

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// A fleet's stacks find no analyzer and build it at once into an empty user
// cache: each gets the one analyzer, executable, and no build's file is left.
func TestAnalyzerBuildsAtOnce(t *testing.T) {
	root := testenv.RepoRoot(t)
	// The user cache moves; Go's build cache stays where it is.
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOCACHE: %v", err)
	}
	t.Setenv("GOCACHE", strings.TrimSpace(string(gocache)))
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const builds = 3
	dirs, errs := make([]string, builds), make([]error, builds)
	var wg sync.WaitGroup
	for i := range builds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = buildAnalyzer(context.Background(), root, log)
		}()
	}
	wg.Wait()
	for i := range builds {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Fatalf("build %d: dir %q (first %q), error %v", i, dirs[i], dirs[0], errs[i])
		}
	}
	if !isExecutable(filepath.Join(dirs[0], AnalyzerName)) {
		t.Fatalf("no executable analyzer in %s", dirs[0])
	}
	left, err := os.ReadDir(dirs[0])
	if err != nil || len(left) != 1 {
		t.Fatalf("the analyzer's folder holds %d entries, want only the analyzer (%v)", len(left), err)
	}
}
