package sqlfuncs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// An attack runs as one role on a fresh connection. It succeeds when it is
// not refused with an SQL error (unless warnOnly: PostgreSQL answers some
// attempts with a warning and no change), or when it changes the catalog.
type attack struct {
	as       string // "utility", "tenant" or "app"
	name     string
	sql      string
	args     []any
	connect  string // instead of sql: log in as the role to this database
	warnOnly bool
}

// tally counts attacks and prints the suite's line when the test ends.
type tally struct{ tried, succeeded int }

func (c *tally) report(t *testing.T) {
	t.Helper()
	fmt.Printf("attacks: %d tried, %d succeeded\n", c.tried, c.succeeded)
	if c.succeeded > 0 {
		t.Errorf("attacks: %d of %d succeeded", c.succeeded, c.tried)
	}
}

func (w *attackWorld) conn(t *testing.T, as string) *pgx.Conn {
	t.Helper()
	switch as {
	case "tenant":
		return w.TenantConn(t)
	case "app":
		return w.AppConn(t)
	}
	return w.CallerConn(t)
}

func (w *attackWorld) login(as, db string) error {
	user, pass := w.Caller, w.CallerPass
	switch as {
	case "tenant":
		user, pass = w.Tenant, w.TenantPass
	case "app":
		user, pass = w.ETL, w.ETLPass
	}
	c, err := pgxConnect(w.Config(db, user, pass))
	if err == nil {
		_ = c.Close(context.Background())
	}
	return err
}

// run tries one attack and says why it succeeded ("" when it was refused).
func (w *attackWorld) run(t *testing.T, a attack) string {
	t.Helper()
	before := w.snapshot(t)
	var err error
	if a.connect != "" {
		err = w.login(a.as, a.connect)
	} else {
		c := w.conn(t, a.as)
		_, err = c.Exec(context.Background(), a.sql, a.args...)
		_ = c.Close(context.Background())
	}
	var pgErr *pgconn.PgError
	refused := errors.As(err, &pgErr)
	if err != nil && !refused {
		t.Fatalf("%s: not an SQL refusal but %v", a.name, err)
	}
	if after := w.snapshot(t); after != before {
		return "the catalog changed:\n" + diffLines(before, after)
	}
	if !refused && !a.warnOnly {
		return "it was not refused"
	}
	return ""
}

func diffLines(a, b string) string {
	old := map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		old[l] = true
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if !old[l] {
			out = append(out, "  + "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestAttackSuite runs every attack of attackTable as the utility role, a
// tenant and an application role, each against a catalog snapshot, then the
// outcomes around each function call (transaction control, cancellation,
// killed sessions, concurrency). It prints "attacks: N tried, M succeeded".
func TestAttackSuite(t *testing.T) {
	w := newAttackWorld(t)
	var c tally
	defer c.report(t)
	for _, a := range attackTable(w) {
		c.tried++
		if why := w.run(t, a); why != "" {
			c.succeeded++
			t.Errorf("attack as %s %q succeeded: %s", a.as, a.name, why)
		}
	}
	for _, o := range outcomeTable(w) {
		c.tried++
		if why := o.run(t, w); why != "" {
			c.succeeded++
			t.Errorf("outcome %q left the platform unsafe: %s", o.name, why)
		}
	}
}
