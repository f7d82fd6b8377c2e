package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
)

// benchSavedPlan is the cost of --save-plan against a plain preview of the
// same change, and of up --plan against a plain up: each round adds a rule
// and runs both sides on that change.
func benchSavedPlan(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	smallStack(t, e, "plans", 1)
	s := e.Settings
	s.Env = map[string]string{}
	for k, v := range e.Settings.Env {
		s.Env[k] = v
	}
	var preview, save, up, upPlan []time.Duration
	timed := func(into *[]time.Duration, f func() automation.StackReport) {
		start := time.Now()
		if r := f(); r.ExitCode != 0 {
			t.Fatalf("%+v", r)
		}
		*into = append(*into, time.Since(start))
	}
	rules := 1
	for round := 0; round < rounds; round++ {
		rules++
		next := s.WithProgram(rulesProgram(rules))
		plan := filepath.Join(t.TempDir(), "plan.json")
		timed(&preview, func() automation.StackReport { return automation.Preview(ctx, next, "plans") })
		timed(&save, func() automation.StackReport {
			return automation.Preview(ctx, next, "plans", automation.SavePlan(plan))
		})
		timed(&upPlan, func() automation.StackReport { return automation.Up(ctx, next, "plans", automation.WithPlan(plan)) })
		rules++
		timed(&up, func() automation.StackReport { return automation.Up(ctx, s.WithProgram(rulesProgram(rules)), "plans") })
	}
	report(t, "save-plan", "cost", median(save), median(preview), fmt.Sprintf("preview --save-plan vs a plain preview of the same change (%d rounds): the second engine pass and the digests", rounds))
	report(t, "up-plan", "cost", median(upPlan), median(up), "up --plan (the saved plan, checked) vs a plain up of a like change")
}
