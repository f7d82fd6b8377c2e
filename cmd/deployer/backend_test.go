package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/stacks"
)

// A shared PostgreSQL state backend, as many CI runners would use: the state
// lives in a table over TLS, the password comes from PGPASSWORD, never the URL.
func TestPostgresStateBackend(t *testing.T) {
	l := enginetest.NewLocal(t)
	srv := l.PG
	db := pgtest.Name("state")
	super := srv.Super(t, "postgres")
	pgtest.Exec(t, super, "CREATE DATABASE "+db)
	// A state database is no more open to PUBLIC than any other (drift would
	// find it).
	pgtest.Exec(t, super, "REVOKE CONNECT, TEMPORARY ON DATABASE "+db+" FROM PUBLIC")
	t.Cleanup(func() {
		_, _ = srv.Super(t, "postgres").Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	})
	backend := fmt.Sprintf("postgres://%s@localhost:%d/%s?sslmode=verify-full&sslrootcert=%s", srv.SuperUser, srv.Port, db, url.QueryEscape(srv.CAFile))
	l.Settings.BackendURL = backend
	l.Settings.Env["PGPASSWORD"] = srv.SuperPassword()
	st := l.Stack(t, l.Name, stacks.Platform)
	l.Configure(t, st)
	if _, err := st.Up(context.Background()); err != nil {
		t.Fatalf("up on the PostgreSQL backend: %v", err)
	}
	l.ExportEnv(t)
	code, out, errOut := runDeployer(t, "drift", "--stack", l.Name, "--project-dir", l.Settings.ProjectDir, "--backend", backend, "--quiet")
	if code != 0 {
		t.Fatalf("drift on the PostgreSQL backend: exit %d\n%s\n%s", code, out, errOut)
	}
	// A stale lock, as the CLI writes it into its table (upstream:
	// pkg/backend/diy/postgres/bucket.go postgresWriter.Close).
	d := &deployed{Local: l}
	d.Settings.BackendURL = backend
	d.staleLockIsFoundAndRemoved(t, func(key string, body []byte) {
		data, _ := json.Marshal(map[string]string{"data": base64.StdEncoding.EncodeToString(body)})
		pgtest.Exec(t, srv.Super(t, db), `INSERT INTO pulumi_state (key, data) VALUES ($1, $2)`, db+"/"+key, string(data))
	}) // PGPASSWORD is the backend's: the checks never read it

	// Not a file backend: drift runs the stack's program, which reports its
	// group's live rules, so a rule made by hand is still found.
	(&deployed{Local: l}).addUnmanagedRule(t, "sgr-byhand")
	js := filepath.Join(t.TempDir(), "drift.json")
	code, out, errOut = runDeployer(t, "drift", "--stack", l.Name, "--project-dir", l.Settings.ProjectDir, "--backend", backend, "--quiet", "--json", js)
	if r := validateReport(t, js).Stacks[0]; code != 2 || len(r.Unmanaged) != 1 || r.Unmanaged[0].RuleID != "sgr-byhand" {
		t.Fatalf("drift with a rule made by hand on the PostgreSQL backend: exit %d %+v\n%s\n%s", code, r, out, errOut)
	}

	var n int
	conn := srv.Super(t, db)
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pulumi_state WHERE key LIKE '%/.pulumi/stacks/%'`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("no stack in the pulumi_state table: %d %v", n, err)
	}
	if strings.Contains(out+errOut, srv.SuperPassword()) {
		t.Fatal("the backend password was printed")
	}
}
