package sqlfuncs_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// The functions' owner of a stack is a NOLOGIN role that reaches the
// loopback server with a login of its own: the writer hands it the
// functions, gives it a login whose password only the mapping holds, and a
// rotation moves the mapping to the other login. The admin's password plays
// no part: after it changes, tenants are still made.
func TestLoopbackLoginOfADedicatedOwner(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	o := u.DedicatedOwner(t)
	srv.MakeLoud(t, u.Admin)
	cfg := u.Config(u.DB, u.Admin, u.AdminPass)
	admin := u.AdminConn(t, u.DB)

	if l, err := sqlfuncs.ReadLoopbackLogin(ctx, admin, o, u.Admin); err != nil || l.State != sqlfuncs.MappingNotOwner {
		t.Fatalf("before the owner is prepared: want %s, got %+v %v", sqlfuncs.MappingNotOwner, l, err)
	}
	login, rotated, err := sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, sqlfuncs.Rotation{})
	if err != nil || !rotated || login != o.LoopbackLogins()[0] {
		t.Fatalf("first write: login %q rotated %v: %v", login, rotated, err)
	}
	if login, rotated, err := sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, sqlfuncs.Rotation{MaxAge: time.Hour}); err != nil || rotated || login != o.LoopbackLogins()[0] {
		t.Fatalf("a current login is kept: login %q rotated %v: %v", login, rotated, err)
	}
	var owners []string
	rows, err := admin.Query(ctx, `SELECT DISTINCT pg_catalog.pg_get_userbyid(proowner)::text FROM pg_catalog.pg_proc WHERE pronamespace = $1::text::pg_catalog.regnamespace`, o.Schema)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		owners = append(owners, s)
	}
	if rows.Err() != nil || strings.Join(owners, ",") != o.Owner {
		t.Fatalf("the functions' owners: %v (%v), want %s alone", owners, rows.Err(), o.Owner)
	}
	if findings, err := sqlfuncs.Check(ctx, admin, o, o.Owner); err != nil || len(sqlfuncs.Failed(findings)) > 0 {
		t.Fatalf("the installed functions under their owner: %+v %v", sqlfuncs.Failed(findings), err)
	}
	var adminMapping bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_user_mappings WHERE usename = $1)`, u.Admin).Scan(&adminMapping); err != nil {
		t.Fatal(err)
	}
	if adminMapping {
		t.Fatal("the admin's own mapping (the master password) is still there")
	}

	// The owner's and logins' names are no tenant names.
	for _, name := range []string{o.Owner, o.LoopbackLogins()[0], o.LoopbackLogins()[1]} {
		if _, err := u.CallerConn(t).Exec(ctx, "SELECT utility.create_role($1)", name); err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("create_role(%s): want refused as reserved, got %v", name, err)
		}
	}

	// The admin's password changes (an RDS rotation): onboarding goes on.
	pgtest.Exec(t, srv.Super(t, "postgres"), "ALTER ROLE "+u.Admin+" PASSWORD "+pgtest.QuoteLiteral("rotated-"+pgtest.Name("pw")))
	caller := u.CallerConn(t)
	tenant, db := pgtest.Name("lb_owner"), pgtest.Name("lb_db")
	u.DropDatabaseAtCleanup(t, db)
	mustCall(t, caller, "create_role", tenant)
	if !mustCall(t, caller, "create_database", db, tenant) {
		t.Fatal("create_database after the admin's password changed reported no change")
	}

	// The owner's login is rotated on request: the other login, and still
	// no password of its in the server log.
	super := pgtest.Connect(t, u.SuperConfig(u.DB))
	pgtest.Exec(t, super, "ALTER ROLE "+u.Admin+" PASSWORD "+pgtest.QuoteLiteral(u.AdminPass))
	login, rotated, err = sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, sqlfuncs.Rotation{Force: true})
	if err != nil || !rotated || login != o.LoopbackLogins()[1] {
		t.Fatalf("forced rotation: login %q rotated %v: %v", login, rotated, err)
	}
	var opts string
	if err := super.QueryRow(ctx, `SELECT pg_catalog.array_to_string(umoptions, ',') FROM pg_catalog.pg_user_mappings WHERE usename = $1`, o.Owner).Scan(&opts); err != nil {
		t.Fatal(err)
	}
	password := ""
	for _, kv := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(kv, "password="); ok {
			password = v
		}
	}
	marker := "deployer-marker-" + pgtest.Name("m")
	pgtest.Exec(t, admin, "SELECT '"+marker+"'")
	log := srv.ServerLog(t, marker)
	if len(password) != 32 || pgtest.SecretIn(log, password) {
		t.Fatalf("the login's password (%d characters) is in the server log, or was not found", len(password))
	}
	if l, err := sqlfuncs.ReadLoopbackLogin(ctx, admin, o, u.Admin); err != nil || l.State != sqlfuncs.MappingCurrent || l.Login != o.LoopbackLogins()[1] || time.Since(l.Since) > time.Minute {
		t.Fatalf("after the rotation: %+v %v", l, err)
	}
	// A leaked login's password gives neither the owner's mapping nor a way
	// to keep up with rotations: the login is no member of the owner and
	// holds no CREATEROLE, and the login a rotation leaves expires.
	leaked := pgtest.Connect(t, u.Config(u.DB, o.LoopbackLogins()[1], password))
	for _, attack := range []string{
		"SET ROLE " + o.Owner,
		"GRANT " + o.Owner + " TO CURRENT_USER",
		"GRANT pg_execute_server_program TO CURRENT_USER",
		"CREATE ROLE " + pgtest.Name("backdoor") + " LOGIN",
		"CREATE SCHEMA " + pgtest.Name("planted"),
		"CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
		// A tenant's own powers (it may change its own password): the
		// logins are members of no tenant.
		"SET ROLE " + tenant,
		"ALTER ROLE " + tenant + " PASSWORD 'stolen-by-a-leaked-login'",
		"ALTER DATABASE " + db + " OWNER TO CURRENT_USER",
	} {
		if _, err := leaked.Exec(ctx, attack); err == nil {
			t.Errorf("as a leaked login: %q succeeded", attack)
		}
	}
	var seen *string
	if err := leaked.QueryRow(ctx, `SELECT pg_catalog.array_to_string(umoptions, ',') FROM pg_catalog.pg_user_mappings WHERE usename = $1`, o.Owner).Scan(&seen); err == nil && seen != nil {
		t.Error("a login reads the owner's mapping")
	}
	var expires *time.Time
	if err := super.QueryRow(ctx, `SELECT rolvaliduntil FROM pg_catalog.pg_roles WHERE rolname = $1`, o.LoopbackLogins()[0]).Scan(&expires); err != nil ||
		expires == nil || time.Until(*expires) > sqlfuncs.LoginGrace || time.Until(*expires) < 0 {
		t.Fatalf("the login left behind: valid until %v (%v), want within %s", expires, err, sqlfuncs.LoginGrace)
	}
	// A mapping broken by hand is found, and the next write repairs it.
	pgtest.Exec(t, super, "ALTER ROLE "+o.LoopbackLogins()[1]+" PASSWORD 'changed-by-hand'")
	if l, err := sqlfuncs.ReadLoopbackLogin(ctx, admin, o, u.Admin); err != nil || l.State != sqlfuncs.MappingDiffers || !strings.Contains(l.Detail, "password authentication failed") {
		t.Fatalf("a login changed by hand: %+v %v", l, err)
	}
	if login, rotated, err := sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, sqlfuncs.Rotation{}); err != nil || !rotated || login != o.LoopbackLogins()[0] {
		t.Fatalf("repair: login %q rotated %v: %v", login, rotated, err)
	}
}

// No call fails while the owner's login rotates: callers that read the
// mapping just before a rotation log in with the login they read.
func TestLoopbackRotationUnderLoad(t *testing.T) {
	u, o, cfg := dedicatedUtility(t, true)
	ctx := context.Background()
	const callers, each = 4, 6
	var failed atomic.Int32
	var wg sync.WaitGroup
	done := make(chan struct{})
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			conn := u.CallerConn(t)
			for i := 0; i < each; i++ {
				tenant, db := pgtest.Name(fmt.Sprintf("ld%d_%d_o", c, i)), pgtest.Name(fmt.Sprintf("ld%d_%d", c, i))
				u.DropDatabaseAtCleanup(t, db)
				if _, err := conn.Exec(ctx, "SELECT utility.create_role($1)", tenant); err != nil {
					failed.Add(1)
					t.Errorf("create_role: %v", err)
					continue
				}
				if _, err := conn.Exec(ctx, "SELECT utility.create_database($1, $2)", db, tenant); err != nil {
					failed.Add(1)
					t.Errorf("create_database: %v", err)
				}
			}
		}(c)
	}
	go func() { wg.Wait(); close(done) }()
	rotations := 0
	for {
		select {
		case <-done:
			if rotations < 2 || failed.Load() > 0 {
				t.Fatalf("%d rotations, %d failed calls", rotations, failed.Load())
			}
			return
		case <-time.After(150 * time.Millisecond):
			if _, _, err := sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, sqlfuncs.Rotation{Force: true}); err != nil {
				t.Fatalf("rotation %d: %v", rotations+1, err)
			}
			rotations++
		}
	}
}

// OwnerGaps names what the next write would put back, and nothing once it
// has run.
func TestOwnerGaps(t *testing.T) {
	u, o, cfg := dedicatedUtility(t, false)
	ctx := context.Background()
	admin := u.AdminConn(t, u.DB)
	if gaps, err := sqlfuncs.OwnerGaps(ctx, admin, o, u.Admin); err != nil || len(gaps) == 0 || !strings.Contains(gaps[0], `CREATE ROLE "`+o.LoopbackLogins()[0]+`"`) {
		t.Fatalf("before the first write: %q %v, want the missing login first", gaps, err)
	}
	if _, _, err := sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, sqlfuncs.Rotation{}); err != nil {
		t.Fatal(err)
	}
	if gaps, err := sqlfuncs.OwnerGaps(ctx, admin, o, u.Admin); err != nil || len(gaps) != 0 {
		t.Fatalf("after the write: %q %v, want none", gaps, err)
	}
	tenant, other := pgtest.Name("gap_tenant"), pgtest.Name("gap_other")
	mustCall(t, u.CallerConn(t), "create_role", tenant)
	mustCall(t, u.CallerConn(t), "create_role", other)
	logins := o.LoopbackLogins()
	super := pgtest.Connect(t, u.SuperConfig(u.DB))
	for _, edit := range []string{
		"GRANT " + other + " TO " + logins[1],
		"REVOKE " + tenant + " FROM " + o.Owner,
		"REVOKE USAGE ON FOREIGN SERVER " + o.Server + " FROM " + o.Owner,
		"ALTER ROLE " + logins[0] + " CREATEROLE",
		// (GRANT owner TO a login is refused by PostgreSQL: the owner is a
		// member of each login, and memberships cannot be circular.)
	} {
		pgtest.Exec(t, super, edit)
	}
	gaps, err := sqlfuncs.OwnerGaps(ctx, admin, o, u.Admin)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(gaps, "\n")
	for _, want := range []string{"GRANT each tenant role TO " + o.Owner, "GRANT USAGE ON FOREIGN SERVER", `ALTER ROLE "` + logins[0] + `"`, "REVOKE every role FROM " + logins[1]} {
		if !strings.Contains(all, want) {
			t.Errorf("gaps after hand edits: want %q in\n%s", want, all)
		}
	}
	if _, _, err := sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, sqlfuncs.Rotation{}); err != nil {
		t.Fatal(err)
	}
	if gaps, err := sqlfuncs.OwnerGaps(ctx, admin, o, u.Admin); err != nil || len(gaps) != 0 {
		t.Fatalf("after the repair: %q %v, want none", gaps, err)
	}
}

// dedicatedUtility is a utility database readied for a dedicated owner, and
// the admin's connection settings for it; with write, the owner's first login
// is written (the functions handed over, the mapping made).
func dedicatedUtility(t *testing.T, write bool) (*pgtest.Utility, sqlfuncs.Options, dbconn.Config) {
	t.Helper()
	u := pgtest.NewUtility(t, pgtest.New(t))
	o := u.DedicatedOwner(t)
	cfg := u.Config(u.DB, u.Admin, u.AdminPass)
	if write {
		if _, _, err := sqlfuncs.RotateLoopbackLogin(context.Background(), cfg, o, sqlfuncs.Rotation{}); err != nil {
			t.Fatal(err)
		}
	}
	return u, o, cfg
}

// The owner's comment records the login's age; the admin editing it to a
// date to come, or away, does not put the rotation off: the next write by
// age gives a new login and records the age again.
func TestLoginAgeEditedByHandIsDue(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	o := u.DedicatedOwner(t)
	cfg := u.Config(u.DB, u.Admin, u.AdminPass)
	admin := u.AdminConn(t, u.DB)
	login, _, err := sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, sqlfuncs.Rotation{})
	if err != nil {
		t.Fatal(err)
	}
	byAge := sqlfuncs.Rotation{MaxAge: 30 * 24 * time.Hour}
	for _, c := range []struct{ comment, want string }{
		{"'deployer: loopback login " + login + " since 2999-01-01T00:00:00Z'", "is in the future"},
		{"NULL", "not recorded"},
	} {
		pgtest.Exec(t, admin, "COMMENT ON ROLE "+o.Owner+" IS "+c.comment)
		l, err := sqlfuncs.ReadLoopbackLogin(ctx, admin, o, u.Admin)
		if err != nil {
			t.Fatal(err)
		}
		if due := byAge.Due(l, time.Now()); !strings.Contains(due, c.want) {
			t.Fatalf("comment %s: Due = %q, want %q", c.comment, due, c.want)
		}
		next, rotated, err := sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, byAge)
		if err != nil || !rotated || next == login {
			t.Fatalf("comment %s: the write by age: login %q rotated %v: %v", c.comment, next, rotated, err)
		}
		login = next
		if l, err = sqlfuncs.ReadLoopbackLogin(ctx, admin, o, u.Admin); err != nil || byAge.Due(l, time.Now()) != "" {
			t.Fatalf("comment %s: after the write, still due: %+v %v", c.comment, l, err)
		}
	}
}
