package main

import (
	"bytes"
	"io"
	"log/slog"
	"sync"

	"github.com/postgis-platform/deployer/automation"
)

// linePrefixer writes whole lines to w, each starting with "[stack] ", so
// the progress and logs of stacks run in parallel can be told apart. Lines
// of different stacks never interleave: they share out's lock.
type linePrefixer struct {
	out    *lockedWriter
	prefix []byte
	mu     sync.Mutex
	buf    []byte
}

// lockedWriter serialises whole lines from several prefixers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *linePrefixer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if err := p.emit(p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}

// Flush writes a last line that has no newline yet.
func (p *linePrefixer) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		_ = p.emit(append(p.buf, '\n'))
		p.buf = nil
	}
}

func (p *linePrefixer) emit(line []byte) error {
	p.out.mu.Lock()
	defer p.out.mu.Unlock()
	_, err := p.out.w.Write(append(append([]byte{}, p.prefix...), line...))
	return err
}

// perStack gives a stack of a parallel run its own logger and progress
// stream, both prefixed with "[stack] ". flush writes what is left.
func (a *app) perStack(out *lockedWriter, name string, quiet bool) (opts []automation.Option, flush func()) {
	pw := &linePrefixer{out: out, prefix: []byte("[" + name + "] ")}
	opts = []automation.Option{automation.WithLogger(a.loggerTo(pw))}
	if !quiet {
		opts = append(opts, automation.WithProgress(pw))
	}
	return opts, pw.Flush
}

// loggerTo is the run's logger (format and level from the flags) writing to w.
func (a *app) loggerTo(w io.Writer) *slog.Logger {
	if a.newLogger != nil {
		return a.newLogger(w)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// withOpts is base followed by the per-stack options (which win), in a new
// slice: the stacks of a parallel run share base.
func withOpts[T any](base []T, per []automation.Option) []T {
	out := make([]T, 0, len(base)+len(per))
	out = append(out, base...)
	for _, o := range per {
		if t, ok := any(o).(T); ok {
			out = append(out, t)
		}
	}
	return out
}
