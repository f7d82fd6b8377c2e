// Package dbconn is the one way this project (and programs that import it)
// connects to PostgreSQL: pgx v5 over TLS with sslmode=verify-full and an
// explicit root certificate, credentials from secret sources, application_name
// always set, and a bounded, health-checked pool.
package dbconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SSLMode is a libpq sslmode. Only VerifyFull checks the server's identity.
type SSLMode string

// The sslmodes the factory accepts. Anything but VerifyFull needs
// Config.AllowInsecureTLS and is meant for local development only.
const (
	VerifyFull SSLMode = "verify-full"
	VerifyCA   SSLMode = "verify-ca"
	Require    SSLMode = "require"
	Disable    SSLMode = "disable"
)

// Defaults applied by Config when a field is zero.
const (
	DefaultApplicationName = "deployer"
	DefaultConnectTimeout  = 10 * time.Second
	DefaultMaxConns        = 4
	// DefaultMaxConnLifetime stays below the ~30 minute idle timeouts of load
	// balancers and NAT gateways so connections are recycled before they are cut.
	DefaultMaxConnLifetime = 25 * time.Minute
	DefaultMaxConnIdleTime = 5 * time.Minute
	DefaultPingAfterIdle   = time.Second
)

// ErrConfig is returned (wrapped) for configuration errors found before any
// connection is tried.
var ErrConfig = errors.New("invalid database connection config")

// Config describes one database to connect to. Zero values take safe defaults.
type Config struct {
	Host     string
	Port     int // default 5432
	Database string
	User     string
	// Password is where the password comes from; it is read at connect time and
	// must yield a non-empty value.
	Password SecretSource
	// RootCert is the PEM file of the CA that signed the server certificate
	// (for RDS: the region's global bundle). Required unless SSLMode is Disable.
	RootCert string
	// SSLMode defaults to VerifyFull. A weaker mode also needs AllowInsecureTLS.
	SSLMode SSLMode
	// AllowInsecureTLS permits SSLMode other than VerifyFull, with a warning in
	// the log. For local development only.
	AllowInsecureTLS bool
	// MinTLSVersion is the lowest TLS version accepted (default TLS 1.2).
	MinTLSVersion uint16
	// ApplicationName tags the session in pg_stat_activity (default "deployer";
	// use "deployer/<stack>" or your workload's name).
	ApplicationName string
	ConnectTimeout  time.Duration
	// SearchPath, when set, is the session's search_path from its first
	// statement (a startup parameter): "pg_catalog, pg_temp" for a session
	// that reads the catalogs of a database others may create objects in.
	SearchPath string

	// Pool settings (used by OpenPool).
	MaxConns        int32
	MaxConnLifetime time.Duration
	MaxConnIdleTime time.Duration
	// PingAfterIdle: a pooled connection idle at least this long is pinged
	// before it is handed out (the health check before use).
	PingAfterIdle time.Duration

	// Logger receives warnings (never secrets). Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = 5432
	}
	if c.SSLMode == "" {
		c.SSLMode = VerifyFull
	}
	if c.MinTLSVersion == 0 {
		c.MinTLSVersion = tls.VersionTLS12
	}
	if c.ApplicationName == "" {
		c.ApplicationName = DefaultApplicationName
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxConnLifetime == 0 {
		c.MaxConnLifetime = DefaultMaxConnLifetime
	}
	if c.MaxConnIdleTime == 0 {
		c.MaxConnIdleTime = DefaultMaxConnIdleTime
	}
	if c.PingAfterIdle == 0 {
		c.PingAfterIdle = DefaultPingAfterIdle
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func configErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...))
}

// Validate checks the config without connecting: required fields, the TLS
// mode, and that the root certificate exists and parses.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Host == "" {
		return configErr("Host", "is empty; set the database host name (it must match the server certificate)")
	}
	if c.Port < 1 || c.Port > 65535 {
		return configErr("Port", "%d is out of range 1-65535", c.Port)
	}
	if c.Database == "" {
		return configErr("Database", "is empty; name the database to connect to")
	}
	if c.User == "" {
		return configErr("User", "is empty; name the login role")
	}
	if c.Password == nil {
		return configErr("Password", "has no source; use dbconn.FromEnv, FromFile or SecretFunc")
	}
	switch c.SSLMode {
	case VerifyFull:
	case VerifyCA, Require, Disable:
		if !c.AllowInsecureTLS {
			return configErr("SSLMode", "%q does not verify the server's identity; use verify-full with RootCert, or set AllowInsecureTLS for local development", c.SSLMode)
		}
	default:
		return configErr("SSLMode", "%q is not one of verify-full, verify-ca, require, disable", c.SSLMode)
	}
	if c.MinTLSVersion < tls.VersionTLS12 {
		return configErr("MinTLSVersion", "below TLS 1.2 is not allowed")
	}
	if c.SSLMode != Disable {
		if c.RootCert == "" {
			return configErr("RootCert", "is empty; give the PEM file of the CA that signed the server certificate (for RDS, the region's bundle)")
		}
		pem, err := os.ReadFile(c.RootCert)
		if err != nil {
			return configErr("RootCert", "cannot read %s: %v", c.RootCert, errors.Unwrap(err))
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return configErr("RootCert", "%s holds no PEM certificate", c.RootCert)
		}
	}
	if c.MaxConns < 1 {
		return configErr("MaxConns", "must be at least 1")
	}
	return nil
}

// quote renders a libpq keyword/value, escaping backslashes and quotes.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// ConnString returns the keyword/value connection string without the password,
// safe to log or show.
func (c Config) ConnString() string {
	c = c.withDefaults()
	parts := []string{
		"host=" + quote(c.Host),
		"port=" + strconv.Itoa(c.Port),
		"dbname=" + quote(c.Database),
		"user=" + quote(c.User),
		"sslmode=" + string(c.SSLMode),
	}
	if c.SSLMode != Disable && c.RootCert != "" {
		parts = append(parts, "sslrootcert="+quote(c.RootCert))
	}
	parts = append(parts,
		"application_name="+quote(c.ApplicationName),
		"connect_timeout="+strconv.Itoa(int((c.ConnectTimeout+time.Second-1)/time.Second)),
	)
	return strings.Join(parts, " ")
}

// String is the redacted connection string, so a Config is safe in logs.
func (c Config) String() string { return c.ConnString() }

// ConnConfig validates c, reads the password and returns a pgx config. The
// password is set on the struct, never written into a string.
func (c Config) ConnConfig(ctx context.Context) (*pgx.ConnConfig, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	if c.SSLMode != VerifyFull {
		c.Logger.Warn("database connection without server identity verification: local development only",
			"sslmode", string(c.SSLMode), "host", c.Host, "database", c.Database)
	}
	pw, err := c.Password.Secret(ctx)
	if err != nil {
		return nil, fmt.Errorf("password for %s@%s: %w", c.User, c.Host, err)
	}
	if pw == "" {
		return nil, fmt.Errorf("password for %s@%s from %s: %w", c.User, c.Host, c.Password.Describe(), ErrMissingSecret)
	}
	cc, err := pgx.ParseConfig(c.ConnString())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	cc.Password = pw
	cc.ConnectTimeout = c.ConnectTimeout
	if c.SearchPath != "" {
		cc.RuntimeParams["search_path"] = c.SearchPath
	}
	// Apply the TLS floor to the primary address and every fallback tried.
	if cc.TLSConfig != nil {
		cc.TLSConfig.MinVersion = c.MinTLSVersion
	}
	for _, fb := range cc.Fallbacks {
		if fb.TLSConfig != nil {
			fb.TLSConfig.MinVersion = c.MinTLSVersion
		}
	}
	return cc, nil
}

// Connect opens a single connection (for short tools and checks).
func Connect(ctx context.Context, c Config) (*pgx.Conn, error) {
	cc, err := c.ConnConfig(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", c.describe(), err)
	}
	return conn, nil
}

// OpenPool opens a bounded pool: connections are recycled before load-balancer
// idle timeouts, idle ones are pinged before use, and Close shuts it down.
func OpenPool(ctx context.Context, c Config) (*pgxpool.Pool, error) {
	cc, err := c.ConnConfig(ctx)
	if err != nil {
		return nil, err
	}
	c = c.withDefaults()
	pc, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("pool config: %w", err)
	}
	pc.ConnConfig = cc
	pc.MaxConns = c.MaxConns
	pc.MaxConnLifetime = c.MaxConnLifetime
	pc.MaxConnLifetimeJitter = c.MaxConnLifetime / 10
	pc.MaxConnIdleTime = c.MaxConnIdleTime
	pc.HealthCheckPeriod = time.Minute
	pc.PingTimeout = c.ConnectTimeout
	pingAfter := c.PingAfterIdle
	pc.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool {
		return p.IdleDuration >= pingAfter
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open pool for %s: %w", c.describe(), err)
	}
	// Fail now, not at first use, when the database cannot be reached.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", c.describe(), err)
	}
	return pool, nil
}

func (c Config) describe() string {
	c = c.withDefaults()
	return fmt.Sprintf("database %q on %s:%d as %q (sslmode=%s)", c.Database, c.Host, c.Port, c.User, c.SSLMode)
}
