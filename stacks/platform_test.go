package stacks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/enginetest"
	"github.com/postgis-platform/deployer/internal/pgtest"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/stacks"
)

func TestLocalStackUpAndRefreshReportsLiveRules(t *testing.T) {
	l := enginetest.NewLocal(t)
	st := l.Stack(t, l.Name, stacks.Platform)
	l.Configure(t, st)
	ctx := context.Background()
	up, err := st.Up(ctx)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	ch := make(chan events.EngineEvent)
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			if d := ev.DiagnosticEvent; d != nil && strings.Contains(d.Message, stacks.LiveRulesPrefix) {
				lines = append(lines, d.Message)
			}
		}
	}()
	res, err := st.PreviewRefresh(ctx, optrefresh.EventStreams(ch), optrefresh.RunProgram(true))
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ChangeSummary) != 1 || res.ChangeSummary["same"] != len(res.ChangeSummary)*res.ChangeSummary["same"] {
		t.Fatalf("a refresh right after up drifts: %v", res.ChangeSummary)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], `"ruleIds":["sgr-`) {
		t.Fatalf("live rules line: %q", lines)
	}
	if n := (*up.Summary.ResourceChanges)["create"]; n < 50 {
		t.Fatalf("created %d resources", n)
	}
}

// AWS rotates a managed master password (every 7 days by default) behind the
// state's back. A drift audit runs the program, which reads the current
// secret and configures the PostgreSQL provider with it, so the audit still
// logs in; a refresh without the program uses the password in the state and
// cannot.
func TestDriftSurvivesMasterPasswordRotation(t *testing.T) {
	l := enginetest.NewLocal(t)
	st := l.Stack(t, l.Name, stacks.Platform)
	l.Configure(t, st)
	ctx := context.Background()
	if _, err := st.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	l.ExportEnv(t)
	rotated := "rot:ated/" + pgtest.Name("pw")
	err := l.AWSCloud().Update(func(c *standin.Cloud) error {
		if len(c.Secrets) != 1 {
			return fmt.Errorf("want one secret, have %d", len(c.Secrets))
		}
		for arn := range c.Secrets {
			b, _ := json.Marshal(map[string]string{"username": l.Admin, "password": rotated})
			c.Secrets[arn] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, l.PG.Super(t, "postgres"), "ALTER ROLE "+l.Admin+" PASSWORD "+pgtest.QuoteLiteral(rotated))

	if _, err := st.PreviewRefresh(ctx); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("a refresh without the program after the rotation: want a failed login, got %v", err)
	}
	if r := automation.Drift(ctx, l.Settings, l.Name, stacks.Platform); r.ExitCode != automation.ExitOK {
		t.Fatalf("drift after the rotation: %+v", r)
	}
}
