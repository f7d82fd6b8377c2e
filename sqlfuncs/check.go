package sqlfuncs

import (
	"context"
	"errors"
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
// DEFINER, search_path pinned (CheckPinned), owned by owner (when not ""),
// not executable by PUBLIC, executable by the utility role exactly when it is
// callable, and by nobody else.
func Check(ctx context.Context, db DB, o Options, owner string) ([]Finding, error) {
	fns, err := Definitions(o)
	if err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	var out []Finding
	add := func(fn Function, what string, ok bool, found, fix string) {
		f := Finding{Check: fmt.Sprintf("%s.%s: %s", fn.Schema, fn.Name, what), OK: ok}
		if !ok {
			f.Found, f.Fix = found, fix
		}
		out = append(out, f)
	}
	const reinstall = "re-apply the stack (or sqlfuncs.Install) to restore the definition"
	for _, fn := range fns {
		var (
			body, fnOwner string
			secdef        bool
			config        []string
			grantees      []string
		)
		err := db.QueryRow(ctx, `
			SELECT p.prosrc, p.prosecdef, COALESCE(p.proconfig, '{}'), pg_catalog.pg_get_userbyid(p.proowner)::text,
			       COALESCE((SELECT pg_catalog.array_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END)
			                 FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
			                 WHERE a.privilege_type = 'EXECUTE'), '{}')
			FROM pg_catalog.pg_proc p WHERE p.oid = pg_catalog.to_regprocedure($1)`, fn.Signature()).
			Scan(&body, &secdef, &config, &fnOwner, &grantees)
		if errors.Is(err, pgx.ErrNoRows) {
			add(fn, "present", false, "missing", reinstall)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", fn.Signature(), err)
		}
		add(fn, "present", true, "", "")
		add(fn, "body matches the definition", body == fn.Body, "the body differs (edited outside the deployer?)", reinstall)
		add(fn, "security definer", secdef, "SECURITY INVOKER", reinstall)
		pinErr := CheckPinned(body)
		pinnedBySet := false
		for _, c := range config {
			if c == "search_path=pg_catalog, pg_temp" {
				pinnedBySet = true
			}
		}
		found := ""
		if pinErr != nil {
			found = pinErr.Error()
		}
		add(fn, "search_path pinned", pinErr == nil || pinnedBySet, found, reinstall)
		var extra []string
		for _, c := range config {
			if c != "search_path=pg_catalog, pg_temp" {
				extra = append(extra, c)
			}
		}
		add(fn, CheckNoSettings, len(extra) == 0, "set: "+strings.Join(extra, ", "), fmt.Sprintf("ALTER FUNCTION %s RESET ALL", fn.Signature()))
		if owner != "" {
			add(fn, "owned by "+owner, fnOwner == owner, "owned by "+fnOwner, fmt.Sprintf("ALTER FUNCTION %s OWNER TO %s", fn.Signature(), quoteIdent(owner)))
		}
		publicExec, roleExec := false, false
		var others []string
		for _, g := range grantees {
			switch g {
			case "PUBLIC":
				publicExec = true
			case o.UtilityRole:
				roleExec = true
			case fnOwner:
			default:
				others = append(others, g)
			}
		}
		add(fn, "not executable by PUBLIC", !publicExec, "PUBLIC has EXECUTE", fmt.Sprintf("REVOKE ALL ON FUNCTION %s FROM PUBLIC", fn.Signature()))
		if fn.Callable {
			add(fn, "executable by "+o.UtilityRole, roleExec, o.UtilityRole+" lacks EXECUTE", fmt.Sprintf("GRANT EXECUTE ON FUNCTION %s TO %s", fn.Signature(), quoteIdent(o.UtilityRole)))
		} else if roleExec {
			others = append(others, o.UtilityRole)
		}
		add(fn, CheckNoOtherGrantees, len(others) == 0, "EXECUTE held by "+strings.Join(others, ", "),
			fmt.Sprintf("REVOKE EXECUTE ON FUNCTION %s FROM %s", fn.Signature(), strings.Join(others, ", ")))
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
	return append(out, f), nil
}

// extraFunctions lists the routines in schema that are not among fns.
func extraFunctions(ctx context.Context, db DB, schema string, fns []Function) ([]string, error) {
	known := make([]string, len(fns))
	for i, f := range fns {
		known[i] = f.Signature()
	}
	rows, err := db.Query(ctx, `SELECT p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p
		JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = $1 AND p.oid <> ALL (SELECT pg_catalog.to_regprocedure(k) FROM pg_catalog.unnest($2::text[]) k
		                                         WHERE pg_catalog.to_regprocedure(k) IS NOT NULL)
		ORDER BY 1`, schema, known)
	if err != nil {
		return nil, fmt.Errorf("list the functions of schema %s: %w", schema, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
