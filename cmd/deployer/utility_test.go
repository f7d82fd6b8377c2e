package main

import (
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
)

// Hand edits in the utility schema that no update repairs (the provider's
// function resource reads neither a function's own settings nor functions it
// does not manage): a setting on a utility function (pgaudit switched off
// inside it) and a SECURITY DEFINER function made by hand. Each is a
// mandatory drift finding, blocks up (step "database"), fails verify, and its
// removal makes the stack clean again.
func TestHandEditsOfTheUtilitySchemaBlockUp(t *testing.T) {
	d := deployLocal(t)
	admin := pgtest.Connect(t, d.PG.Config(d.Names["utilityDatabase"], d.Admin, d.AdminPass))
	tests := []struct{ edit, undo, finding string }{
		{"ALTER FUNCTION utility.create_database(text, text) SET pgaudit.log = 'none'", "ALTER FUNCTION utility.create_database(text, text) RESET ALL",
			"create_database: no settings of its own"},
		{"CREATE FUNCTION utility.rt_exec(q text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN EXECUTE q; END$$",
			"DROP FUNCTION utility.rt_exec(text)", "no functions besides the utility functions"},
	}
	for _, tc := range tests {
		pgtest.Exec(t, admin, tc.edit)
		code, s, text := d.report(t, "drift")
		if msg, ok := violation(s, "pg-utility-intact", tc.finding); code != 2 || !ok || !strings.HasPrefix(msg, "mandatory") {
			t.Fatalf("drift after %q: exit %d, finding %q %v\n%s", tc.edit, code, msg, ok, text)
		}
		if code, s, text := d.report(t, "up"); code != 3 || s.Step != "database" {
			t.Fatalf("up after %q: exit %d step %q\n%s", tc.edit, code, s.Step, text)
		}
		code, s, _ = d.report(t, "verify")
		failed := ""
		for _, c := range s.Checks {
			if !c.OK {
				failed += c.Name + "\n"
			}
		}
		if code != 1 || !strings.Contains(failed, tc.finding) {
			t.Fatalf("verify after %q: exit %d, failed checks:\n%s", tc.edit, code, failed)
		}
		pgtest.Exec(t, admin, tc.undo)
		if code, s, text := d.report(t, "drift"); code != 0 {
			t.Fatalf("drift after %q: exit %d %+v\n%s", tc.undo, code, s.Violations, text)
		}
	}
}
