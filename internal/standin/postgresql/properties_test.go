package postgresql

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// TestPostgreSQLReplaceOrUpdateEveryProperty: one row per property of each
// type, replace or update in place, as terraform-provider-postgresql
// v1.26.0's schema has it (ForceNew); each row names the schema and line.
func TestPostgreSQLReplaceOrUpdateEveryProperty(t *testing.T) {
	p, err := NewProvider()
	if err != nil {
		t.Fatal(err)
	}
	type prop struct {
		name     string
		old, new any
	}
	s := func(names ...string) []prop {
		out := make([]prop, len(names))
		for i, n := range names {
			out[i] = prop{n, "a_" + strings.ToLower(n), "b_" + strings.ToLower(n)}
		}
		return out
	}
	num := func(names ...string) []prop {
		out := make([]prop, len(names))
		for i, n := range names {
			out[i] = prop{n, 1.0, 2.0}
		}
		return out
	}
	flag := func(names ...string) []prop {
		out := make([]prop, len(names))
		for i, n := range names {
			out[i] = prop{n, false, true}
		}
		return out
	}
	list := func(names ...string) []prop {
		out := make([]prop, len(names))
		for i, n := range names {
			out[i] = prop{n, []any{"a"}, []any{"b"}}
		}
		return out
	}
	cat := func(lists ...[]prop) []prop { return slices.Concat(lists...) }
	for _, r := range []struct {
		typ, upstream     string
		replaces, inPlace []prop
	}{
		{TypeRole, "resource_postgresql_role.go schema l.46-195 (no ForceNew); resourcePostgreSQLRoleUpdate l.671", nil,
			cat(s("name", "password", "validUntil", "assumeRole"), flag("login", "superuser", "createDatabase", "createRole", "inherit",
				"replication", "bypassRowLevelSecurity", "encryptedPassword", "skipDropRole", "skipReassignOwned"),
				num("connectionLimit", "statementTimeout", "idleInTransactionSessionTimeout"), list("roles", "searchPaths"))},
		{TypeDatabase, "resource_postgresql_database.go ForceNew l.56, 64, 71, 78; update l.398-430",
			s("template", "encoding", "lcCollate", "lcCtype"),
			cat(s("name", "owner", "tablespaceName"), flag("alterObjectOwnership", "allowConnections", "isTemplate"), num("connectionLimit"))},
		{TypeSchema, "resource_postgresql_schema.go ForceNew l.53; update l.366", s("database"),
			cat(s("name", "owner"), flag("ifNotExists", "dropCascade"))},
		{TypeExtension, "resource_postgresql_extension.go ForceNew l.39, l.57; update l.243", s("name", "database"),
			cat(s("schema", "version"), flag("createCascade", "dropCascade"))},
		{TypeGrant, "resource_postgresql_grant.go ForceNew l.51-99; privileges updated in place (l.135)",
			cat(s("role", "database", "schema", "objectType"), list("objects", "columns"), flag("withGrantOption")), list("privileges")},
		{TypeDefaultPrivileges, "resource_postgresql_default_privileges.go ForceNew l.27-72; update = create (l.159)",
			cat(s("role", "database", "owner", "schema", "objectType"), flag("withGrantOption")), list("privileges")},
		{TypeServer, "resource_postgresql_server.go ForceNew l.43, l.54; update l.236", s("fdwName", "serverType"),
			cat(s("serverName", "serverOwner", "serverVersion"), flag("dropCascade"),
				[]prop{{"options", map[string]any{"host": "a"}, map[string]any{"host": "b"}}})},
		{TypeUserMapping, "resource_postgresql_user_mapping.go ForceNew l.34, l.40; update l.178", s("userName", "serverName"),
			[]prop{{"options", map[string]any{"user": "a"}, map[string]any{"user": "b"}}}},
		{TypeFunction, "resource_postgresql_function.go ForceNew l.54, 62, 109, 118, 174; update l.363 (CREATE OR REPLACE)",
			s("name", "schema", "database", "language", "returns"),
			cat(s("body", "volatility", "parallel"), flag("securityDefiner", "strict", "dropCascade"))},
	} {
		for _, row := range []struct {
			props    []prop
			replaces bool
		}{{r.replaces, true}, {r.inPlace, false}} {
			for _, pr := range row.props {
				name := fmt.Sprintf("%s %s replaces=%v", r.typ[strings.LastIndex(r.typ, ":")+1:], pr.name, row.replaces)
				t.Run(name, func(t *testing.T) {
					t.Logf("upstream: %s", r.upstream)
					resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: "urn:pulumi:s::p::" + r.typ + "::r",
						OldInputs: pb(t, map[string]any{pr.name: pr.old}), News: pb(t, map[string]any{pr.name: pr.new})})
					if err != nil {
						t.Fatal(err)
					}
					want := []string(nil)
					if row.replaces {
						want = []string{pr.name}
					}
					if !slices.Equal(resp.GetDiffs(), []string{pr.name}) || !slices.Equal(resp.GetReplaces(), want) {
						t.Errorf("diffs %v replaces %v; want diffs [%s] replaces %v", resp.GetDiffs(), resp.GetReplaces(), pr.name, want)
					}
				})
			}
		}
	}
}
