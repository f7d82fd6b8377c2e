// Package pgtest gives tests superuser and per-role connections to the local TLS
// PostgreSQL cluster (scripts/pg), always through the dbconn factory.
package pgtest

import (
	"strconv"

	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// Server is the local cluster as seen by one test.
type Server struct {
	testenv.PG
}

// New returns the local cluster or skips/fails the test (see testenv).
func New(t testing.TB) Server {
	t.Helper()
	return Server{PG: testenv.PostgreSQL(t)}
}

// Config returns a verify-full config for user/password on database db.
func (s Server) Config(db, user, password string) dbconn.Config {
	return dbconn.Config{
		Host:            s.Host,
		Port:            s.Port,
		Database:        db,
		User:            user,
		Password:        Literal(password),
		RootCert:        s.CAFile,
		ApplicationName: "deployer-test",
	}
}

// SuperConfig returns a verify-full config for the cluster's superuser.
func (s Server) SuperConfig(db string) dbconn.Config {
	return s.Config(db, s.SuperUser, s.SuperPassword())
}

// Connect opens a connection with cfg and closes it when the test ends.
func Connect(t testing.TB, cfg dbconn.Config) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := dbconn.Connect(ctx, cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// Super opens a superuser connection to db, closed when the test ends.
func (s Server) Super(t testing.TB, db string) *pgx.Conn {
	t.Helper()
	return Connect(t, s.SuperConfig(db))
}

// Exec runs SQL on conn and fails the test on error.
func Exec(t testing.TB, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// Name returns a unique lower-case identifier with the given prefix.
func Name(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// Literal is a SecretSource over a value held by a test.
type Literal string

// Secret returns the value.
func (l Literal) Secret(context.Context) (string, error) { return string(l), nil }

// Describe names the source without the value.
func (l Literal) Describe() string { return "test literal" }

// QuoteLiteral quotes s as an SQL string literal.
func QuoteLiteral(s string) string { return literal(s) }

// ConnectQuiet opens a connection the caller closes, for clean-up code that
// must not fail the test.
func ConnectQuiet(cfg dbconn.Config) (*pgx.Conn, error) { return connectQuiet(cfg) }

func connectQuiet(cfg dbconn.Config) (*pgx.Conn, error) {
	return dbconn.Connect(context.Background(), cfg)
}

// CreateAdmin creates a login role as RDS creates its master user: CREATEDB
// and CREATEROLE, no superuser, a member of rds_superuser (which scripts/pg
// gives only what RDS's has and a plain PostgreSQL lacks: SET on the logging
// parameters, for the user mapping writer's session).
func (s Server) CreateAdmin(t testing.TB, name, password string) {
	t.Helper()
	super := s.Super(t, "postgres")
	Exec(t, super, "CREATE ROLE "+name+" LOGIN CREATEDB CREATEROLE IN ROLE rds_superuser PASSWORD "+literal(password))
}

// ProviderConfig is the stack config of a default postgresql provider that
// logs in to db on this cluster as admin, with verify-full TLS and no
// superuser.
func (s Server) ProviderConfig(admin, password, db string) auto.ConfigMap {
	return auto.ConfigMap{
		"postgresql:host": {Value: s.Host}, "postgresql:port": {Value: strconv.Itoa(s.Port)},
		"postgresql:username": {Value: admin}, "postgresql:password": {Value: password, Secret: true},
		"postgresql:sslmode": {Value: "verify-full"}, "postgresql:sslrootcert": {Value: s.CAFile},
		"postgresql:superuser": {Value: "false"}, "postgresql:database": {Value: db},
	}
}
