package sqlfuncs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// create_database keeps its loopback session open in the caller's session
// for the next call: reused while it answers as one of the owner's logins,
// out of the caller's reach, replaced when it was killed, closed by a failed
// call, kept across a rotation, and gone after 10 s idle.
func TestLoopbackSessionReuse(t *testing.T) {
	u, o, cfg := dedicatedUtility(t, true)
	ctx := context.Background()
	super := u.Super(t, "postgres")
	logins := o.LoopbackLogins()
	// sessions lists the backends of the owner's logins in the utility database.
	sessions := func() []int {
		t.Helper()
		rows, err := super.Query(ctx, `SELECT pid FROM pg_catalog.pg_stat_activity WHERE usename = ANY($1) AND datname = $2 ORDER BY pid`, logins[:], u.DB)
		if err != nil {
			t.Fatal(err)
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			t.Fatal(err)
		}
		return pids
	}
	n := 0
	onboard := func(c *pgx.Conn) error {
		n++
		tenant, db := pgtest.Name(fmt.Sprintf("reuse%d_o", n)), pgtest.Name(fmt.Sprintf("reuse%d", n))
		u.DropDatabaseAtCleanup(t, db)
		if _, err := call(c, "create_role", tenant); err != nil {
			return err
		}
		if _, err := call(c, "create_database", db, tenant); err != nil {
			return err
		}
		var public bool
		if err := super.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) a WHERE d.datname = $1 AND a.grantee = 0) OR (SELECT datacl IS NULL FROM pg_catalog.pg_database WHERE datname = $1)`, db).Scan(&public); err != nil || public {
			return fmt.Errorf("%s is open to PUBLIC (%v)", db, err)
		}
		return nil
	}
	caller := u.CallerConn(t)
	if err := onboard(caller); err != nil {
		t.Fatal(err)
	}
	first := sessions()
	if len(first) != 1 {
		t.Fatalf("after one call: %d loopback sessions, want 1 left open for the next call", len(first))
	}
	if err := onboard(caller); err != nil {
		t.Fatal(err)
	}
	if again := sessions(); len(again) != 1 || again[0] != first[0] {
		t.Fatalf("the second call opened another session: %v after %v", again, first)
	}

	// The session is the functions', not the caller's.
	tok := pgtest.Name("reuse_backdoor")
	for _, attack := range []string{
		"SELECT utility_dblink.dblink_exec('CREATE ROLE " + tok + " LOGIN')",
		"SELECT utility_dblink.dblink_exec('SET ROLE " + o.Owner + "')",
		"SELECT * FROM utility_dblink.dblink('SELECT current_user') AS t(u text)",
		"SELECT utility_dblink.dblink_disconnect()",
		"SELECT utility_dblink.dblink_get_connections()",
	} {
		if _, err := caller.Exec(ctx, attack); err == nil {
			t.Errorf("the caller used the open loopback session: %q succeeded", attack)
		}
	}
	var exists bool
	if err := super.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1)`, tok).Scan(&exists); err != nil || exists {
		t.Fatalf("role %s exists: %v %v", tok, exists, err)
	}

	// Killed between calls (an admin, a failover): the next call opens a new one.
	pgtest.Exec(t, super, fmt.Sprintf("SELECT pg_terminate_backend(%d)", first[0]))
	if err := onboard(caller); err != nil {
		t.Fatalf("after the loopback session was terminated: %v", err)
	}
	if now := sessions(); len(now) != 1 || now[0] == first[0] {
		t.Fatalf("after the kill: sessions %v, want one new", now)
	}

	// A call refused before it needs the session keeps it; one that fails
	// while using it closes it; the next call works either way.
	kept := sessions()
	other := pgtest.Name("reuse_other")
	mustCall(t, caller, "create_role", other)
	if _, err := call(caller, "create_database", u.DB, other); err == nil {
		t.Fatal("create_database of the utility database for another owner succeeded")
	}
	if now := sessions(); len(now) != 1 || now[0] != kept[0] {
		t.Fatalf("a call refused up front: sessions %v, want %v kept", now, kept)
	}
	rogue := pgtest.Name("reuse_rogue")
	pgtest.Exec(t, super, "CREATE ROLE "+rogue+" LOGIN IN ROLE "+o.TenantGroup)
	if _, err := call(caller, "create_database", pgtest.Name("reuse_rogue_db"), rogue); err == nil {
		t.Fatal("create_database for a tenant not granted to the owner succeeded")
	}
	if now := sessions(); len(now) != 1 || now[0] != kept[0] {
		t.Fatalf("a call refused up front (a tenant not granted to the owner): sessions %v, want %v kept", now, kept)
	}
	// The login may no longer create databases: CREATE DATABASE fails in
	// the session, which closes.
	pgtest.Exec(t, super, "ALTER ROLE "+logins[0]+" NOCREATEDB; ALTER ROLE "+logins[1]+" NOCREATEDB")
	if _, err := call(caller, "create_database", pgtest.Name("reuse_nocreatedb"), other); err == nil {
		t.Fatal("create_database succeeded while the logins lacked CREATEDB")
	}
	pgtest.Exec(t, super, "ALTER ROLE "+logins[0]+" CREATEDB; ALTER ROLE "+logins[1]+" CREATEDB")
	// The backend exits a moment after dblink closes the connection.
	for wait := time.Now().Add(5 * time.Second); len(sessions()) != 0 && time.Now().Before(wait); {
		time.Sleep(50 * time.Millisecond)
	}
	if now := sessions(); len(now) != 0 {
		t.Fatalf("a call that failed in the loopback session left sessions %v", now)
	}
	if err := onboard(caller); err != nil {
		t.Fatalf("after a failed call: %v", err)
	}

	// A rotation: the open session (the old login) goes on; a new caller
	// logs in with the new login.
	before := sessions()
	if _, _, err := sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, sqlfuncs.Rotation{Force: true}); err != nil {
		t.Fatal(err)
	}
	if err := onboard(caller); err != nil {
		t.Fatalf("the open session after a rotation: %v", err)
	}
	if now := sessions(); len(now) != 1 || now[0] != before[0] {
		t.Fatalf("after the rotation: sessions %v, want %v kept", now, before)
	}
	fresh := u.CallerConn(t)
	if err := onboard(fresh); err != nil {
		t.Fatalf("a new caller after the rotation: %v", err)
	}
	var users []string
	rows, err := super.Query(ctx, `SELECT usename::text FROM pg_catalog.pg_stat_activity WHERE usename = ANY($1) AND datname = $2 ORDER BY usename`, logins[:], u.DB)
	if err == nil {
		users, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || len(users) != 2 || users[0] != logins[0] || users[1] != logins[1] {
		t.Fatalf("sessions by login after the rotation: %v (%v), want one of each", users, err)
	}

	// Idle for longer than its timeout, the session ends by itself; the
	// caller's next call opens a new one without an error.
	time.Sleep(11 * time.Second)
	if now := sessions(); len(now) != 0 {
		t.Fatalf("after 11 s idle: loopback sessions %v still open", now)
	}
	if err := onboard(caller); err != nil {
		t.Fatalf("after the idle timeout: %v", err)
	}
}

// A pool of callers larger than the logins' connection limit, each making a
// tenant and then idling: every call succeeds, and the sessions kept for
// next calls stay a handful, leaving the slots to the calls to come.
func TestLoopbackSessionsLeaveSlotsForCalls(t *testing.T) {
	u, o, _ := dedicatedUtility(t, true)
	ctx := context.Background()
	super := u.Super(t, "postgres")
	logins := o.LoopbackLogins()
	const pool, atOnce = 44, 8 // more caller sessions than a login's 40 slots
	callers := make([]*pgx.Conn, pool)
	for i := range callers {
		callers[i] = u.CallerConn(t)
	}
	for start := 0; start < pool; start += atOnce {
		errs := make(chan error, atOnce)
		for i := start; i < start+atOnce && i < pool; i++ {
			tenant, db := pgtest.Name(fmt.Sprintf("slot%d_o", i)), pgtest.Name(fmt.Sprintf("slot%d", i))
			u.DropDatabaseAtCleanup(t, db)
			go func() {
				if _, err := call(callers[i], "create_role", tenant); err != nil {
					errs <- err
					return
				}
				_, err := call(callers[i], "create_database", db, tenant)
				errs <- err
			}()
		}
		for i := start; i < start+atOnce && i < pool; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("caller session %d of %d: %v", i+1, pool, err)
			}
		}
	}
	var kept int
	if err := super.QueryRow(ctx, `SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity WHERE usename = ANY($1)`, logins[:]).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	// 8, and a few more when calls finish at the same moment.
	if kept > 12 {
		t.Fatalf("%d loopback sessions kept after %d callers went idle, want about 8 at most", kept, pool)
	}
}

// With the dedicated owner a new database is the login's own until the
// caller's transaction hands it to the tenant: a rollback leaves it closed
// and the next call takes it over; create_role and create_database may now
// share one transaction (the session never names the tenant).
func TestDedicatedHandOver(t *testing.T) {
	u, o, _ := dedicatedUtility(t, true)
	ctx := context.Background()
	super := u.Super(t, "postgres")
	logins := o.LoopbackLogins()
	state := func(db string) (owner string, open bool, public bool) {
		t.Helper()
		if err := super.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(datdba)::text, datallowconn,
				datacl IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(datacl) a WHERE a.grantee = 0)
				FROM pg_catalog.pg_database WHERE datname = $1`, db).Scan(&owner, &open, &public); err != nil {
			t.Fatalf("database %s: %v", db, err)
		}
		return owner, open, public
	}
	caller := u.CallerConn(t)
	tenant, db := pgtest.Name("hand_o"), pgtest.Name("hand")
	u.DropDatabaseAtCleanup(t, db)
	tx, err := caller.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT utility.create_role($1)", "SELECT utility.create_database($2, $1)"} {
		args := []any{tenant}
		if q != "SELECT utility.create_role($1)" {
			args = append(args, db)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s in one transaction: %v", q, err)
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if owner, open, public := state(db); (owner != logins[0] && owner != logins[1]) || open || public {
		t.Fatalf("after the rollback: owner %s, takes connections %v, PUBLIC %v; want a login's, closed, no PUBLIC", owner, open, public)
	}
	mustCall(t, caller, "create_role", tenant)
	if !mustCall(t, caller, "create_database", db, tenant) {
		t.Fatal("the re-run reported no change")
	}
	if owner, open, public := state(db); owner != tenant || !open || public {
		t.Fatalf("after the re-run: owner %s, takes connections %v, PUBLIC %v; want %s's, open, no PUBLIC", owner, open, public, tenant)
	}
	if mustCall(t, caller, "create_database", db, tenant) {
		t.Fatal("a third call changed something")
	}
	// A database a login owns is taken over by the next call for any tenant,
	// never one of another role.
	other := pgtest.Name("hand_other")
	pgtest.Exec(t, u.AdminConn(t, "postgres"), "CREATE DATABASE "+other)
	u.DropDatabaseAtCleanup(t, other)
	if _, err := call(caller, "create_database", other, tenant); err == nil || !strings.Contains(err.Error(), "exists and belongs to") {
		t.Fatalf("create_database over the admin's database: %v", err)
	}
}

// A database a leaked login made under a future tenant's name (a template,
// open to another tenant, a schema planted in it) is dropped and made anew
// by create_database, never handed over as it is.
func TestSquattedDatabaseIsMadeAnew(t *testing.T) {
	u, o, _ := dedicatedUtility(t, true)
	ctx := context.Background()
	super := u.Super(t, u.DB)
	user, password := leakedLogin(t, u, o)
	caller := u.CallerConn(t)
	victim, evil, db := pgtest.Name("victim_o"), pgtest.Name("evil_o"), pgtest.Name("victim")
	u.DropDatabaseAtCleanup(t, db)
	mustCall(t, caller, "create_role", evil)
	leaked := pgtest.Connect(t, u.Config(u.DB, user, password))
	pgtest.Exec(t, leaked, "CREATE DATABASE "+db+" TEMPLATE "+o.TemplateDB)
	pgtest.Exec(t, leaked, "GRANT CONNECT, TEMPORARY ON DATABASE "+db+" TO "+evil)
	inside := pgtest.Connect(t, u.Config(db, user, password))
	pgtest.Exec(t, inside, "CREATE SCHEMA planted")
	pgtest.Exec(t, leaked, "ALTER DATABASE "+db+" IS_TEMPLATE true")
	_ = inside.Close(ctx)

	mustCall(t, caller, "create_role", victim)
	if !mustCall(t, caller, "create_database", db, victim) {
		t.Fatal("create_database over the squatted name reported no change")
	}
	var owner string
	var template, evilIn bool
	if err := super.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(datdba)::text, datistemplate,
			pg_catalog.has_database_privilege($2, oid, 'CONNECT') FROM pg_catalog.pg_database WHERE datname = $1`, db, evil).Scan(&owner, &template, &evilIn); err != nil {
		t.Fatal(err)
	}
	if owner != victim || template || evilIn {
		t.Fatalf("the database handed over: owner %s (want %s), template %v, another tenant may connect %v", owner, victim, template, evilIn)
	}
	var planted bool
	if err := pgtest.Connect(t, u.SuperConfig(db)).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'planted')`).Scan(&planted); err != nil || planted {
		t.Fatalf("the squatter's schema is in the tenant's database: %v %v", planted, err)
	}
}

// A database the other login owns (its hand-over did not commit before a
// rotation) cannot be dropped by the session's login: the call fails, names
// the database and the fix, and changes nothing.
func TestLoginOwnedDatabaseThatCannotBeDropped(t *testing.T) {
	u, o, cfg := dedicatedUtility(t, true)
	ctx := context.Background()
	login, _, err := sqlfuncs.RotateLoopbackLogin(ctx, cfg, o, sqlfuncs.Rotation{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	other := o.LoopbackLogins()[0]
	if login == other {
		other = o.LoopbackLogins()[1]
	}
	db, tenant := pgtest.Name("stranded"), pgtest.Name("stranded_o")
	u.DropDatabaseAtCleanup(t, db)
	super := u.Super(t, "postgres")
	pgtest.Exec(t, super, "CREATE DATABASE "+db+" OWNER "+other+" TEMPLATE "+o.TemplateDB+" ALLOW_CONNECTIONS false")
	caller := u.CallerConn(t)
	mustCall(t, caller, "create_role", tenant)
	_, err = call(caller, "create_database", db, tenant)
	if err == nil || sqlstate(err) != "42P04" || !strings.Contains(err.Error(), db) || !strings.Contains(err.Error(), "could not be dropped") {
		t.Fatalf("create_database over a database the other login owns: want 42P04 naming %s, got %v", db, err)
	}
	var owner string
	if err := super.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(datdba)::text FROM pg_catalog.pg_database WHERE datname = $1`, db).Scan(&owner); err != nil || owner != other {
		t.Fatalf("after the refusal: owner %q (%v), want %s unchanged", owner, err, other)
	}
	pgtest.Exec(t, super, "DROP DATABASE "+db)
	if !mustCall(t, caller, "create_database", db, tenant) {
		t.Fatal("after the admin dropped it: no change reported")
	}
}

// leakedLogin is the login the owner's mapping names and its password, as a
// superuser reads them: what a leak gives away.
func leakedLogin(t *testing.T, u *pgtest.Utility, o sqlfuncs.Options) (user, password string) {
	t.Helper()
	var opts string
	if err := u.Super(t, u.DB).QueryRow(context.Background(), `SELECT pg_catalog.array_to_string(umoptions, ',') FROM pg_catalog.pg_user_mappings WHERE srvname = $1 AND usename = $2`,
		o.Server, o.Owner).Scan(&opts); err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(kv, "password="); ok {
			password = v
		}
		if v, ok := strings.CutPrefix(kv, "user="); ok {
			user = v
		}
	}
	return user, password
}

// The hand-over held up (an operator holds the tenant's lock) while a
// leaked login opens the new database, enters it and plants a schema: the
// call refuses to hand it over, and the next call makes it anew, clean.
func TestDatabaseOpenedDuringTheHandOverIsNotHandedOver(t *testing.T) {
	u, o, _ := dedicatedUtility(t, true)
	ctx := context.Background()
	super := u.Super(t, "postgres")
	user, password := leakedLogin(t, u, o)
	caller := u.CallerConn(t)
	tenant, db := pgtest.Name("race_o"), pgtest.Name("race")
	u.DropDatabaseAtCleanup(t, db)
	mustCall(t, caller, "create_role", tenant)
	holder := u.Super(t, u.DB) // advisory locks belong to a database
	pgtest.Exec(t, holder, fmt.Sprintf("SELECT pg_catalog.pg_advisory_lock(%d, pg_catalog.hashtext('owner:' || '%s'))", sqlfuncs.LockClass, tenant))
	result := make(chan error, 1)
	go func() { _, err := call(caller, "create_database", db, tenant); result <- err }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var exists bool
		if err := super.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1)`, db).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the database was not made")
		}
		time.Sleep(20 * time.Millisecond)
	}
	leaked := pgtest.Connect(t, u.Config(u.DB, user, password))
	pgtest.Exec(t, leaked, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS true")
	inside := pgtest.Connect(t, u.Config(db, user, password))
	pgtest.Exec(t, inside, "CREATE SCHEMA planted")
	pgtest.Exec(t, holder, fmt.Sprintf("SELECT pg_catalog.pg_advisory_unlock(%d, pg_catalog.hashtext('owner:' || '%s'))", sqlfuncs.LockClass, tenant))
	err := <-result
	if err == nil || sqlstate(err) != "55006" || !strings.Contains(err.Error(), "opened or changed") {
		t.Fatalf("create_database while the new database was opened: want 55006, got %v", err)
	}
	var owner string
	if err := super.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(datdba)::text FROM pg_catalog.pg_database WHERE datname = $1`, db).Scan(&owner); err != nil || owner != user {
		t.Fatalf("after the refusal: owner %q (%v), want the login %s", owner, err, user)
	}
	// The next call drops it (ending the session inside) and makes it anew.
	if !mustCall(t, caller, "create_database", db, tenant) {
		t.Fatal("the re-run reported no change")
	}
	var planted bool
	if err := pgtest.Connect(t, u.SuperConfig(db)).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'planted')`).Scan(&planted); err != nil || planted {
		t.Fatalf("the planted schema is in the tenant's database: %v %v", planted, err)
	}
}
