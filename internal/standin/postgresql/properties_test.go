package postgresql

import (
	"slices"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/standintest"
)

// TestPostgreSQLReplaceOrUpdateEveryProperty: one row per property of each
// type, replace or update in place, as terraform-provider-postgresql
// v1.26.0's schema has it (ForceNew); each row names the schema and line.
func TestPostgreSQLReplaceOrUpdateEveryProperty(t *testing.T) {
	p, err := NewProvider()
	if err != nil {
		t.Fatal(err)
	}
	s, num, flag, list := standintest.Strings, standintest.Numbers, standintest.Flags, standintest.Lists
	cat := func(lists ...[]standintest.Prop) []standintest.Prop { return slices.Concat(lists...) }
	options := func(k string) []standintest.Prop {
		return []standintest.Prop{{Name: "options", Old: map[string]any{k: "a"}, New: map[string]any{k: "b"}}}
	}
	standintest.CheckReplaceOrUpdate(t, p, []standintest.Row{
		{Type: TypeRole, Upstream: "resource_postgresql_role.go schema l.46-195 (no ForceNew); resourcePostgreSQLRoleUpdate l.671",
			InPlace: cat(s("name", "password", "validUntil", "assumeRole"), flag("login", "superuser", "createDatabase", "createRole", "inherit",
				"replication", "bypassRowLevelSecurity", "encryptedPassword", "skipDropRole", "skipReassignOwned"),
				num("connectionLimit", "statementTimeout", "idleInTransactionSessionTimeout"), list("roles", "searchPaths"))},
		{Type: TypeDatabase, Upstream: "resource_postgresql_database.go ForceNew l.56, 64, 71, 78; update l.398-430",
			Replaces: s("template", "encoding", "lcCollate", "lcCtype"),
			InPlace:  cat(s("name", "owner", "tablespaceName"), flag("alterObjectOwnership", "allowConnections", "isTemplate"), num("connectionLimit"))},
		{Type: TypeSchema, Upstream: "resource_postgresql_schema.go ForceNew l.53; update l.366",
			Replaces: s("database"), InPlace: cat(s("name", "owner"), flag("ifNotExists", "dropCascade"))},
		{Type: TypeExtension, Upstream: "resource_postgresql_extension.go ForceNew l.39, l.57; update l.243",
			Replaces: s("name", "database"), InPlace: cat(s("schema", "version"), flag("createCascade", "dropCascade"))},
		{Type: TypeGrant, Upstream: "resource_postgresql_grant.go ForceNew l.51-99; privileges updated in place (l.135)",
			Replaces: cat(s("role", "database", "schema", "objectType"), list("objects", "columns"), flag("withGrantOption")), InPlace: list("privileges")},
		{Type: TypeDefaultPrivileges, Upstream: "resource_postgresql_default_privileges.go ForceNew l.27-72; update = create (l.159)",
			Replaces: cat(s("role", "database", "owner", "schema", "objectType"), flag("withGrantOption")), InPlace: list("privileges")},
		{Type: TypeServer, Upstream: "resource_postgresql_server.go ForceNew l.43, l.54; update l.236",
			Replaces: s("fdwName", "serverType"), InPlace: cat(s("serverName", "serverOwner", "serverVersion"), flag("dropCascade"), options("host"))},
		{Type: TypeUserMapping, Upstream: "resource_postgresql_user_mapping.go ForceNew l.34, l.40; update l.178",
			Replaces: s("userName", "serverName"), InPlace: options("user")},
		{Type: TypeFunction, Upstream: "resource_postgresql_function.go ForceNew l.54, 62, 109, 118, 174; update l.363 (CREATE OR REPLACE)",
			Replaces: s("name", "schema", "database", "language", "returns"),
			InPlace:  cat(s("body", "volatility", "parallel"), flag("securityDefiner", "strict", "dropCascade"))},
	})
}
