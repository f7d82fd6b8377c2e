package sqlfuncs

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Finding is the result of one catalog check.
type Finding struct {
	// Check names what was checked, e.g. "utility.create_role: security definer".
	Check string `json:"check"`
	OK    bool   `json:"ok"`
	// Found says what the catalog holds when the check fails.
	Found string `json:"found,omitempty"`
	// Fix says how to repair it.
	Fix string `json:"fix,omitempty"`
}

// The checks no update repairs (the stack declares neither a grant to
// another role nor an extra function), as Finding.Check ends with them.
const (
	CheckNoOtherGrantees  = "no other grantees"
	CheckNoOtherFunctions = "no functions besides the utility functions"
	// CheckNoSettings: the functions declare no SET clause, so any setting a
	// function holds (ALTER FUNCTION … SET pgaudit.log = 'none' would hide
	// what it does from the audit trail) was made by hand.
	CheckNoSettings = "no settings of its own"
)

// Failed returns the findings that did not pass.
func Failed(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if !f.OK {
			out = append(out, f)
		}
	}
	return out
}

// Check reads the catalog of the utility database db is connected to and
// compares each function with its definition: present, same body, SECURITY
// DEFINER, search_path pinned (CheckPinned), no settings of its own, owned by
// owner (when not ""), not executable by PUBLIC, executable by the utility
// role exactly when it is callable, and by nobody else.
func Check(ctx context.Context, db DB, o Options, owner string) ([]Finding, error) {
	fns, err := Definitions(o)
	if err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	lives, err := readFunctions(ctx, db, fns)
	if err != nil {
		return nil, err
	}
	var c checker
	for i, fn := range fns {
		live := lives[i]
		if live == nil {
			c.add(fn, "present", false, "missing", reinstall)
			continue
		}
		c.add(fn, "present", true, "", "")
		c.definition(fn, *live, owner)
		c.grants(fn, *live, o.UtilityRole)
	}
	extra, err := extraFunctions(ctx, db, o.Schema, fns)
	if err != nil {
		return nil, err
	}
	f := Finding{Check: o.Schema + ": " + CheckNoOtherFunctions, OK: len(extra) == 0}
	if !f.OK {
		f.Found = "also holds " + strings.Join(extra, ", ")
		f.Fix = "DROP FUNCTION each of them (a function here runs with its owner's rights for whoever may call it)"
	}
	return append(c.out, f), nil
}

// readFunctions reads fns from the catalog in one round trip (the audit in
// every drift waits for it), in fns' order; nil where a function is missing.
func readFunctions(ctx context.Context, db DB, fns []Function) ([]*liveFunction, error) {
	sigs := make([]string, len(fns))
	for i, fn := range fns {
		sigs[i] = fn.Signature()
	}
	rows, err := db.Query(ctx, `
		SELECT k.i, p.prosrc, p.prosecdef, COALESCE(p.proconfig, '{}'), pg_catalog.pg_get_userbyid(p.proowner)::text,
		       COALESCE((SELECT pg_catalog.array_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END)
		                 FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
		                 WHERE a.privilege_type = 'EXECUTE'), '{}')
		FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY k(sig, i)
		JOIN pg_catalog.pg_proc p ON p.oid = pg_catalog.to_regprocedure(k.sig)`, sigs)
	if err != nil {
		return nil, fmt.Errorf("read the utility functions: %w", err)
	}
	defer rows.Close()
	out := make([]*liveFunction, len(fns))
	for rows.Next() {
		var i int64
		var live liveFunction
		if err := rows.Scan(&i, &live.body, &live.secdef, &live.config, &live.owner, &live.grantees); err != nil {
			return nil, fmt.Errorf("read the utility functions: %w", err)
		}
		if i < 1 || int(i) > len(out) {
			return nil, fmt.Errorf("read the utility functions: row %d of %d", i, len(out))
		}
		out[i-1] = &live
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the utility functions: %w", err)
	}
	return out, nil
}

const reinstall = "re-apply the stack (or sqlfuncs.Install) to restore the definition"

// liveFunction is a utility function as the catalog holds it.
type liveFunction struct {
	body, owner      string
	secdef           bool
	config, grantees []string
}

// checker collects the findings of Check.
type checker struct{ out []Finding }

func (c *checker) add(fn Function, what string, ok bool, found, fix string) {
	f := Finding{Check: fmt.Sprintf("%s.%s: %s", fn.Schema, fn.Name, what), OK: ok}
	if !ok {
		f.Found, f.Fix = found, fix
	}
	c.out = append(c.out, f)
}

// definition checks the body, SECURITY DEFINER, the pinned search_path, the
// function's own settings and its owner.
func (c *checker) definition(fn Function, live liveFunction, owner string) {
	c.add(fn, "body matches the definition", live.body == fn.Body, "the body differs (edited outside the deployer?)", reinstall)
	c.add(fn, "security definer", live.secdef, "SECURITY INVOKER", reinstall)
	pinErr := CheckPinned(live.body)
	pinnedBySet := false
	var extra []string
	for _, s := range live.config {
		if s == "search_path=pg_catalog, pg_temp" {
			pinnedBySet = true
		} else {
			extra = append(extra, s)
		}
	}
	found := ""
	if pinErr != nil {
		found = pinErr.Error()
	}
	c.add(fn, "search_path pinned", pinErr == nil || pinnedBySet, found, reinstall)
	c.add(fn, CheckNoSettings, len(extra) == 0, "set: "+strings.Join(extra, ", "), fmt.Sprintf("ALTER FUNCTION %s RESET ALL", fn.Signature()))
	if owner != "" {
		c.add(fn, "owned by "+owner, live.owner == owner, "owned by "+live.owner, fmt.Sprintf("ALTER FUNCTION %s OWNER TO %s", fn.Signature(), quoteIdent(owner)))
	}
}

// grants checks EXECUTE: never PUBLIC, the utility role exactly when the
// function is callable, nobody else but the owner.
func (c *checker) grants(fn Function, live liveFunction, utilityRole string) {
	publicExec, roleExec := false, false
	var others []string
	for _, g := range live.grantees {
		switch g {
		case "PUBLIC":
			publicExec = true
		case utilityRole:
			roleExec = true
		case live.owner:
		default:
			others = append(others, g)
		}
	}
	c.add(fn, "not executable by PUBLIC", !publicExec, "PUBLIC has EXECUTE", fmt.Sprintf("REVOKE ALL ON FUNCTION %s FROM PUBLIC", fn.Signature()))
	if fn.Callable {
		c.add(fn, "executable by "+utilityRole, roleExec, utilityRole+" lacks EXECUTE", fmt.Sprintf("GRANT EXECUTE ON FUNCTION %s TO %s", fn.Signature(), quoteIdent(utilityRole)))
	} else if roleExec {
		others = append(others, utilityRole)
	}
	c.add(fn, CheckNoOtherGrantees, len(others) == 0, "EXECUTE held by "+strings.Join(others, ", "),
		fmt.Sprintf("REVOKE EXECUTE ON FUNCTION %s FROM %s", fn.Signature(), strings.Join(others, ", ")))
}

// extraFunctions lists the routines in schema that are not among fns.
func extraFunctions(ctx context.Context, db DB, schema string, fns []Function) ([]string, error) {
	known := make([]string, len(fns))
	for i, f := range fns {
		known[i] = f.Signature()
	}
	rows, err := db.Query(ctx, `SELECT p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p
		JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = $1 AND p.oid <> ALL (ARRAY(SELECT pg_catalog.to_regprocedure(k)::pg_catalog.oid FROM pg_catalog.unnest($2::text[]) k
		                                               WHERE pg_catalog.to_regprocedure(k) IS NOT NULL))
		ORDER BY 1`, schema, known)
	if err != nil {
		return nil, fmt.Errorf("list the functions of schema %s: %w", schema, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
