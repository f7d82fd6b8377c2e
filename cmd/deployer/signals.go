package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// cancelSignals are the signals a CI runner sends to a cancelled or timed-out
// job (GitHub Actions: SIGINT, then SIGTERM, then SIGKILL).
var cancelSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// signalCancel cancels a run on SIGINT or SIGTERM. The Automation API passes
// the cancellation to the CLI as SIGINT, which stops the engine after its
// in-flight operations, saves the state and releases the stack lock.
type signalCancel struct {
	mu     sync.Mutex
	caught os.Signal
	ch     chan os.Signal
	done   chan struct{}
}

// watchSignals returns a context cancelled by the first SIGINT or SIGTERM;
// later ones are logged (the engine is already stopping). stop ends the watch.
func watchSignals(parent context.Context, log func() *slog.Logger) (context.Context, *signalCancel, func()) {
	ctx, cancel := context.WithCancel(parent)
	sc := &signalCancel{ch: make(chan os.Signal, 4), done: make(chan struct{})}
	signal.Notify(sc.ch, cancelSignals...)
	go func() {
		for {
			select {
			case sig := <-sc.ch:
				sc.mu.Lock()
				first := sc.caught == nil
				if first {
					sc.caught = sig
				}
				sc.mu.Unlock()
				if first {
					log().Warn("cancelling: stopping the engine after its in-flight operations; the report will say cancelled", "signal", sig.String())
					cancel()
				} else {
					log().Warn("already cancelling: waiting for the engine to save the state and release the stack lock", "signal", sig.String())
				}
			case <-sc.done:
				return
			}
		}
	}()
	return ctx, sc, func() {
		signal.Stop(sc.ch)
		close(sc.done)
		cancel()
	}
}

// signal is the signal that cancelled the run, or nil.
func (sc *signalCancel) signal() os.Signal {
	if sc == nil {
		return nil
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.caught
}

// exitCode is the shell's code for a run ended by the signal: 128 + its number.
func cancelExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}
