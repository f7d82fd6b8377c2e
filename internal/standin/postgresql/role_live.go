package postgresql

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/postgis-platform/deployer/internal/standin"
)

// roleLiveKeys are the role inputs the real provider reads back from the
// catalog whether or not a program set them, so a hand change to any of them
// is drift: memberships and per-role settings.
// Upstream: cyrilgdn/terraform-provider-postgresql v1.26.0
// postgresql/resource_postgresql_role.go resourcePostgreSQLRoleReadImpl
// (d.Set of roles, search_path, statement_timeout,
// idle_in_transaction_session_timeout).
var roleLiveKeys = []string{"roles", "searchPaths", "statementTimeout", "idleInTransactionSessionTimeout"}

// roleLive is what the catalog holds for a role beyond its attributes.
type roleLive struct {
	roles      []string
	searchPath []string
	timeout    int // statement_timeout, ms
	idle       int // idle_in_transaction_session_timeout, ms
	validUntil string
}

// readRoleLive reads memberships (pg_auth_members) and settings (rolconfig).
// Upstream: resourcePostgreSQLRoleReadImpl's ARRAY(SELECT
// pg_get_userbyid(roleid) FROM pg_auth_members WHERE member = pg_roles.oid),
// readSearchPath, readStatementTimeout, readIdleInTransactionSessionTimeout.
func (r *role) readLive(ctx context.Context, name string) (roleLive, error) {
	var live roleLive
	var config []string
	_, err := r.b.queryRow(ctx, "", `SELECT ARRAY(SELECT pg_catalog.pg_get_userbyid(m.roleid)::text FROM pg_catalog.pg_auth_members m
			WHERE m.member = r.oid ORDER BY 1), COALESCE(r.rolconfig, '{}'), COALESCE(r.rolvaliduntil::text, 'infinity')
		FROM pg_catalog.pg_roles r WHERE r.rolname = $1`,
		[]any{name}, &live.roles, &config, &live.validUntil)
	if err != nil {
		return live, err
	}
	for _, c := range config {
		k, v, _ := strings.Cut(c, "=")
		switch k {
		case "search_path":
			// readSearchPath: split on ", ", quotes trimmed.
			for _, p := range strings.Split(v, ", ") {
				live.searchPath = append(live.searchPath, strings.Trim(p, `"`))
			}
		case "statement_timeout":
			if live.timeout, err = durationMs(v); err != nil {
				return live, fmt.Errorf("error reading statement_timeout: %w", err)
			}
		case "idle_in_transaction_session_timeout":
			if live.idle, err = durationMs(v); err != nil {
				return live, fmt.Errorf("error reading idle_in_transaction_session_timeout: %w", err)
			}
		}
	}
	return live, nil
}

// durationMs reads a setting in milliseconds: a bare number, or a number
// with a PostgreSQL time unit (upstream parseDurationToMillis).
func durationMs(v string) (int, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return n, nil
	}
	units := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "min": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	for _, u := range []string{"min", "ms", "s", "h", "d"} {
		if n, err := strconv.Atoi(strings.TrimSuffix(v, u)); err == nil && strings.HasSuffix(v, u) {
			return int(time.Duration(n) * units[u] / time.Millisecond), nil
		}
	}
	return 0, fmt.Errorf("%q is not a duration", v)
}

func (l roleLive) into(out map[string]any) {
	roles := make([]any, len(l.roles))
	for i, r := range l.roles {
		roles[i] = r
	}
	out["roles"] = roles
	sp := make([]any, len(l.searchPath))
	for i, p := range l.searchPath {
		sp[i] = p
	}
	out["searchPaths"] = sp
	out["statementTimeout"] = float64(l.timeout)
	out["idleInTransactionSessionTimeout"] = float64(l.idle)
	out["validUntil"] = l.validUntil
}

// liveStatements turns the role toward the memberships and settings in in
// (an absent key means none), from what oldOut held.
// Upstream: resourcePostgreSQLRoleUpdate -> revokeRoles/grantRoles (only the
// memberships added or removed), setRoleSearchPath, setStatementTimeout,
// setIdleInTransactionSessionTimeout (RESET when zero or empty).
func liveStatements(name string, oldOut, in map[string]any) []string {
	var stmts []string
	want, had := setOf(standin.Strings(in, "roles")), setOf(standin.Strings(oldOut, "roles"))
	for _, g := range sortedKeys(had) {
		if !want[g] {
			stmts = append(stmts, "REVOKE "+qi(g)+" FROM "+qi(name))
		}
	}
	for _, g := range sortedKeys(want) {
		if !had[g] {
			stmts = append(stmts, "GRANT "+qi(g)+" TO "+qi(name))
		}
	}
	if sp := standin.Strings(in, "searchPaths"); strings.Join(sp, ",") != strings.Join(standin.Strings(oldOut, "searchPaths"), ",") {
		if len(sp) == 0 {
			stmts = append(stmts, "ALTER ROLE "+qi(name)+" RESET search_path")
		} else {
			q := make([]string, len(sp))
			for i, p := range sp {
				q[i] = qi(p)
			}
			stmts = append(stmts, "ALTER ROLE "+qi(name)+" SET search_path TO "+strings.Join(q, ", "))
		}
	}
	for _, s := range []struct{ key, setting string }{{"statementTimeout", "statement_timeout"}, {"idleInTransactionSessionTimeout", "idle_in_transaction_session_timeout"}} {
		if n := int(standin.Num(in, s.key)); n != int(standin.Num(oldOut, s.key)) {
			if n == 0 {
				stmts = append(stmts, "ALTER ROLE "+qi(name)+" RESET "+s.setting)
			} else {
				stmts = append(stmts, fmt.Sprintf("ALTER ROLE %s SET %s TO %d", qi(name), s.setting, n))
			}
		}
	}
	return stmts
}

func setOf(list []string) map[string]bool {
	out := map[string]bool{}
	for _, v := range list {
		out[v] = true
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
