package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/statestore"
)

// A paused stack refuses CI's up, on the file and the PostgreSQL backends
// (where every runner reads the pause); drift still runs and says so, the
// operator's refresh and up --while-paused run, and resume restores the
// normal path.
func TestPauseHoldsCIUpOnEveryBackend(t *testing.T) {
	for _, backend := range []string{"file", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			e := enginetest.New(t)
			var seePause func() bool
			if backend == "postgres" {
				srv := pgtest.New(t)
				db := pgtest.Name("state")
				pgtest.Exec(t, srv.Super(t, "postgres"), "CREATE DATABASE "+db)
				pgtest.Exec(t, srv.Super(t, "postgres"), "REVOKE CONNECT, TEMPORARY ON DATABASE "+db+" FROM PUBLIC")
				srv.DropDatabaseAtCleanup(t, db)
				e.Settings.BackendURL = fmt.Sprintf("postgres://%s@localhost:%d/%s?sslmode=verify-full&sslrootcert=%s", srv.SuperUser, srv.Port, db, url.QueryEscape(srv.CAFile))
				e.Settings.Env["PGPASSWORD"] = srv.SuperPassword()
				seePause = func() bool { // what another runner's deployer reads
					var n int
					_ = srv.Super(t, db).QueryRow(context.Background(), "SELECT count(*) FROM pulumi_state WHERE key = $1", db+"/.deployer/pauses/postgis-platform/shop.json").Scan(&n)
					return n == 1
				}
			}
			e.SmallStack(t, e.Stack(t, "shop", fleetProgram))
			run := runsIn(t, e, fleetProgram)
			pausePath(t, run, seePause)
			corruptPause(t, run, e.Settings.BackendURL)
		})
	}
}

// pausePath runs pause, CI's up, drift, the operator's sequence and resume
// on stack shop.
func pausePath(t *testing.T, run func(args ...string) (int, string, string), seePause func() bool) {
	t.Helper()
	if code, _, errOut := run("pause", "--stack", "shop"); code != 1 || !strings.Contains(errOut, `"reason" not set`) {
		t.Fatalf("pause without a reason: exit %d %s", code, errOut)
	}
	if code, out, errOut := run("pause", "--stack", "shpo", "--reason", "typo"); code != 1 || !strings.Contains(errOut, `stack "shpo" does not exist`) {
		t.Fatalf("pause of a stack that does not exist: exit %d\n%s\n%s", code, out, errOut)
	}
	reason := "reconciling the ETL rule (INC-4211)"
	if code, out, errOut := run("pause", "--stack", "shop", "--reason", reason); code != 0 || !strings.Contains(out, "paused by") {
		t.Fatalf("pause: exit %d\n%s\n%s", code, out, errOut)
	}
	if seePause != nil && !seePause() {
		t.Fatal("the pause is not in the backend's table")
	}
	if code, out, errOut := run("pause", "--stack", "shop", "--reason", "again"); code != 1 || !strings.Contains(errOut, "already paused by") || !strings.Contains(errOut, reason) {
		t.Fatalf("pause twice: exit %d\n%s\n%s", code, out, errOut)
	}
	js := filepath.Join(t.TempDir(), "up.json")
	code, out, errOut := run("up", "--stack", "shop", "--skip-verify", "--json", js)
	if r := validateReport(t, js).Stacks[0]; code != automation.ExitBlocked || r.Step != "pause" || !strings.Contains(r.Error, reason) || !strings.Contains(r.Error, "paused by") {
		t.Fatalf("CI up on a paused stack: exit %d %+v\n%s\n%s", code, r, out, errOut)
	}
	if code, out, errOut := run("drift", "--stack", "shop"); code != 0 || !strings.Contains(out, "is paused by") {
		t.Fatalf("drift on a paused stack: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run("refresh", "--stack", "shop", "--backup-dir", t.TempDir()); code != 0 {
		t.Fatalf("the operator's refresh: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run("up", "--stack", "shop", "--skip-verify", "--while-paused"); code != 0 || !strings.Contains(out, "runs on --while-paused") {
		t.Fatalf("the operator's up --while-paused: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run("resume", "--stack", "shop"); code != 0 || !strings.Contains(out, "the pause ended") {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run("up", "--stack", "shop", "--skip-verify"); code != 0 {
		t.Fatalf("CI up after resume: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := run("resume", "--stack", "shop"); code != 0 || !strings.Contains(out, "not paused") {
		t.Fatalf("resume of a stack not paused: exit %d\n%s", code, out)
	}
	if seePause != nil && seePause() {
		t.Fatal("the pause is still in the backend's table")
	}
}

// corruptPause: a pause record nobody can read makes CI's up fail closed;
// the audit still runs and says so; resume removes it.
func corruptPause(t *testing.T, run func(args ...string) (int, string, string), backend string) {
	t.Helper()
	st, err := statestore.Open(context.Background(), backend)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Write(context.Background(), ".deployer/pauses/postgis-platform/shop.json", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run("drift", "--stack", "shop"); code != 0 || !strings.Contains(out, "corrupt") {
		t.Fatalf("drift with a corrupt pause record: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run("up", "--stack", "shop", "--skip-verify"); code != 1 || !strings.Contains(errOut, "corrupt") {
		t.Fatalf("up with a corrupt pause record: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run("resume", "--stack", "shop"); code != 0 || !strings.Contains(out, "removed a corrupt pause record") {
		t.Fatalf("resume of a corrupt record: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run("up", "--stack", "shop", "--skip-verify"); code != 0 {
		t.Fatalf("up after resume: exit %d\n%s\n%s", code, out, errOut)
	}
}
