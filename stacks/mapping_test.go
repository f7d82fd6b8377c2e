package stacks_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// A deploy with every statement of the admin logged (log_statement=all,
// pgaudit.log=all, duration logging, sampling, debug prints): the loopback
// user mapping is written with the admin's password and the roles get theirs,
// and no password of the stack reaches the server log, as it is or as an
// SQL literal.
func TestLoopbackPasswordStaysOutOfTheServerLog(t *testing.T) {
	l := enginetest.NewLocal(t)
	l.PG.MakeLoud(t, l.Admin)
	l.Deploy(t)

	marker := "deployer-marker-" + pgtest.Name("deploy")
	pgtest.Exec(t, pgtest.Connect(t, l.PG.Config("postgres", l.Admin, l.AdminPass)), "SELECT '"+marker+"'")
	log := l.PG.ServerLog(t, marker)
	if !strings.Contains(log, marker) || !strings.Contains(log, "CREATE ROLE") {
		t.Fatal("the admin's statements are not in the server log: the test proves nothing")
	}
	secrets := map[string]string{"the admin's password": l.AdminPass}
	for k, v := range l.Secrets {
		secrets[k] = v
	}
	for name, v := range secrets {
		if pgtest.SecretIn(log, v) {
			t.Errorf("%s is in the server log", name)
		}
	}
	onboard(t, l, "log")
}

// The functions' owner's user mapping dropped or changed by hand, or its
// login's password changed, is drift (no provider resource reads it: the
// program's audit does); a plain up stops on it and up --refresh writes a
// new login.
func TestHandEditedUserMappingIsDriftAndRepaired(t *testing.T) {
	l := enginetest.NewLocal(t)
	l.Deploy(t)
	ctx := context.Background()
	admin := pgtest.Connect(t, l.PG.Config(l.Names["utilityDatabase"], l.Admin, l.AdminPass))
	o := sqlfuncs.Options{UtilityRole: l.Names["utilityRole"]}.WithDefaults()
	for _, tc := range []struct{ edit, kind string }{
		{"DROP USER MAPPING FOR " + o.Owner + " SERVER " + o.Server, "missing"},
		{"ALTER USER MAPPING FOR " + o.Owner + " SERVER " + o.Server + " OPTIONS (SET password 'guessed')", "changed"},
		{"ALTER ROLE " + o.LoopbackLogins()[0] + " PASSWORD 'guessed'; ALTER ROLE " + o.LoopbackLogins()[1] + " PASSWORD 'guessed'", "changed"},
	} {
		pgtest.Exec(t, admin, tc.edit)
		r := automation.Drift(ctx, l.Settings, l.Name)
		if r.ExitCode != automation.ExitChanges || len(r.Changes) != 1 || r.Changes[0].Kind != tc.kind || !strings.Contains(r.Changes[0].Name, "user mapping for "+o.Owner) {
			t.Fatalf("drift after %q: want the user mapping %s, got %+v", tc.edit, tc.kind, r)
		}
		if r := automation.Verify(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitError || !failedCheck(r, "its loopback login works") {
			t.Fatalf("verify after %q: want the loopback login check failed, got %+v", tc.edit, r)
		}
		if r := automation.Up(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitBlocked || r.Step != "drift" {
			t.Fatalf("plain up over %q: want blocked by drift, got %+v", tc.edit, r)
		}
		if r := automation.Up(ctx, l.Settings, l.Name, automation.RefreshFirst(t.TempDir())); r.ExitCode != automation.ExitOK ||
			!slices.ContainsFunc(r.Notes, func(n string) bool {
				return strings.Contains(n, "gave the utility functions' owner a new loopback login")
			}) {
			t.Fatalf("up --refresh after %q: want exit 0 saying the owner gets a new login, got %+v", tc.edit, r)
		}
		if r := automation.Drift(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitOK {
			t.Fatalf("drift after the repair of %q: %+v", tc.edit, r)
		}
	}
	onboard(t, l, "rep")

	// The owner's roles given more than they hold (a leaked login's own
	// grants, or a careless admin's), or less than onboarding needs, fail
	// verify.
	super := l.PG.Super(t, l.Names["utilityDatabase"])
	tenant := pgtest.Name("gap_owner")
	pgtest.Exec(t, pgtest.Connect(t, l.PG.Config(l.Names["utilityDatabase"], l.Names["utilityRole"], l.Secrets["utilityRolePassword"])), "SELECT utility.create_role($1)", tenant)
	ml, err := sqlfuncs.ReadLoopbackLogin(ctx, admin, o, l.Admin)
	if err != nil || ml.Login == "" {
		t.Fatalf("the mapped login: %+v %v", ml, err)
	}
	mapped := ml.Login
	for _, tc := range []struct{ edit, undo, check string }{
		{"REVOKE " + tenant + " FROM " + o.Owner, "GRANT " + tenant + " TO " + o.Owner, "hold what onboarding needs and no more"},
		{"GRANT " + tenant + " TO " + o.LoopbackLogins()[1], "REVOKE " + tenant + " FROM " + o.LoopbackLogins()[1], o.LoopbackLogins()[1] + ": member of no other role"},
		// Onboarding breaks later, or at once, though the mapping logs in.
		{"ALTER ROLE " + mapped + " VALID UNTIL '2999-01-01'", "ALTER ROLE " + mapped + " VALID UNTIL 'infinity'", "its loopback login works"},
		{"ALTER ROLE " + mapped + " SET default_transaction_read_only = on", "ALTER ROLE " + mapped + " RESET ALL", "its loopback login works"},
		{"ALTER ROLE " + mapped + " IN DATABASE " + l.Names["utilityDatabase"] + " SET default_transaction_read_only = on",
			"ALTER ROLE " + mapped + " IN DATABASE " + l.Names["utilityDatabase"] + " RESET ALL", "its loopback login works"},
		{"GRANT " + l.Names["etlRole"] + " TO " + o.LoopbackLogins()[1], "REVOKE " + l.Names["etlRole"] + " FROM " + o.LoopbackLogins()[1], "no role is a member of it"},
		// (GRANT admin or owner TO a login is refused by PostgreSQL: both
		// are members of each login, and memberships cannot be circular.)
		{"GRANT " + l.Names["tileReaderRole"] + " TO " + o.LoopbackLogins()[0], "REVOKE " + l.Names["tileReaderRole"] + " FROM " + o.LoopbackLogins()[0], o.LoopbackLogins()[0] + ": member of no other role"},
		{"ALTER ROLE " + o.LoopbackLogins()[1] + " CREATEROLE", "ALTER ROLE " + o.LoopbackLogins()[1] + " NOCREATEROLE", o.LoopbackLogins()[1] + ": intended attributes"},
	} {
		pgtest.Exec(t, super, tc.edit)
		if r := automation.Verify(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitError || !failedCheck(r, tc.check) {
			t.Errorf("verify after %q: want %q failed, got %+v", tc.edit, tc.check, r.Checks)
		}
		pgtest.Exec(t, super, tc.undo)
	}
	if r := automation.Verify(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitOK {
		t.Fatalf("verify after the undo: %+v", r)
	}
}

// failedCheck reports whether a check whose name holds name failed.
func failedCheck(r automation.StackReport, name string) bool {
	for _, c := range r.Checks {
		if !c.OK && strings.Contains(c.Name, name) {
			return true
		}
	}
	return false
}

// A stack deployed by an earlier version holds the admin's user mapping
// (with the master password) as a provider resource. The first up forgets it
// from the state (a backup is kept) instead of deleting it through the
// provider, and the program drops the mapping itself: the master password is
// no longer kept in the database, and onboarding works through the owner's
// own login.
func TestUpForgetsTheRetiredUserMapping(t *testing.T) {
	l := enginetest.NewLocal(t)
	st := l.Deploy(t)
	ctx := context.Background()
	injectRetiredMapping(t, st, l)
	admin := pgtest.Connect(t, l.PG.Config(l.Names["utilityDatabase"], l.Admin, l.AdminPass))
	server := sqlfuncs.Options{}.WithDefaults().Server
	pgtest.Exec(t, admin, "CREATE USER MAPPING FOR "+l.Admin+" SERVER "+server+" OPTIONS (user "+pgtest.QuoteLiteral(l.Admin)+", password "+pgtest.QuoteLiteral(l.AdminPass)+")")

	backups := t.TempDir()
	r := automation.Up(ctx, l.Settings, l.Name, automation.RefreshFirst(backups))
	// The program drops the mapping during the refresh it runs, so the
	// refresh may find the resource gone before the plan forgets it.
	if notes := strings.Join(r.Notes, "\n"); r.ExitCode != automation.ExitOK || (!strings.Contains(notes, "forgot utility-mapping from the state") && !strings.Contains(notes, "1 gone")) {
		t.Fatalf("up over a state with the retired mapping: %+v", r)
	}
	dep, err := st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(dep.Deployment), "userMapping") {
		t.Fatal("the retired user mapping is still in the state")
	}
	var left bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_user_mappings WHERE usename = $1)", l.Admin).Scan(&left); err != nil || left {
		t.Fatalf("the admin's mapping (the master password) is still in the database (%v)", err)
	}
	onboard(t, l, "ret")
	if r := automation.Up(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitOK || r.Result != "clean" {
		t.Fatalf("second up: %+v", r)
	}
}

// injectRetiredMapping puts the user mapping into the state the way the
// earlier program's provider resource left it: after the server, on the same
// provider, with every function depending on it.
func injectRetiredMapping(t *testing.T, st auto.Stack, l *enginetest.Local) {
	t.Helper()
	ctx := context.Background()
	dep, err := st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(dep.Deployment, &raw); err != nil {
		t.Fatal(err)
	}
	resources, _ := raw["resources"].([]any)
	var out []any
	var mappingURN string
	for _, r := range resources {
		res := r.(map[string]any)
		out = append(out, res)
		urn, _ := res["urn"].(string)
		if strings.HasSuffix(urn, "postgresql:index/server:Server::utility-server") {
			mappingURN = strings.Replace(urn, "postgresql:index/server:Server::utility-server", "postgresql:index/userMapping:UserMapping::utility-mapping", 1)
			opts, _ := json.Marshal(map[string]string{"user": l.Admin, "password": l.AdminPass})
			secret := map[string]any{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": string(opts)}
			props := map[string]any{"serverName": "utility_loopback", "userName": l.Admin, "options": secret}
			out = append(out, map[string]any{
				"urn": mappingURN, "custom": true, "id": l.Admin + ".utility_loopback", "type": "postgresql:index/userMapping:UserMapping",
				"inputs": props, "outputs": props, "parent": res["parent"], "provider": res["provider"], "dependencies": []any{urn},
			})
		}
		if t, _ := res["type"].(string); t == "postgresql:index/function:Function" && mappingURN != "" {
			deps, _ := res["dependencies"].([]any)
			res["dependencies"] = append(deps, mappingURN)
		}
	}
	if mappingURN == "" {
		t.Fatal("no utility server in the state")
	}
	raw["resources"] = out
	if dep.Deployment, err = json.Marshal(raw); err != nil {
		t.Fatal(err)
	}
	if err := st.Import(ctx, dep); err != nil {
		t.Fatalf("import the state with the retired mapping: %v", err)
	}
}

// onboard makes a tenant role and database through the utility functions, as
// the utility role: the proof that the loopback user mapping works.
func onboard(t *testing.T, l *enginetest.Local, prefix string) {
	t.Helper()
	caller := pgtest.Connect(t, l.PG.Config(l.Names["utilityDatabase"], l.Names["utilityRole"], l.Secrets["utilityRolePassword"]))
	owner, db := pgtest.Name(prefix+"_owner"), pgtest.Name(prefix+"_db")
	l.PG.DropDatabaseAtCleanup(t, db)
	pgtest.Exec(t, caller, "SELECT utility.create_role($1)", owner)
	pgtest.Exec(t, caller, "SELECT utility.create_database($1, $2)", db, owner)
}
