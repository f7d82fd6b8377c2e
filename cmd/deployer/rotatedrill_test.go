package main

import (
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// `deployer rotate` killed with SIGKILL (its whole process group) inside the
// rotation's transaction, after the new login's password and the new user
// mapping are written and before the commit: the server rolls the
// transaction back, so the mapping still names the login it named, onboarding
// goes on through it, and after `unlock` the next rotate gives the new login
// and drift is clean.
func TestDrillKillMidRotation(t *testing.T) {
	d := deployLocal(t)
	ctx := context.Background()
	o := sqlfuncs.Options{UtilityRole: d.Names["utilityRole"]}.WithDefaults()
	super := d.PG.Super(t, "postgres")
	before := mappingLogin(t, d, o)

	// A session holds the lock the rotation's last statement needs (a
	// comment on the functions' owner), so the writer waits there with
	// everything else of the rotation written but not committed.
	blocker := pgtest.Connect(t, d.PG.SuperConfig("postgres"))
	pgtest.Exec(t, blocker, "BEGIN")
	pgtest.Exec(t, blocker, "COMMENT ON ROLE "+o.Owner+" IS 'held by the drill'")
	cmd := d.start(t, nil, "rotate")
	app := "deployer/" + d.Name + "/loopback-login"
	waitFor(t, "the rotation waiting inside its transaction", func() bool {
		// The writer's session reports no state or query (it turns
		// track_activities off: its statements hold a password), but its
		// wait shows, and the lock on the old user mapping it dropped.
		var n int
		_ = super.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_stat_activity a
			WHERE a.application_name = $1 AND a.wait_event_type = 'Lock'
			AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.pid = a.pid AND l.granted AND l.locktype = 'object'
			            AND l.classid = 'pg_catalog.pg_user_mapping'::pg_catalog.regclass AND l.mode = 'AccessExclusiveLock')`, app).Scan(&n)
		return n == 1
	})
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	pgtest.Exec(t, blocker, "ROLLBACK")
	waitFor(t, "the killed writer's session to end", func() bool {
		var n int
		_ = super.QueryRow(ctx, "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", app).Scan(&n)
		return n == 0
	})

	if got := mappingLogin(t, d, o); got != before {
		t.Fatalf("after the kill the mapping names %q, before it %q: the rotation was not rolled back", got, before)
	}
	caller := pgtest.Connect(t, d.PG.Config(d.Names["utilityDatabase"], d.Names["utilityRole"], d.Secrets["utilityRolePassword"]))
	tag := pgtest.Name("")[:6]
	made := []onboarded{{role: "kr" + tag + "_1_o", db: "kr" + tag + "_1", password: pgtest.Name("pw")}}
	t.Cleanup(func() { dropTenants(d, made) })
	if err := onboard(ctx, d, caller, made[0]); err != nil {
		t.Fatalf("onboarding after the killed rotation: %v", err)
	}

	if code, s, text := d.report(t, "unlock"); code != 0 {
		t.Fatalf("unlock after the kill: exit %d %+v\n%s", code, s, text)
	}
	if code, s, text := d.report(t, "rotate"); code != 0 || !strings.Contains(strings.Join(s.Notes, "\n"), "new password") {
		t.Fatalf("rotate after the kill: exit %d %+v\n%s", code, s, text)
	}
	if got := mappingLogin(t, d, o); got == before || (got != o.LoopbackLogins()[0] && got != o.LoopbackLogins()[1]) {
		t.Fatalf("after the next rotate the mapping names %q (before: %q)", got, before)
	}
	made = append(made, onboarded{role: "kr" + tag + "_2_o", db: "kr" + tag + "_2", password: pgtest.Name("pw")})
	if err := onboard(ctx, d, caller, made[1]); err != nil {
		t.Fatalf("onboarding after the next rotate: %v", err)
	}
	checkTenantsLockedDown(t, d, made)
	if code, s, text := d.report(t, "drift"); code != 0 {
		t.Fatalf("drift after the recovery: exit %d %+v\n%s", code, s, text)
	}
}

// mappingLogin is the login the functions' owner's loopback mapping names
// (read as the admin, who checks that it logs in).
func mappingLogin(t *testing.T, d *deployed, o sqlfuncs.Options) string {
	t.Helper()
	admin := pgtest.Connect(t, d.PG.Config(d.Names["utilityDatabase"], d.Admin, d.AdminPass))
	l, err := sqlfuncs.ReadLoopbackLogin(context.Background(), admin, o, d.Admin)
	if err != nil || l.State != sqlfuncs.MappingCurrent {
		t.Fatalf("read the mapping: %+v %v", l, err)
	}
	return l.Login
}
