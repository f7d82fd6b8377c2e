package statestore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// tableName is what the CLI accepts in practice: a (schema-qualified) plain
// identifier; upstream pastes `table` into its SQL unquoted.
var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// pgStore reads the CLI's PostgreSQL backend table (upstream:
// pkg/backend/diy/postgres/bucket.go: key TEXT PRIMARY KEY, data JSON holding
// {"data": base64 of the blob}).
type pgStore struct {
	conn  *pgx.Conn
	table string
	empty bool
}

func openPostgres(ctx context.Context, u *url.URL) (Store, error) {
	// Upstream NewPostgresBucket: `table` (default pulumi_state) is removed
	// from the URL before it reaches the driver.
	q := u.Query()
	table := q.Get("table")
	if table == "" {
		table = "pulumi_state"
	}
	if !tableName.MatchString(table) {
		return nil, fmt.Errorf("backend URL: table %q is not a plain table name (letters, digits, _; optionally schema.table)", table)
	}
	q.Del("table")
	conn := *u
	conn.RawQuery = q.Encode()
	c, err := pgx.Connect(ctx, conn.String())
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("connect to the state database: %s (%s)", pe.Message, pe.Code)
		}
		return nil, fmt.Errorf("connect to the state database: %w", err)
	}
	var exists bool
	if err := c.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
		_ = c.Close(ctx)
		return nil, fmt.Errorf("look up the state table %s: %w", table, err)
	}
	return &pgStore{conn: c, table: table, empty: !exists}, nil
}

func (s *pgStore) List(ctx context.Context, prefix string) ([]string, error) {
	if s.empty {
		return nil, nil
	}
	// Upstream ListPaged: WHERE key LIKE prefix || '%' ORDER BY key. The
	// prefix is escaped here so `_` in a stack name matches only itself.
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
	rows, err := s.conn.Query(ctx, "SELECT key FROM "+s.table+" WHERE key LIKE $1 ORDER BY key", like)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	return keys, nil
}

func (s *pgStore) Read(ctx context.Context, key string) ([]byte, error) {
	if s.empty {
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	var data []byte
	err := s.conn.QueryRow(ctx, "SELECT data::text FROM "+s.table+" WHERE key = $1", key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	var wrapped struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return base64.StdEncoding.DecodeString(wrapped.Data)
}

func (s *pgStore) Delete(ctx context.Context, key string) error {
	if s.empty {
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	tag, err := s.conn.Exec(ctx, "DELETE FROM "+s.table+" WHERE key = $1", key)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return nil
}

// Write upserts a key as the CLI does (upstream v3.230.0:
// pkg/backend/diy/postgres/bucket.go postgresWriter.Close: the data is
// {"data": base64 of the blob}, updated_at set anew).
func (s *pgStore) Write(ctx context.Context, key string, data []byte) error {
	if s.empty {
		return fmt.Errorf("write %s: the backend holds no stack yet (no table %s): %w", key, s.table, ErrNotFound)
	}
	wrapped, err := json.Marshal(struct {
		Data string `json:"data"`
	}{base64.StdEncoding.EncodeToString(data)})
	if err != nil {
		return err
	}
	if _, err := s.conn.Exec(ctx, "INSERT INTO "+s.table+" (key, data) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET data = $2, updated_at = now()", key, string(wrapped)); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

func (s *pgStore) Close() error { return s.conn.Close(context.Background()) }
