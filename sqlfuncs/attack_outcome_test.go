package sqlfuncs_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// An outcome interrupts or races one function call and then checks the
// platform's promise: no database made by the functions is open to anyone
// but its owner, and a plain re-run finishes the job.
type outcome struct {
	name string
	run  func(t *testing.T, w *attackWorld) string
}

func outcomeTable(w *attackWorld) []outcome {
	var out []outcome
	for _, f := range []string{"create_database", "create_role"} {
		out = append(out, outcome{"rollback after " + f, rollbackAfter(f)})
	}
	out = append(out, outcome{"rollback after create_role and create_database", rollbackBoth})
	for _, ms := range []int{1, 5, 20, 50, 100, 150, 300} {
		out = append(out, outcome{fmt.Sprintf("statement_timeout %dms", ms), timeoutDuring(ms)})
	}
	for _, ms := range []int{0, 10, 40, 80, 160} {
		out = append(out,
			outcome{fmt.Sprintf("caller terminated after %dms", ms), killDuring(ms, false)},
			outcome{fmt.Sprintf("dblink session terminated after %dms", ms), killDuring(ms, true)},
		)
	}
	return append(out,
		outcome{"8 concurrent create_database of one name", concurrentCreate(8, false)},
		outcome{"8 concurrent create_database of one name, two owners", concurrentCreate(8, true)},
		outcome{"8 concurrent create_role of one name", concurrentRoles(8)},
		outcome{"serializable caller", isolated("SERIALIZABLE")},
		outcome{"repeatable read caller", isolated("REPEATABLE READ")},
	)
}

// settle checks the promise for db: closed to all but its owner now, and
// after a plain re-run created, locked down and open to its owner alone.
func (w *attackWorld) settle(t *testing.T, db, owner string) string {
	t.Helper()
	if open := w.openDatabases(t); len(open) > 0 {
		return fmt.Sprintf("open to PUBLIC after the interruption: %v", open)
	}
	if err := w.login("app", db); err == nil {
		return "the application role logged in to " + db
	}
	caller := w.CallerConn(t)
	defer caller.Close(context.Background())
	if _, err := call(caller, "create_role", owner, nil); err != nil {
		return "re-run of create_role: " + err.Error()
	}
	if _, err := call(caller, "create_database", db, owner); err != nil {
		return "re-run of create_database: " + err.Error()
	}
	if open := w.openDatabases(t); len(open) > 0 {
		return fmt.Sprintf("open to PUBLIC after the re-run: %v", open)
	}
	var allowed bool
	if err := w.super(t, "postgres").QueryRow(context.Background(), "SELECT datallowconn FROM pg_database WHERE datname = $1", db).Scan(&allowed); err != nil || !allowed {
		return fmt.Sprintf("after the re-run the database does not take connections: %v %v", allowed, err)
	}
	return ""
}

func (w *attackWorld) fresh() (db, owner string) {
	return pgtest.Name(w.Token + "_db"), pgtest.Name(w.Token + "_t")
}

// withTenant opens a caller connection (closed when the test ends) and
// makes a fresh tenant role through it; db is a fresh database name.
func (w *attackWorld) withTenant(t *testing.T) (c *pgx.Conn, db, owner string, err error) {
	db, owner = w.fresh()
	c = w.CallerConn(t)
	_, err = call(c, "create_role", owner, nil)
	return c, db, owner, err
}

func rollbackAfter(f string) func(*testing.T, *attackWorld) string {
	return func(t *testing.T, w *attackWorld) string {
		db, owner := w.fresh()
		c := w.CallerConn(t)
		defer c.Close(context.Background())
		ctx := context.Background()
		if f == "create_database" {
			if _, err := call(c, "create_role", owner, nil); err != nil {
				return err.Error()
			}
		}
		tx, err := c.Begin(ctx)
		if err != nil {
			return err.Error()
		}
		args := []any{owner, nil}
		if f == "create_database" {
			args = []any{db, owner}
		}
		ph := "$1, $2"
		if _, err := tx.Exec(ctx, "SELECT utility."+f+"("+ph+")", args...); err != nil {
			return err.Error()
		}
		_ = tx.Rollback(ctx)
		return w.settle(t, db, owner)
	}
}

func rollbackBoth(t *testing.T, w *attackWorld) string {
	db, owner := w.fresh()
	c := w.CallerConn(t)
	defer c.Close(context.Background())
	ctx := context.Background()
	tx, err := c.Begin(ctx)
	if err != nil {
		return err.Error()
	}
	// create_database runs in its own session, which cannot see a role this
	// transaction has not committed: it must refuse, and leave nothing open.
	_, err = tx.Exec(ctx, "SELECT utility.create_role($1, NULL), utility.create_database($2, $1)", owner, db)
	if err == nil {
		return "create_database used a role the caller has not committed"
	}
	_ = tx.Rollback(ctx)
	return w.settle(t, db, owner)
}

func timeoutDuring(ms int) func(*testing.T, *attackWorld) string {
	return func(t *testing.T, w *attackWorld) string {
		c, db, owner, err := w.withTenant(t)
		if err != nil {
			return err.Error()
		}
		ctx := context.Background()
		if _, err := c.Exec(ctx, fmt.Sprintf("SET statement_timeout = '%dms'", ms)); err != nil {
			return err.Error()
		}
		_, _ = call(c, "create_database", db, owner) // may time out anywhere
		return w.settle(t, db, owner)
	}
}

// killDuring terminates, after ms, the caller's backend or the dblink
// session create_database opened as the functions' owner.
func killDuring(ms int, dblinkSide bool) func(*testing.T, *attackWorld) string {
	return func(t *testing.T, w *attackWorld) string {
		c, db, owner, err := w.withTenant(t)
		if err != nil {
			return err.Error()
		}
		ctx := context.Background()
		var pid int
		if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return err.Error()
		}
		done := make(chan struct{})
		go func() { defer close(done); _, _ = call(c, "create_database", db, owner) }()
		time.Sleep(time.Duration(ms) * time.Millisecond)
		q := "SELECT pg_terminate_backend($1)"
		arg := any(pid)
		if dblinkSide {
			q = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND datname = $2"
			arg = w.Admin
		}
		super := w.super(t, "postgres")
		if dblinkSide {
			_, _ = super.Exec(ctx, q, arg, w.DB)
		} else {
			_, _ = super.Exec(ctx, q, arg)
		}
		<-done
		_ = c.Close(ctx)
		return w.settle(t, db, owner)
	}
}

// race runs call on n caller connections at once and counts the callers
// that changed something and those that failed.
func (w *attackWorld) race(t *testing.T, n int, call func(i int, c *pgx.Conn) (bool, error)) (created, failed int) {
	conns := make([]*pgx.Conn, n)
	for i := range conns {
		conns[i] = w.CallerConn(t)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := call(i, c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
			} else if ok {
				created++
			}
		}()
	}
	wg.Wait()
	for _, c := range conns {
		_ = c.Close(context.Background())
	}
	return created, failed
}

func concurrentCreate(n int, twoOwners bool) func(*testing.T, *attackWorld) string {
	return func(t *testing.T, w *attackWorld) string {
		setup, db, owner, err := w.withTenant(t)
		if err != nil {
			return err.Error()
		}
		_, owner2 := w.fresh()
		if _, err := call(setup, "create_role", owner2, nil); err != nil {
			return err.Error()
		}
		created, failed := w.race(t, n, func(i int, c *pgx.Conn) (bool, error) {
			if twoOwners && i%2 == 1 {
				return call(c, "create_database", db, owner2)
			}
			return call(c, "create_database", db, owner)
		})
		if created != 1 {
			return fmt.Sprintf("%d callers created the database (failed %d), want 1", created, failed)
		}
		if !twoOwners && failed > 0 {
			return fmt.Sprintf("%d callers failed", failed)
		}
		var dbOwner string
		_ = w.super(t, "postgres").QueryRow(context.Background(), "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", db).Scan(&dbOwner)
		return w.settle(t, db, dbOwner)
	}
}

func concurrentRoles(n int) func(*testing.T, *attackWorld) string {
	return func(t *testing.T, w *attackWorld) string {
		db, owner := w.fresh()
		v, err := sqlfuncs.SCRAMVerifier("concurrent")
		if err != nil {
			return err.Error()
		}
		created, failed := w.race(t, n, func(_ int, c *pgx.Conn) (bool, error) { return call(c, "create_role", owner, v) })
		if created != 1 || failed > 0 {
			return fmt.Sprintf("%d callers created the role, %d failed; want 1 and 0", created, failed)
		}
		return w.settle(t, db, owner)
	}
}

// isolated calls the functions from a transaction at a stricter isolation
// level, where the caller's snapshot cannot see what dblink commits.
func isolated(level string) func(*testing.T, *attackWorld) string {
	return func(t *testing.T, w *attackWorld) string {
		c, db, owner, err := w.withTenant(t)
		if err != nil {
			return err.Error()
		}
		ctx := context.Background()
		tx, err := c.Begin(ctx)
		if err != nil {
			return err.Error()
		}
		if _, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL "+level); err != nil {
			return err.Error()
		}
		if _, err := tx.Exec(ctx, "SELECT utility.create_database($1, $2)", db, owner); err != nil {
			_ = tx.Rollback(ctx)
			if !strings.Contains(err.Error(), "must run in a READ COMMITTED transaction") {
				return "the call failed: " + err.Error()
			}
			return w.settle(t, db, owner) // refused with nothing done; a plain re-run finishes
		}
		if err := tx.Commit(ctx); err != nil {
			return err.Error()
		}
		return w.settle(t, db, owner)
	}
}
