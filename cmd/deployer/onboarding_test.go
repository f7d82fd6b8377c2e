package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// onboarded is one tenant a caller made.
type onboarded struct{ role, db, password string }

// Onboarding holds under load while every credential rotates: 8 callers each
// onboard 25 tenants (create_role with a verifier, create_database, then a
// TLS login as the tenant into its database) while Secrets Manager rotates
// the master password twice and `deployer rotate` (the binary) gives the
// functions' owner a new login. No call fails; every database is closed to
// PUBLIC; each tenant enters its own database and no other; a plain up and a
// plain drift after it all exit 0.
func TestOnboardingUnderLoadDuringRotations(t *testing.T) {
	d := deployLocal(t)
	const callers, each = 8, 25
	ctx := context.Background()
	conns := make([]*pgx.Conn, callers)
	for i := range conns {
		conns[i] = pgtest.Connect(t, d.PG.Config(d.Names["utilityDatabase"], d.Names["utilityRole"], d.Secrets["utilityRolePassword"]))
	}
	tag := pgtest.Name("")[:6]
	var done atomic.Int32
	var stop atomic.Bool // the callers go on (slower) past their 25 until the rotations are done
	var mu sync.Mutex
	var failures []string
	var made []onboarded
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	t.Cleanup(func() { dropTenants(d, made) })
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each || !stop.Load(); i++ {
				if i >= each {
					time.Sleep(300 * time.Millisecond)
				}
				ten := onboarded{role: fmt.Sprintf("ld%s_%d_%d_o", tag, c, i), db: fmt.Sprintf("ld%s_%d_%d", tag, c, i), password: pgtest.Name("pw")}
				if err := onboard(ctx, d, conns[c], ten); err != nil {
					fail("caller %d tenant %d: %v", c, i, err)
				} else {
					mu.Lock()
					made = append(made, ten)
					mu.Unlock()
				}
				done.Add(1)
			}
		}()
	}
	// The rotations, each while calls are in flight.
	total := int32(callers * each)
	t.Cleanup(func() { stop.Store(true); wg.Wait() })
	steps := []struct {
		at   int32
		name string
		run  func() error
	}{
		{total / 10, "master password rotation 1", func() error { d.RotateMasterSecret(t); return nil }},
		{total / 5, "deployer rotate", func() error {
			if code, out, errOut := d.runBinary(t, "rotate", "--stack", d.Name, "--quiet"); code != 0 {
				return fmt.Errorf("exit %d\n%s%s", code, out, errOut)
			}
			return nil
		}},
		{total / 2, "master password rotation 2", func() error { d.RotateMasterSecret(t); return nil }},
	}
	for _, s := range steps {
		for done.Load() < s.at {
			time.Sleep(20 * time.Millisecond)
		}
		before := done.Load()
		if err := s.run(); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
		if done.Load() == before && s.name == "deployer rotate" {
			t.Errorf("no call finished during %s: it was not tested under load", s.name)
		}
	}
	// Calls made after the last rotation, with every credential new.
	for last := done.Load(); done.Load() < last+int32(callers); {
		time.Sleep(20 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d tenants onboarded by %d callers during the rotations", len(made), callers)
	if len(failures) > 0 || len(made) < int(total) {
		t.Fatalf("%d of %d onboardings failed:\n%s", len(failures), done.Load(), strings.Join(failures, "\n"))
	}
	checkTenantsLockedDown(t, d, made)
	for _, cmd := range []string{"up", "drift"} {
		if code, out, errOut := d.runBinary(t, cmd, "--stack", d.Name, "--quiet"); code != 0 {
			t.Fatalf("plain %s after the rotations: exit %d\n%s%s", cmd, code, out, errOut)
		}
	}
}

// onboard makes one tenant as a caller does, then logs in as it over TLS.
func onboard(ctx context.Context, d *deployed, conn *pgx.Conn, ten onboarded) error {
	verifier, err := sqlfuncs.SCRAMVerifier(ten.password)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT utility.create_role($1, $2)", ten.role, verifier); err != nil {
		return fmt.Errorf("create_role: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT utility.create_database($1, $2)", ten.db, ten.role); err != nil {
		return fmt.Errorf("create_database: %w", err)
	}
	tc, err := dbconn.Connect(ctx, d.PG.Config(ten.db, ten.role, ten.password))
	if err != nil {
		return fmt.Errorf("log in as the tenant: %w", err)
	}
	defer tc.Close(ctx)
	var ssl bool
	if err := tc.QueryRow(ctx, "SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
		return fmt.Errorf("the tenant's session is not TLS (%v)", err)
	}
	return nil
}

// checkTenantsLockedDown: no database open to PUBLIC, and each tenant enters
// no other tenant's database.
func checkTenantsLockedDown(t *testing.T, d *deployed, made []onboarded) {
	t.Helper()
	ctx := context.Background()
	dbs := make([]string, len(made))
	for i, m := range made {
		dbs[i] = m.db
	}
	var open []string
	rows, err := d.PG.Super(t, "postgres").Query(ctx, `SELECT d.datname || ' ' || a.privilege_type FROM pg_catalog.pg_database d,
		pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) a
		WHERE d.datname = ANY($1) AND a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY')`, dbs)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		open = append(open, s)
	}
	if rows.Err() != nil || len(open) > 0 {
		t.Fatalf("tenant databases open to PUBLIC: %v %v", open, rows.Err())
	}
	for i, m := range made {
		other := made[(i+1)%len(made)].db
		c, err := dbconn.Connect(ctx, d.PG.Config(other, m.role, m.password))
		if err == nil {
			c.Close(ctx)
			t.Fatalf("tenant %s entered %s", m.role, other)
		}
		if !strings.Contains(err.Error(), "42501") && !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("tenant %s into %s: want permission denied, got %v", m.role, other, err)
		}
	}
}

// dropTenants removes the test's tenant databases and roles.
func dropTenants(d *deployed, made []onboarded) {
	ctx := context.Background()
	c, err := dbconn.Connect(ctx, d.PG.SuperConfig("postgres"))
	if err != nil {
		return
	}
	defer c.Close(ctx)
	for _, m := range made {
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{m.db}.Sanitize()+" WITH (FORCE)")
		_, _ = c.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{m.role}.Sanitize())
	}
}
