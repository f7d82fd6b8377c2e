package stacks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
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
// state's back. Drift and the state refresh run the program, which reads the
// current secret and configures the PostgreSQL provider with it: drift still
// logs in (a refresh without the program uses the state's password and
// cannot) and reports the user mapping the rotation made stale. Plain up plans against a refresh made with the state's provider
// config (running the program there would make a planned RDS replacement look
// like every database object had vanished), so it stops and names
// `up --refresh`, which stores the current config first; its refresh runs the
// program, which rewrites the utility database's user mapping, whose stale
// password had broken create_database's dblink session.
func TestMasterPasswordRotation(t *testing.T) {
	l := enginetest.NewLocal(t)
	st := l.Deploy(t)
	ctx := context.Background()
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
	super := l.PG.Super(t, "postgres")
	pgtest.Exec(t, super, "ALTER ROLE "+l.Admin+" PASSWORD "+pgtest.QuoteLiteral(rotated))

	if _, err := st.PreviewRefresh(ctx); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("a refresh without the program after the rotation: want a failed login, got %v", err)
	}
	// Drift logs in with the current password and finds what the rotation
	// broke: the user mapping still holds the old one.
	if r := automation.Drift(ctx, l.Settings, l.Name, stacks.Platform); r.ExitCode != automation.ExitChanges ||
		len(r.Changes) != 1 || r.Changes[0].Kind != "changed" || !strings.Contains(r.Changes[0].Name, "user mapping") {
		t.Fatalf("drift after the rotation: want the stale user mapping alone, got %+v", r)
	}

	caller := pgtest.Connect(t, l.PG.Config(l.Names["utilityDatabase"], l.Names["utilityRole"], l.Secrets["utilityRolePassword"]))
	owner, db := pgtest.Name("rot_owner"), pgtest.Name("rot_db")
	t.Cleanup(func() {
		_, _ = l.PG.Super(t, "postgres").Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	})
	pgtest.Exec(t, caller, "SELECT utility.create_role($1)", owner)
	_, err = caller.Exec(ctx, "SELECT utility.create_database($1, $2)", db, owner)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "08001" || !strings.Contains(pgErr.Detail, "password authentication failed") {
		t.Fatalf("create_database with the stale user mapping: want dblink's failed login (08001), got %v", err)
	}

	// up refreshes with the state's provider config: it stops, says why and
	// what to run, and changes nothing.
	r := automation.Up(ctx, l.Settings, l.Name, stacks.Platform)
	if r.ExitCode != automation.ExitError || r.Step != "preview" || !strings.Contains(r.Error, "run `deployer up --refresh`") {
		t.Fatalf("up after the rotation: want a failed preview that names the fix, got %+v", r)
	}
	// The refresh runs the program, which rewrites the user mapping with the
	// current password (no provider resource holds it).
	r = automation.Up(ctx, l.Settings, l.Name, stacks.Platform, automation.RefreshFirst(t.TempDir()))
	if r.ExitCode != automation.ExitOK || len(r.Changes) != 0 {
		t.Fatalf("up --refresh after the rotation: want the mapping rewritten and nothing else changed, got %+v", r)
	}
	pgtest.Exec(t, caller, "SELECT utility.create_database($1, $2)", db, owner)
	if r := automation.Up(ctx, l.Settings, l.Name, stacks.Platform); r.ExitCode != automation.ExitOK || r.Result != "clean" {
		t.Fatalf("second up after the rotation: %+v", r)
	}
	if r := automation.Drift(ctx, l.Settings, l.Name, stacks.Platform); r.ExitCode != automation.ExitOK {
		t.Fatalf("drift after the repair: %+v", r)
	}
}
