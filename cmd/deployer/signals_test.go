package main

import (
	"context"
	"log/slog"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestCancelExitCodes(t *testing.T) {
	for sig, want := range map[os.Signal]int{os.Interrupt: 130, syscall.SIGTERM: 143} {
		if got := cancelExitCode(sig); got != want {
			t.Errorf("%v: exit %d, want %d", sig, got, want)
		}
	}
}

// The first signal cancels the run and is remembered; a second one does not
// replace it.
func TestWatchSignalsCancelsOnTheFirst(t *testing.T) {
	ctx, sc, stop := watchSignals(context.Background(), func() *slog.Logger { return slog.New(slog.DiscardHandler) })
	defer stop()
	if sc.signal() != nil || ctx.Err() != nil {
		t.Fatal("cancelled before any signal")
	}
	sc.ch <- syscall.SIGTERM
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not cancel the run")
	}
	sc.ch <- os.Interrupt
	time.Sleep(50 * time.Millisecond)
	if sc.signal() != syscall.SIGTERM {
		t.Fatalf("signal %v, want the first (SIGTERM)", sc.signal())
	}
	var none *signalCancel
	if none.signal() != nil {
		t.Fatal("no watch: no signal")
	}
}
