package stacks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
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
			if d := ev.DiagnosticEvent; d != nil && strings.Contains(d.Message, securitygroup.LiveRulesPrefix) {
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
// state's back. Drift, verify and up's first preview run the program, which
// reads the current secret and configures the PostgreSQL providers with it: a
// refresh without the program uses the state's password and cannot log in.
// Onboarding goes on (the functions' owner has a login of its own); a plain
// up stores the current credential in the providers' config and changes
// nothing else. None of them tries the old password: a failed login is what
// a monitor of the database's logins reports.
func TestMasterPasswordRotation(t *testing.T) {
	l := enginetest.NewLocal(t)
	st := l.Deploy(t)
	ctx := context.Background()
	// Secrets Manager rotates the managed master secret: a new version, and
	// the old password stops working at once.
	if v := l.RotateMasterSecret(t); v != "v2" {
		t.Fatalf("the rotated secret's version: got %q, want v2", v)
	}

	if _, err := st.PreviewRefresh(ctx); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("a refresh without the program after the rotation: want a failed login, got %v", err)
	}
	failed := l.PG.FailedLogins(t, l.Admin)
	if failed == 0 {
		t.Fatal("the server log shows no failed login for the stale refresh above: the count below would prove nothing")
	}
	// Drift logs in with the current password, and the rotation broke
	// nothing: the functions' owner has a login of its own.
	if r := automation.Drift(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitOK || len(r.Changes) != 0 {
		t.Fatalf("drift after the rotation: want clean, got %+v", r)
	}
	// Verify logs in inside the program, with the current secret.
	if r := automation.Verify(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitOK || len(r.Checks) == 0 {
		t.Fatalf("verify after the rotation: %+v", r)
	}
	// Onboarding goes on through the rotation.
	caller := pgtest.Connect(t, l.PG.Config(l.Names["utilityDatabase"], l.Names["utilityRole"], l.Secrets["utilityRolePassword"]))
	owner, db := pgtest.Name("rot_owner"), pgtest.Name("rot_db")
	t.Cleanup(func() {
		_, _ = l.PG.Super(t, "postgres").Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	})
	pgtest.Exec(t, caller, "SELECT utility.create_role($1)", owner)
	pgtest.Exec(t, caller, "SELECT utility.create_database($1, $2)", db, owner)

	// A pull request's preview plans with the current credential and says
	// that the next up stores it.
	if r := automation.Preview(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitOK || len(r.Changes) != 0 ||
		!strings.Contains(strings.Join(r.Notes, "\n"), "rotated since the last update: the next up stores") {
		t.Fatalf("preview after the rotation: want no changes and a note, got %+v", r)
	}

	// A plain up follows the rotation: the providers' stored credential,
	// nothing else; then it verifies.
	r := automation.Up(ctx, l.Settings, l.Name, automation.WithVerify())
	if r.ExitCode != automation.ExitOK || len(r.Changes) != 0 || !strings.Contains(strings.Join(r.Notes, "\n"), "rotated since the last update") || len(r.Checks) == 0 {
		t.Fatalf("up after the rotation: want the credential followed and nothing else changed, got %+v", r)
	}
	if n := l.PG.FailedLogins(t, l.Admin); n != failed {
		t.Fatalf("drift, verify, preview and up after the rotation tried the old password: %d failed login(s) of the admin's", n-failed)
	}
	if _, err := st.PreviewRefresh(ctx); err != nil {
		t.Fatalf("a refresh with the stored credential after up: %v", err)
	}
	if r := automation.Up(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitOK || r.Result != "clean" {
		t.Fatalf("second up after the rotation: %+v", r)
	}
	if r := automation.Drift(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitOK {
		t.Fatalf("drift after the repair: %+v", r)
	}
}
