package standin

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables of fault and latency injection.
const (
	// FaultsEnv lists faults: "op:type:n[:crash]" separated by commas, where op
	// is create, update, delete, read or invoke (type is then the function's
	// token), type a type token or "*", and n the
	// call (1-based, counted across plugin processes) that fails, or with
	// ":crash" kills the plugin process.
	FaultsEnv = "DEPLOYER_STANDIN_FAULTS"
	// LatencyEnv is a delay added to every create, update, delete and read
	// (a Go duration such as "200ms").
	LatencyEnv = "DEPLOYER_STANDIN_LATENCY"
	// LatencyAfterEnv is a delay after a create, update or delete has reached
	// the cloud and before the engine hears of it: the window in which a
	// killed run leaves a pending operation for something that exists.
	LatencyAfterEnv = "DEPLOYER_STANDIN_LATENCY_AFTER"
)

type fault struct {
	op, typ string
	n       int
	crash   bool
}

// Faults injects failures and latency; counts live in a Store so that every
// plugin process of a run shares them.
type Faults struct {
	list         []fault
	latency      time.Duration
	latencyAfter time.Duration
	store        Store
}

// FaultsFromEnv reads FaultsEnv and LatencyEnv; counts go to store.
func FaultsFromEnv(store Store) (*Faults, error) {
	f := &Faults{store: store}
	if v := os.Getenv(LatencyEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %w", LatencyEnv, v, err)
		}
		f.latency = d
	}
	if v := os.Getenv(LatencyAfterEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %w", LatencyAfterEnv, v, err)
		}
		f.latencyAfter = d
	}
	for _, spec := range strings.Split(os.Getenv(FaultsEnv), ",") {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		crash := strings.HasSuffix(spec, ":crash")
		spec = strings.TrimSuffix(spec, ":crash")
		i := strings.Index(spec, ":")
		j := strings.LastIndex(spec, ":")
		if i < 0 || j <= i {
			return nil, fmt.Errorf("%s: %q is not op:type:n[:crash]", FaultsEnv, spec)
		}
		n, err := strconv.Atoi(spec[j+1:])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q: n must be a positive number", FaultsEnv, spec)
		}
		f.list = append(f.list, fault{op: spec[:i], typ: spec[i+1 : j], n: n, crash: crash})
	}
	return f, nil
}

// After runs after an operation reached the cloud.
func (f *Faults) After(ctx context.Context) {
	if f == nil || f.latencyAfter == 0 {
		return
	}
	select {
	case <-time.After(f.latencyAfter):
	case <-ctx.Done():
	}
}

// Before runs before an operation: it sleeps the latency, counts the call,
// and fails (or crashes) it when a fault matches.
func (f *Faults) Before(ctx context.Context, op, typ string) error {
	if f == nil {
		return nil
	}
	if f.latency > 0 {
		select {
		case <-time.After(f.latency):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return f.Fail(op, typ)
}

// Fail counts the call and fails (or crashes) it when a fault matches, with
// no latency: the "invoke" op of a provider function's token.
func (f *Faults) Fail(op, typ string) error {
	if f == nil || len(f.list) == 0 {
		return nil
	}
	var hit *fault
	err := f.store.Update(func(c *Cloud) error {
		for i := range f.list {
			ft := f.list[i]
			if ft.op != op || (ft.typ != "*" && ft.typ != typ) {
				continue
			}
			key := "fault/" + ft.op + "/" + ft.typ
			c.Counters[key]++
			if c.Counters[key] == ft.n {
				hit = &f.list[i]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if hit == nil {
		return nil
	}
	if hit.crash {
		fmt.Fprintf(os.Stderr, "stand-in: injected crash at %s %s #%d\n", op, typ, hit.n)
		os.Exit(3)
	}
	return fmt.Errorf("injected fault: %s of %s #%d fails (%s)", op, typ, hit.n, FaultsEnv)
}

// EnableEnv must be "1" for the PostgreSQL stand-in to start (the AWS one
// needs its cloud folder instead).
const EnableEnv = "DEPLOYER_STANDIN"
