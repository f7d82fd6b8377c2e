package sqlfuncs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/postgis-platform/deployer/dbconn"
)

// LoopbackLogin is the functions' owner's way back into the cluster as the
// admin sees it: which login its user mapping names, since when, and whether
// a dblink session opened with it logs in. It never holds the password.
type LoopbackLogin struct {
	State MappingState `json:"state"`
	// Login is the login role the mapping names ("" when there is none).
	Login string `json:"login,omitempty"`
	// Since is when deployer last set that login's password (zero when
	// unknown: set by hand, or by an older version).
	Since time.Time `json:"since,omitzero"`
	// Detail says why the state is not current (an SQLSTATE and message).
	Detail string `json:"detail,omitempty"`
}

// MappingNotOwner is the state of a utility database whose functions' owner
// is not prepared yet (PrepareOwner has not run, or the admin is no longer a
// member of the owner), so the mapping cannot be read.
const MappingNotOwner MappingState = "owner-not-prepared"

// sinceMarker starts the owner role's comment in which a rotation records
// its login and time.
const sinceMarker = "deployer: loopback login "

// ReadLoopbackLogin reads the owner's mapping, as the admin in the utility
// database, and opens a dblink session with it (the only proof that its
// password is the login's). It changes nothing: it runs in a transaction it
// rolls back.
func ReadLoopbackLogin(ctx context.Context, conn *pgx.Conn, o Options, admin string) (LoopbackLogin, error) {
	o = o.WithDefaults()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return LoopbackLogin{}, err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	return readLoopback(ctx, tx, o, admin)
}

// readLoopback is ReadLoopbackLogin inside tx (left usable: every statement
// that may fail runs under a savepoint).
func readLoopback(ctx context.Context, tx pgx.Tx, o Options, admin string) (LoopbackLogin, error) {
	var server, member bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_server WHERE srvname = $1),
		EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $2) AND pg_catalog.pg_has_role($3, $2, 'MEMBER')`,
		o.Server, o.Owner, admin).Scan(&server, &member); err != nil {
		return LoopbackLogin{}, fmt.Errorf("read the loopback login: %w", err)
	}
	switch {
	case !server:
		return LoopbackLogin{State: MappingNoServer}, nil
	case !member:
		return LoopbackLogin{State: MappingNotOwner, Detail: admin + " is not a member of " + o.Owner}, nil
	}
	l := LoopbackLogin{State: MappingCurrent}
	var comment *string
	if err := tx.QueryRow(ctx, `SELECT pg_catalog.shobj_description(oid, 'pg_authid') FROM pg_catalog.pg_roles WHERE rolname = $1`, o.Owner).Scan(&comment); err != nil {
		return l, fmt.Errorf("read the loopback login: %w", err)
	}
	// As the owner (pg_user_mappings shows a mapping's options to its own
	// user), in a savepoint always rolled back: the role does not stick.
	err := readOnly(ctx, tx, func(sp pgx.Tx) error {
		if _, err := sp.Exec(ctx, "SET LOCAL ROLE "+quoteIdent(o.Owner)); err != nil {
			return err
		}
		var opts []string
		err := sp.QueryRow(ctx, `SELECT COALESCE(umoptions, '{}') FROM pg_catalog.pg_user_mappings WHERE srvname = $1 AND usename = $2`, o.Server, o.Owner).Scan(&opts)
		if errors.Is(err, pgx.ErrNoRows) {
			l.State = MappingMissing
			return nil
		}
		if err != nil {
			return err
		}
		for _, kv := range opts {
			if k, v, _ := strings.Cut(kv, "="); k == "user" {
				l.Login = v
			}
		}
		if l.Login != o.LoopbackLogins()[0] && l.Login != o.LoopbackLogins()[1] {
			l.State, l.Detail = MappingDiffers, fmt.Sprintf("the mapping logs in as %q, not as %s or %s", l.Login, o.LoopbackLogins()[0], o.LoopbackLogins()[1])
			return nil
		}
		dl := quoteIdent(o.DblinkSchema)
		if err := inSavepoint(ctx, sp, func(t pgx.Tx) error {
			_, err := t.Exec(ctx, "SELECT "+dl+".dblink_connect($1), "+dl+".dblink_disconnect()", o.Server)
			return err
		}); err != nil {
			l.State, l.Detail = MappingDiffers, "a dblink session with it does not log in: "+sqlMessage(err)+connectDetail(err)
		}
		return nil
	})
	if err != nil {
		return l, fmt.Errorf("read the loopback login as %s: %s", o.Owner, sqlMessage(err))
	}
	if comment != nil {
		if rest, ok := strings.CutPrefix(*comment, sinceMarker+l.Login+" since "); ok {
			l.Since, _ = time.Parse(time.RFC3339, rest)
		}
	}
	return l, nil
}

// connectDetail is libpq's reason for a failed dblink connection (SQLSTATE
// 08001 carries it as the detail: "password authentication failed for user
// …"; never a password).
func connectDetail(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "08001" && pgErr.Detail != "" {
		return " (" + strings.TrimSpace(pgErr.Detail) + ")"
	}
	return ""
}

// readOnly runs f in a savepoint of tx that is always rolled back.
func readOnly(ctx context.Context, tx pgx.Tx, f func(pgx.Tx) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = sp.Rollback(ctx) }()
	return f(sp)
}

// inSavepoint runs f in a savepoint of tx, rolled back when f fails.
func inSavepoint(ctx context.Context, tx pgx.Tx, f func(pgx.Tx) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if err := f(sp); err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	return sp.Commit(ctx)
}

// Rotation says when RotateLoopbackLogin gives the owner a new login.
type Rotation struct {
	// Force rotates whatever the state (`deployer rotate`).
	Force bool
	// MaxAge rotates a login whose password is older (0: never by age).
	MaxAge time.Duration
}

// clockSkew is how far the login's recorded age may be ahead of the caller's
// clock (the server's clock wrote it) before Due takes it for a hand edit.
const clockSkew = 5 * time.Minute

// Due says why l must get a new login at now, or "" when it need not. An age
// not recorded, or recorded in the future, is due: a hand edit of the
// owner's comment cannot put the rotation off.
func (r Rotation) Due(l LoopbackLogin, now time.Time) string {
	switch {
	case r.Force:
		return "rotation asked for"
	case l.State != MappingCurrent:
		return "the mapping is " + string(l.State)
	case r.MaxAge > 0 && l.Since.IsZero():
		return "the login's age is not recorded (the owner's comment was changed by hand?)"
	case r.MaxAge > 0 && l.Since.After(now.Add(clockSkew)):
		// A date to come would put the rotation off until then.
		return "the login's recorded age, " + l.Since.UTC().Format(time.RFC3339) + ", is in the future (the owner's comment was changed by hand?)"
	case r.MaxAge > 0 && now.Sub(l.Since) > r.MaxAge:
		return "the login is older than " + r.MaxAge.String()
	}
	return ""
}

// RotateLoopbackLogin keeps the functions' owner's way back in working,
// logged in with cfg as the admin to the utility database: it prepares the
// owner (PrepareOwner), and when r says so (or the mapping does not log in)
// it gives the login the mapping does not name a new random password (sent
// as its SCRAM verifier) and moves the mapping to that login, in one
// transaction. A call that read the mapping just before still logs in with
// the login it read, whose password is unchanged, so no call fails during a
// rotation. The session's statement logging is off first (quietSession), as
// the mapping's DDL holds the password. It drops the admin's own mapping on
// the server, which older versions wrote with the master password. It
// returns the login now in use and whether it rotated.
func RotateLoopbackLogin(ctx context.Context, cfg dbconn.Config, o Options, r Rotation) (string, bool, error) {
	if err := o.Validate(); err != nil {
		return "", false, err
	}
	o = o.WithDefaults()
	conn, err := dbconn.Connect(ctx, cfg)
	if err != nil {
		return "", false, fmt.Errorf("loopback login: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if err := quietSession(ctx, conn); err != nil {
		return "", false, fmt.Errorf("loopback login of %s: %w", o.Owner, err)
	}
	login, rotated, err := rotate(ctx, conn, o, cfg.User, r)
	for try := 1; err != nil && concurrentCatalogChange(err) && try < 5; try++ {
		// A grant on the same objects committed meanwhile (a provider's,
		// in the same update): the transaction rolled back; run it again.
		time.Sleep(time.Duration(try) * 200 * time.Millisecond)
		login, rotated, err = rotate(ctx, conn, o, cfg.User, r)
	}
	if err != nil {
		return "", false, fmt.Errorf("loopback login of %s: %w", o.Owner, err)
	}
	if rotated {
		after, err := ReadLoopbackLogin(ctx, conn, o, cfg.User)
		if err != nil || after.State != MappingCurrent {
			return login, true, fmt.Errorf("loopback login of %s: the new login does not work: %s %v", o.Owner, after.Detail, err)
		}
	}
	return login, rotated, nil
}

// rotate is RotateLoopbackLogin's transaction, serialised with other writers
// by an advisory lock.
func rotate(ctx context.Context, conn *pgx.Conn, o Options, admin string, r Rotation) (string, bool, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return "", false, err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('deployer.user-mapping'))"); err != nil {
		return "", false, err
	}
	// The dblink check below sees what is committed; whatever this
	// transaction changes is in place, with the mapping, when it commits.
	if err := PrepareOwner(ctx, tx, o, admin); err != nil {
		return "", false, err
	}
	l, err := readLoopback(ctx, tx, o, admin)
	if err != nil {
		return "", false, err
	}
	if l.State == MappingNoServer || l.State == MappingNotOwner {
		// Nothing is sent: a failed statement would be logged with its text.
		return "", false, fmt.Errorf("cannot write the mapping (%s): deploy the utility database first", l.State)
	}
	// Older versions mapped the admin itself, with the master password.
	if _, err := tx.Exec(ctx, "DROP USER MAPPING IF EXISTS FOR "+quoteIdent(admin)+" SERVER "+quoteIdent(o.Server)); err != nil {
		return "", false, fmt.Errorf("drop the admin's own mapping: %s", sqlMessage(err))
	}
	now := time.Now().UTC().Truncate(time.Second)
	if r.Due(l, now) == "" {
		if err := tx.Commit(ctx); err != nil {
			return "", false, fmt.Errorf("commit: %s", sqlMessage(err))
		}
		return l.Login, false, nil
	}
	next := o.LoopbackLogins()[0]
	if l.Login == next {
		next = o.LoopbackLogins()[1]
	}
	password := randomPassword()
	verifier, err := SCRAMVerifier(password)
	if err != nil {
		return "", false, err
	}
	owner, server := quoteIdent(o.Owner), quoteIdent(o.Server)
	stmts := []string{
		// What a hand edit could have left on the login (an expiry, a
		// setting such as default_transaction_read_only) goes first.
		"ALTER ROLE " + quoteIdent(next) + " PASSWORD " + quoteLiteral(verifier) + " VALID UNTIL 'infinity'",
		"ALTER ROLE " + quoteIdent(next) + " RESET ALL",
		"DO $$BEGIN EXECUTE pg_catalog.format('ALTER ROLE %I IN DATABASE %I RESET ALL', " + quoteLiteral(next) + ", pg_catalog.current_database()); END$$",
		"DROP USER MAPPING IF EXISTS FOR " + owner + " SERVER " + server,
		"CREATE USER MAPPING FOR " + owner + " SERVER " + server + " OPTIONS (" +
			optionList(map[string]string{"user": next, "password": password}, "") + ")",
		"COMMENT ON ROLE " + owner + " IS " + quoteLiteral(sinceMarker+next+" since "+now.Format(time.RFC3339)),
	}
	// The login left behind logs in a little longer, for calls that read the
	// mapping just before, then its password expires: a leaked one stops
	// working without a second rotation.
	prev := o.LoopbackLogins()[0]
	if prev == next {
		prev = o.LoopbackLogins()[1]
	}
	stmts = append(stmts, fmt.Sprintf("DO $$BEGIN EXECUTE pg_catalog.format('ALTER ROLE %%I VALID UNTIL %%L', %s, pg_catalog.now() + interval '%d seconds'); END$$",
		quoteLiteral(prev), int(LoginGrace.Seconds()))) // the server's clock
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return "", false, fmt.Errorf("rotate: %s", sqlMessage(err)) // never the statement
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return "", false, fmt.Errorf("rotate: commit: %s", sqlMessage(err))
	}
	return next, true, nil
}

// LoginGrace is how long the login a rotation leaves still logs in (its
// password then expires): long enough for a call that read the mapping just
// before the rotation to log in.
const LoginGrace = 2 * time.Minute

// concurrentCatalogChange reports an error PostgreSQL raises when another
// session changed the same catalog row (a GRANT on the same function, say).
func concurrentCatalogChange(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message == "tuple concurrently updated" || pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return strings.Contains(err.Error(), "tuple concurrently updated")
}

// randomPassword is 32 random letters and digits (190 bits).
func randomPassword() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
