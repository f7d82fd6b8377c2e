package dbconn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
)

func TestValidate(t *testing.T) {
	ca := writeCA(t)
	good := dbconn.Config{Host: "db.example", Database: "gis", User: "etl", Password: dbconn.FromEnv("X"), RootCert: ca}
	tests := []struct {
		name  string
		edit  func(*dbconn.Config)
		field string // "" means valid
	}{
		{"valid", func(*dbconn.Config) {}, ""},
		{"no host", func(c *dbconn.Config) { c.Host = "" }, "Host"},
		{"bad port", func(c *dbconn.Config) { c.Port = 70000 }, "Port"},
		{"no database", func(c *dbconn.Config) { c.Database = "" }, "Database"},
		{"no user", func(c *dbconn.Config) { c.User = "" }, "User"},
		{"no password source", func(c *dbconn.Config) { c.Password = nil }, "Password"},
		{"no root cert", func(c *dbconn.Config) { c.RootCert = "" }, "RootCert"},
		{"unreadable root cert", func(c *dbconn.Config) { c.RootCert = filepath.Join(t.TempDir(), "none.pem") }, "RootCert"},
		{"root cert not PEM", func(c *dbconn.Config) { c.RootCert = writeFile(t, "junk") }, "RootCert"},
		{"require without opt-in", func(c *dbconn.Config) { c.SSLMode = dbconn.Require }, "SSLMode"},
		{"disable without opt-in", func(c *dbconn.Config) { c.SSLMode = dbconn.Disable }, "SSLMode"},
		{"unknown sslmode", func(c *dbconn.Config) { c.SSLMode = "prefer"; c.AllowInsecureTLS = true }, "SSLMode"},
		{"TLS 1.1 floor", func(c *dbconn.Config) { c.MinTLSVersion = 0x0302 }, "MinTLSVersion"},
		{"require with opt-in", func(c *dbconn.Config) { c.SSLMode = dbconn.Require; c.AllowInsecureTLS = true }, ""},
		{"disable with opt-in needs no cert", func(c *dbconn.Config) {
			c.SSLMode = dbconn.Disable
			c.AllowInsecureTLS = true
			c.RootCert = ""
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if !errors.Is(err, dbconn.ErrConfig) {
				t.Fatalf("want ErrConfig, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.field+":") {
				t.Fatalf("error %q does not name field %s", err, tc.field)
			}
		})
	}
}

func TestConnStringNeverHoldsPassword(t *testing.T) {
	const pw = "s3cr3t-p@ss"
	c := dbconn.Config{Host: "h", Database: "d", User: "u", Password: pgtest.Literal(pw), RootCert: "/ca.pem"}
	for _, s := range []string{c.ConnString(), c.String()} {
		if strings.Contains(s, pw) || strings.Contains(s, "password") {
			t.Fatalf("connection string reveals the password: %s", s)
		}
	}
	want := "host='h' port=5432 dbname='d' user='u' sslmode=verify-full sslrootcert='/ca.pem' application_name='deployer' connect_timeout=10"
	if got := c.ConnString(); got != want {
		t.Fatalf("ConnString\n got %s\nwant %s", got, want)
	}
}

func TestSecretSources(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DBCONN_TEST_EMPTY", "")
	t.Setenv("DBCONN_TEST_SET", "value")
	empty := writeFile(t, "\n")
	full := writeFile(t, "from-file\n")
	tests := []struct {
		name    string
		src     dbconn.SecretSource
		want    string
		mention string
	}{
		{"env unset", dbconn.FromEnv("DBCONN_TEST_UNSET"), "", "DBCONN_TEST_UNSET"},
		{"env empty", dbconn.FromEnv("DBCONN_TEST_EMPTY"), "", "DBCONN_TEST_EMPTY"},
		{"env set", dbconn.FromEnv("DBCONN_TEST_SET"), "value", ""},
		{"file missing", dbconn.FromFile("/nonexistent/secret"), "", "/nonexistent/secret"},
		{"file empty", dbconn.FromFile(empty), "", empty},
		{"file set", dbconn.FromFile(full), "from-file", ""},
		{"hook empty", dbconn.SecretFunc("secret manager entry gis/etl", func(context.Context) (string, error) { return "", nil }), "", "gis/etl"},
		{"hook set", dbconn.SecretFunc("sm", func(context.Context) (string, error) { return "v", nil }), "v", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.src.Secret(ctx)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, dbconn.ErrMissingSecret) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("want ErrMissingSecret naming %q, got %v", tc.mention, err)
			}
		})
	}
}

func TestConnectVerifyFull(t *testing.T) {
	srv := pgtest.New(t)
	ctx := context.Background()
	cfg := srv.SuperConfig("postgres")
	cfg.ApplicationName = "dbconn-test/verify-full"
	conn := pgtest.Connect(t, cfg)
	var ssl bool
	var version, app string
	err := conn.QueryRow(ctx, `SELECT s.ssl, s.version, a.application_name
		FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE pid = pg_backend_pid()`).Scan(&ssl, &version, &app)
	if err != nil {
		t.Fatal(err)
	}
	if !ssl || (version != "TLSv1.3" && version != "TLSv1.2") {
		t.Fatalf("want TLS, got ssl=%v version=%q", ssl, version)
	}
	if app != "dbconn-test/verify-full" {
		t.Fatalf("application_name = %q", app)
	}
}

func TestConnectRefusals(t *testing.T) {
	srv := pgtest.New(t)
	ctx := context.Background()

	t.Run("sslmode=disable is refused by the server", func(t *testing.T) {
		cfg := srv.SuperConfig("postgres")
		cfg.SSLMode = dbconn.Disable
		cfg.AllowInsecureTLS = true
		_, err := dbconn.Connect(ctx, cfg)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "28000" {
			t.Fatalf("want SQLSTATE 28000 (pg_hba reject), got %v", err)
		}
	})
	t.Run("wrong CA fails verification", func(t *testing.T) {
		cfg := srv.SuperConfig("postgres")
		cfg.RootCert = writeCA(t)
		_, err := dbconn.Connect(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Fatalf("want unknown authority, got %v", err)
		}
	})
	t.Run("missing secret fails before connecting", func(t *testing.T) {
		cfg := srv.SuperConfig("postgres")
		cfg.Password = dbconn.FromEnv("DBCONN_TEST_NOT_SET")
		_, err := dbconn.Connect(ctx, cfg)
		if !errors.Is(err, dbconn.ErrMissingSecret) || !strings.Contains(err.Error(), "DBCONN_TEST_NOT_SET") {
			t.Fatalf("want ErrMissingSecret naming the variable, got %v", err)
		}
	})
	t.Run("wrong password does not echo it", func(t *testing.T) {
		cfg := srv.SuperConfig("postgres")
		cfg.Password = pgtest.Literal("not-the-password-XYZ")
		_, err := dbconn.Connect(ctx, cfg)
		if err == nil || strings.Contains(err.Error(), "not-the-password-XYZ") {
			t.Fatalf("want an auth error without the password, got %v", err)
		}
	})
}

func TestPasswordWithSpecialCharacters(t *testing.T) {
	srv := pgtest.New(t)
	ctx := context.Background()
	super := srv.Super(t, "postgres")
	role := pgtest.Name("dbconn_special")
	pw := `p@ss:w/rd?#x y'z\q`
	pgtest.Exec(t, super, "CREATE ROLE "+role+" LOGIN PASSWORD '"+strings.ReplaceAll(pw, "'", "''")+"'")
	t.Cleanup(func() { pgtest.Exec(t, srv.Super(t, "postgres"), "DROP ROLE IF EXISTS "+role) })

	t.Setenv("DBCONN_TEST_PW", pw)
	cfg := srv.Config("postgres", role, "")
	cfg.Password = dbconn.FromEnv("DBCONN_TEST_PW")
	conn := pgtest.Connect(t, cfg)
	var who string
	if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&who); err != nil || who != role {
		t.Fatalf("current_user = %q, %v", who, err)
	}
}

func TestPool(t *testing.T) {
	srv := pgtest.New(t)
	ctx := context.Background()
	cfg := srv.SuperConfig("postgres")
	cfg.MaxConns = 2
	cfg.ApplicationName = "dbconn-test/pool"
	pool, err := dbconn.OpenPool(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pc := pool.Config()
	if pc.MaxConns != 2 || pc.MaxConnLifetime >= 30*time.Minute || pc.MaxConnLifetime+pc.MaxConnLifetimeJitter >= 30*time.Minute {
		t.Fatalf("pool bounds: max=%d lifetime=%s jitter=%s", pc.MaxConns, pc.MaxConnLifetime, pc.MaxConnLifetimeJitter)
	}
	if pc.ShouldPing == nil || !pc.ShouldPing(ctx, poolPingParams(2*time.Second)) {
		t.Fatal("an idle connection is not health-checked before use")
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbconn-test/pool'").Scan(&n); err != nil || n < 1 {
		t.Fatalf("pooled sessions visible as application_name: n=%d err=%v", n, err)
	}
	pool.Close()
	if err := pool.Ping(ctx); err == nil {
		t.Fatal("ping after Close succeeded")
	}
}

func TestOpenPoolUnreachable(t *testing.T) {
	ca := writeCA(t)
	cfg := dbconn.Config{Host: "127.0.0.1", Port: 1, Database: "d", User: "u", Password: pgtest.Literal("pw-ABC"), RootCert: ca, ConnectTimeout: 2 * time.Second}
	_, err := dbconn.OpenPool(context.Background(), cfg)
	if err == nil || strings.Contains(err.Error(), "pw-ABC") || !strings.Contains(err.Error(), `database "d"`) {
		t.Fatalf("want a connect error naming the database and not the password, got %v", err)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeCA writes a fresh self-signed CA that signed nothing the server uses.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wrong-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

func poolPingParams(idle time.Duration) pgxpool.ShouldPingParams {
	return pgxpool.ShouldPingParams{IdleDuration: idle}
}

// TestSearchPathFromTheFirstStatement: a session given SearchPath resolves
// no name through public, from its first statement on; without it, the
// server's default applies.
func TestSearchPathFromTheFirstStatement(t *testing.T) {
	srv := pgtest.New(t)
	ctx := context.Background()
	for _, c := range []struct{ set, want string }{
		{"pg_catalog, pg_temp", "pg_catalog, pg_temp"},
		{"", `"$user", public`},
	} {
		cfg := srv.SuperConfig("postgres")
		cfg.SearchPath = c.set
		conn := pgtest.Connect(t, cfg)
		var got string
		if err := conn.QueryRow(ctx, "SHOW search_path").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("SearchPath %q: search_path = %q, want %q", c.set, got, c.want)
		}
	}
}
