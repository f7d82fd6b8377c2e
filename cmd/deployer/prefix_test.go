package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/postgis-platform/deployer/automation"
)

// Two stacks writing partial lines at once: every line out is whole and
// starts with its own stack.
func TestLinePrefixerKeepsLinesWhole(t *testing.T) {
	var buf bytes.Buffer
	out := &lockedWriter{w: &buf}
	var wg sync.WaitGroup
	for _, name := range []string{"dev", "prod"} {
		p := &linePrefixer{out: out, prefix: []byte("[" + name + "] ")}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				fmt.Fprintf(p, "%s line ", name)
				fmt.Fprintf(p, "%d\n", i)
			}
			fmt.Fprint(p, "tail without newline")
			p.Flush()
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 402 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		name := strings.TrimSuffix(strings.TrimPrefix(strings.Fields(l)[0], "["), "]")
		if !strings.HasPrefix(l, "["+name+"] ") || !(strings.HasPrefix(l, "["+name+"] "+name+" line ") || l == "["+name+"] tail without newline") {
			t.Fatalf("mixed line %q", l)
		}
	}
}

func TestWithOptsCopies(t *testing.T) {
	base := make([]automation.DriftOption, 1, 8)
	base[0] = automation.WithLogger(nil)
	a := withOpts(base, []automation.Option{automation.WithProgress(nil)})
	b := withOpts(base, nil)
	if len(a) != 2 || len(b) != 1 || len(base) != 1 {
		t.Fatalf("lengths %d %d %d", len(a), len(b), len(base))
	}
	a[0] = nil
	if base[0] == nil {
		t.Fatal("withOpts shares base's array")
	}
}
