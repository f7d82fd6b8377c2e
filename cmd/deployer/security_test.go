package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
)

// cloudJSON is the stand-in cloud as it is now.
func (d *deployed) cloudJSON(t *testing.T) string {
	t.Helper()
	var out string
	err := d.AWSCloud().View(func(c *standin.Cloud) error {
		b, err := json.Marshal(c.Objects)
		out = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// violation returns the first finding of rule whose URN contains part.
func violation(s automation.StackReport, rule, part string) (string, bool) {
	for _, v := range s.Violations {
		if v.Rule == rule && strings.Contains(v.URN+" "+v.Message, part) {
			return string(v.Level) + " " + v.Message, true
		}
	}
	return "", false
}

// A world-open rule added by hand to a managed group is described in full,
// judged by the policies like a managed one, and blocks up (also with
// --refresh and --accept-drift) until reconcile deletes it.
func TestWorldOpenUnmanagedRuleBlocksUntilReconciled(t *testing.T) {
	d := deployLocal(t)
	// The database's own port (the stack's dbPort, not PostgreSQL's default).
	port, err := strconv.Atoi(d.Names["dbPort"])
	if err != nil {
		t.Fatal(err)
	}
	err = d.AWSCloud().Update(func(c *standin.Cloud) error {
		g := enginetest.ManagedGroups(c)[0]
		c.Objects["sgr-world"] = &standin.Object{Type: aws.TypeIngressRule, ID: "sgr-world", Props: map[string]any{
			"securityGroupId": g.ID, "ipProtocol": "tcp", "fromPort": float64(port), "toPort": float64(port), "cidrIpv4": "0.0.0.0/0", "description": "temp debug",
		}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	code, s, text := d.report(t, "drift")
	if code != 2 || len(s.Unmanaged) != 1 {
		t.Fatalf("drift: exit %d %+v\n%s", code, s.Unmanaged, text)
	}
	if u := s.Unmanaged[0]; u.Direction != "ingress" || u.Protocol != "tcp" || u.FromPort != port || u.ToPort != port || u.Peer != "0.0.0.0/0" || u.Description != "temp debug" {
		t.Fatalf("unmanaged rule not described in full: %+v", u)
	}
	if msg, ok := violation(s, "sg-no-public-db-ingress", "sgr-world"); !ok || !strings.HasPrefix(msg, "mandatory") {
		t.Fatalf("no mandatory finding on the unmanaged rule: %q %+v", msg, s.Violations)
	}
	if !strings.Contains(text, "ingress tcp "+d.Names["dbPort"]+" from 0.0.0.0/0 (sgr-world") {
		t.Fatalf("drift's text does not describe the rule:\n%s", text)
	}
	cloudBefore := d.cloudJSON(t)
	for _, args := range [][]string{{"up"}, {"up", "--accept-drift"}, {"up", "--refresh", "--backup-dir", t.TempDir()}} {
		before := d.history(t)
		code, s, text := d.report(t, args...)
		if code != 3 || s.Step != "unmanaged" || !strings.Contains(s.Error, "--delete-unmanaged sgr-world") {
			t.Fatalf("%v: exit %d step %q error %q\n%s", args, code, s.Step, s.Error, text)
		}
		// --refresh writes the refreshed state (backup kept) before it plans;
		// nothing else may change.
		refresh := len(args) > 1 && args[1] == "--refresh"
		if grew := d.history(t) - before; (grew > 0 && !refresh) || grew > 1 {
			t.Fatalf("%v: a blocked up added %d update(s) to the history", args, grew)
		}
	}
	if d.cloudJSON(t) != cloudBefore {
		t.Fatal("a blocked up changed the cloud")
	}
	if code, s, text := d.report(t, "reconcile", "--delete-unmanaged", "sgr-world", "--backup-dir", t.TempDir()); code != 0 {
		t.Fatalf("reconcile: exit %d %+v\n%s", code, s, text)
	}
	if code, s, text := d.report(t, "drift"); code != 0 {
		t.Fatalf("drift after reconcile: exit %d %+v\n%s", code, s, text)
	}
	if code, s, text := d.report(t, "up"); code != 0 {
		t.Fatalf("up after reconcile: exit %d %+v\n%s", code, s, text)
	}
}

// Privilege changes made by hand in psql (a managed role made a member of
// the admin or of the utility role, a role setting, EXECUTE for PUBLIC on one
// SECURITY DEFINER function) are drift with mandatory findings, fail verify,
// block a plain up, and up --refresh puts the declared state back.
func TestHandGrantsAreDriftAndRepaired(t *testing.T) {
	d := deployLocal(t)
	etl, tiles, util := d.Names["etlRole"], d.Names["tileReaderRole"], d.Names["utilityRole"]
	d.psql(t, "GRANT "+d.Admin+" TO "+etl)
	d.psql(t, "GRANT "+util+" TO "+tiles)
	d.psql(t, "ALTER ROLE "+etl+" SET search_path = evil")
	utilDB := d.PG.Super(t, d.Names["utilityDatabase"])
	if _, err := utilDB.Exec(context.Background(), "GRANT EXECUTE ON FUNCTION utility.create_database(text, text) TO PUBLIC"); err != nil {
		t.Fatal(err)
	}

	code, s, text := d.report(t, "drift")
	if code != 2 {
		t.Fatalf("drift: exit %d\n%s", code, text)
	}
	props := map[string]bool{}
	for _, c := range s.Changes {
		for _, p := range c.Properties {
			props[c.Name+"."+p.Path] = true
		}
	}
	for _, want := range []string{"app-workflow.roles", "app-workflow.searchPaths", "app-readonly.roles", "utility-functions-public.privileges"} {
		if !props[want] {
			t.Errorf("drift does not name %s (changes: %v)", want, props)
		}
	}
	for _, f := range []struct{ rule, part string }{
		{"pg-role-no-membership", "member of " + d.Admin}, {"pg-role-no-membership", "member of " + util}, {"pg-no-public-grants", "EXECUTE on function"},
		{"pg-role-no-search-path", "search_path set to evil"},
	} {
		if msg, ok := violation(s, f.rule, f.part); !ok || !strings.HasPrefix(msg, "mandatory") {
			t.Errorf("no mandatory %s finding with %q: %+v", f.rule, f.part, s.Violations)
		}
	}

	code, s, _ = d.report(t, "verify")
	failed := ""
	for _, c := range s.Checks {
		if !c.OK {
			failed += c.Name + ": " + c.Found + "\n"
		}
	}
	for _, want := range []string{"role " + etl + ": member of no other role: member of " + d.Admin, "role " + tiles + ": member of no other role: member of " + util,
		"role " + etl + ": no per-role settings: set: search_path=evil", "create_database: not executable by PUBLIC"} {
		if !strings.Contains(failed, want) {
			t.Errorf("verify (exit %d) does not report %q:\n%s", code, want, failed)
		}
	}
	if code != 1 {
		t.Fatalf("verify: exit %d", code)
	}

	if code, s, text := d.report(t, "up"); code != 3 {
		t.Fatalf("plain up over hand grants: exit %d %+v\n%s", code, s, text)
	}
	if code, s, text := d.report(t, "up", "--refresh", "--backup-dir", t.TempDir()); code != 0 {
		t.Fatalf("up --refresh: exit %d %+v\n%s", code, s, text)
	}
	if code, s, text := d.report(t, "drift"); code != 0 {
		t.Fatalf("drift after the repair: exit %d %+v\n%s", code, s, text)
	}
	if code, s, _ := d.report(t, "verify"); code != 0 {
		t.Fatalf("verify after the repair: exit %d %+v", code, s.Checks)
	}
}

// A database the stack does not name is audited too: a tenant database
// re-opened by its owner and databases made by hand (by the admin, or by the
// superuser, out of the admin's reach) are drift findings and verify
// failures; a half-made tenant database that takes no connections is not.
func TestOpenDatabasesAreFound(t *testing.T) {
	d := deployLocal(t)
	ctx := context.Background()
	caller := pgtest.Connect(t, d.PG.Config(d.Names["utilityDatabase"], d.Names["utilityRole"], d.Secrets["utilityRolePassword"]))
	tenant, tenantDB, rogue, closed, foreign := pgtest.Name("tenant"), pgtest.Name("tenantdb"), pgtest.Name("rogue"), pgtest.Name("closed"), pgtest.Name("foreign")
	for _, db := range []string{tenantDB, rogue, closed, foreign} {
		d.PG.DropDatabaseAtCleanup(t, db)
	}
	for _, q := range []string{"SELECT utility.create_role($1)", "SELECT utility.create_database($2, $1)"} {
		args := []any{tenant}
		if strings.Contains(q, "$2") {
			args = append(args, tenantDB)
		}
		if _, err := caller.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	if code, s, text := d.report(t, "drift"); code != 0 {
		t.Fatalf("drift with a locked tenant: exit %d %+v\n%s", code, s.Violations, text)
	}
	admin := pgtest.Connect(t, d.PG.Config("postgres", d.Admin, d.AdminPass))
	pgtest.Exec(t, admin, "CREATE DATABASE "+rogue)
	pgtest.Exec(t, admin, "CREATE DATABASE "+closed+" ALLOW_CONNECTIONS false")
	// One the admin has no hold on: made by the superuser.
	pgtest.Exec(t, d.PG.Super(t, "postgres"), "CREATE DATABASE "+foreign)
	d.psql(t, "GRANT CONNECT ON DATABASE "+tenantDB+" TO PUBLIC")

	code, s, text := d.report(t, "drift")
	if code != 2 {
		t.Fatalf("drift: exit %d\n%s", code, text)
	}
	for _, db := range []string{rogue, tenantDB, foreign} {
		if msg, ok := violation(s, "pg-no-open-database", "\""+db+"\""); !ok || !strings.HasPrefix(msg, "mandatory") {
			t.Errorf("no mandatory finding for %s: %+v", db, s.Violations)
		}
	}
	if _, ok := violation(s, "pg-no-open-database", "\""+closed+"\""); ok {
		t.Errorf("a database that takes no connections was reported open")
	}
	code, s, _ = d.report(t, "verify")
	var found string
	for _, c := range s.Checks {
		if !c.OK {
			found += c.Found
		}
	}
	if code != 1 || !strings.Contains(found, rogue+" (owner "+d.Admin+")") || !strings.Contains(found, tenantDB+" (owner "+tenant+")") ||
		!strings.Contains(found, foreign+" (owner "+d.PG.SuperUser+")") || strings.Contains(found, closed) {
		t.Fatalf("verify: exit %d, found %q", code, found)
	}
}
