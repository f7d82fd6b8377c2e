// Package postgresql is the offline stand-in for pulumi-resource-postgresql:
// the resource types this project's components register, applied to the
// real PostgreSQL named in the provider config through the project's
// connection factory, with the real provider's SQL and replace-vs-update
// split. Read reports the catalog, so changes made with psql show as drift.
package postgresql

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/internal/standin"
)

// Version is the pulumi-postgresql version the stand-in answers as.
const Version = "3.17.0"

// Type tokens served.
const (
	TypeRole              = "postgresql:index/role:Role"
	TypeDatabase          = "postgresql:index/database:Database"
	TypeSchema            = "postgresql:index/schema:Schema"
	TypeExtension         = "postgresql:index/extension:Extension"
	TypeGrant             = "postgresql:index/grant:Grant"
	TypeDefaultPrivileges = "postgresql:index/defaultPrivileges:DefaultPrivileges"
	TypeServer            = "postgresql:index/server:Server"
	TypeUserMapping       = "postgresql:index/userMapping:UserMapping"
	TypeFunction          = "postgresql:index/function:Function"
)

// forceNew is the replace-vs-update table of pulumi-postgresql v3.17.0
// (the ForceNew flags of terraform-provider-postgresql v1.26.0's
// postgresql/resource_postgresql_*.go schemas). Nothing on
// a role forces replacement; renames are in place.
var forceNew = map[string][]string{
	TypeRole:              nil,
	TypeDatabase:          {"template", "encoding", "lcCollate", "lcCtype"},
	TypeSchema:            {"database"},
	TypeExtension:         {"name", "database"},
	TypeGrant:             {"role", "database", "schema", "objectType", "objects", "columns", "withGrantOption"},
	TypeDefaultPrivileges: {"role", "database", "owner", "schema", "objectType", "withGrantOption"},
	TypeServer:            {"fdwName", "serverType"},
	TypeUserMapping:       {"userName", "serverName"},
	TypeFunction:          {"name", "schema", "database", "language", "returns"},
}

// backend holds the connection settings and one pool per database.
type backend struct {
	mu      sync.Mutex
	cfg     dbconn.Config
	defDB   string
	pools   map[string]*pgxpool.Pool
	version string
}

func (b *backend) configure(args resource.PropertyMap) error {
	plain := standin.Plain(args)
	get := func(k string) string { return fmt.Sprint(plain[k]) }
	if plain["host"] == nil || plain["username"] == nil {
		return fmt.Errorf("postgresql stand-in: provider config needs host and username")
	}
	port := 5432
	if v, ok := plain["port"]; ok {
		switch p := v.(type) {
		case float64:
			port = int(p)
		case string:
			port, _ = strconv.Atoi(p)
		}
	}
	pw, _ := plain["password"].(string)
	if pw == "" {
		return fmt.Errorf("postgresql stand-in: provider config has no password")
	}
	b.defDB = "postgres"
	if d, ok := plain["database"].(string); ok && d != "" {
		b.defDB = d
	}
	mode := dbconn.VerifyFull
	if s, ok := plain["sslmode"].(string); ok && s != "" {
		mode = dbconn.SSLMode(s)
	}
	b.cfg = dbconn.Config{
		Host: get("host"), Port: port, User: get("username"), Password: literal(pw),
		SSLMode: mode, AllowInsecureTLS: mode != dbconn.VerifyFull, ApplicationName: "pulumi-resource-postgresql-standin",
		MaxConns: 2,
	}
	if r, ok := plain["sslrootcert"].(string); ok {
		b.cfg.RootCert = r
	}
	b.pools = map[string]*pgxpool.Pool{}
	return nil
}

type literal string

func (l literal) Secret(context.Context) (string, error) { return string(l), nil }
func (l literal) Describe() string                       { return "provider config password" }

func (b *backend) pool(ctx context.Context, db string) (*pgxpool.Pool, error) {
	if db == "" {
		db = b.defDB
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pools == nil {
		return nil, fmt.Errorf("postgresql stand-in: provider not configured")
	}
	if p, ok := b.pools[db]; ok {
		return p, nil
	}
	cfg := b.cfg
	cfg.Database = db
	p, err := dbconn.OpenPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b.pools[db] = p
	return p, nil
}

// exec runs statements in one transaction in db. Errors carry the SQLSTATE
// and message, never the statement (which may hold a password).
func (b *backend) exec(ctx context.Context, db string, stmts ...string) error {
	p, err := b.pool(ctx, db)
	if err != nil {
		return err
	}
	tx, err := p.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return sqlErr(err)
		}
	}
	return sqlErr(tx.Commit(ctx))
}

// execNoTx runs a statement outside a transaction (CREATE/DROP DATABASE).
func (b *backend) execNoTx(ctx context.Context, db, stmt string) error {
	p, err := b.pool(ctx, db)
	if err != nil {
		return err
	}
	_, err = p.Exec(ctx, stmt)
	return sqlErr(err)
}

func (b *backend) queryRow(ctx context.Context, db, q string, args []any, dest ...any) (bool, error) {
	p, err := b.pool(ctx, db)
	if err != nil {
		return false, err
	}
	err = p.QueryRow(ctx, q, args...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, sqlErr(err)
}

func sqlErr(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Errorf("SQLSTATE %s: %s", pgErr.Code, pgErr.Message)
	}
	return err
}

func qi(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func ql(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// grantee renders a role for GRANT/REVOKE: PUBLIC is a keyword.
func grantee(role string) string {
	if strings.EqualFold(role, "public") {
		return "PUBLIC"
	}
	return qi(role)
}

// livePrivileges is what Read reports: the live privileges, in the order of
// the state's list when they are the same set (order is never drift).
func livePrivileges(live []string, old map[string]any) []any {
	prev := standin.Strings(old, "privileges")
	if sameSet(live, prev) {
		out := make([]any, len(prev))
		for i, p := range prev {
			out[i] = p
		}
		return out
	}
	return sortedUpper(live)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[strings.ToUpper(x)]++
	}
	for _, x := range b {
		seen[strings.ToUpper(x)]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func sortedUpper(in []string) []any {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToUpper(s)
	}
	sort.Strings(out)
	res := make([]any, len(out))
	for i, s := range out {
		res[i] = s
	}
	return res
}

// NewProvider builds the stand-in; it connects once configured.
func NewProvider() (*standin.Provider, error) {
	b := &backend{}
	faults, err := standin.FaultsFromEnv(standin.Store{Dir: faultDir()})
	if err != nil {
		return nil, err
	}
	types := map[string]*standin.Type{
		TypeRole:      {Impl: &role{b}, Computed: []string{"name"}, LiveInputs: roleLiveKeys},
		TypeDatabase:  {Impl: &database{b}, Computed: []string{"owner", "encoding", "lcCollate", "lcCtype", "connectionLimit", "allowConnections", "isTemplate"}},
		TypeSchema:    {Impl: &schema{b}},
		TypeExtension: {Impl: &extension{b}, Computed: []string{"schema", "version"}},
		// privileges is Required upstream, so the bridge always carries it
		// as an input; the Go SDK drops an empty list on the way.
		TypeGrant:             {Impl: &grant{b}, DeleteBeforeReplace: true, LiveInputs: []string{"privileges"}},
		TypeDefaultPrivileges: {Impl: &defaultPrivileges{b}},
		TypeServer:            {Impl: &server{b}, Computed: []string{"serverOwner"}},
		TypeUserMapping:       {Impl: &userMapping{b}},
		TypeFunction:          {Impl: &function{b}, Computed: []string{"schema", "database"}},
	}
	for tok, t := range types {
		t.ForceNew = forceNew[tok]
		t.Defaults = schemaDefaults[tok]
	}
	types[TypeFunction].ReplaceIf = functionArgsReplace
	for _, tok := range []string{TypeRole, TypeDatabase, TypeSchema, TypeFunction} {
		types[tok].Autoname = standin.Autoname("name", "", false)
	}
	types[TypeRole].SecretOutputs = []string{"password"}
	types[TypeUserMapping].SecretOutputs = []string{"options"}
	return &standin.Provider{
		Name: "postgresql", Version: Version, Types: types, Faults: faults,
		OnConfigure: b.configure,
	}, nil
}
