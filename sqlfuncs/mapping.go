package sqlfuncs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/postgis-platform/deployer/dbconn"
)

// A user mapping's password is cleartext in its DDL: pgaudit's DDL class,
// log_statement, duration logging, sampled transactions, a failed statement
// (log_min_error_statement) and pg_stat_statements would each keep the
// statement's text, so the postgresql provider's user mapping resource would
// put the owner's password into the server log. WriteUserMapping writes the
// mapping on a session of its own with all of them turned off.

// quietSetting is one session setting that must hold while the mapping's
// statement runs. Optional settings belong to a module that may not be
// loaded (then nothing of it logs); a required one that cannot be set stops
// the write before any statement with the password is sent.
type quietSetting struct {
	name, value string
	optional    bool // only when the server knows the parameter
	bestEffort  bool // tried; a refusal leaves a documented gap, no log
}

var quietSettings = []quietSetting{
	// First, so a refusal below is not logged with its statement either.
	{name: "log_min_error_statement", value: "panic"},
	{name: "log_statement", value: "none"},
	{name: "log_min_duration_statement", value: "-1"},
	{name: "log_min_duration_sample", value: "-1"},
	// Decided when a transaction starts: set before BEGIN.
	{name: "log_transaction_sample_rate", value: "0"},
	{name: "debug_print_parse", value: "off"},
	{name: "debug_print_rewritten", value: "off"},
	{name: "debug_print_plan", value: "off"},
	{name: "pgaudit.log", value: "none", optional: true},
	{name: "pg_stat_statements.track_utility", value: "off", optional: true},
	// pg_stat_activity shows a running statement to the same role and to
	// pg_read_all_stats for its few milliseconds; not a log, and RDS may
	// refuse the master user this one.
	{name: "track_activities", value: "off", bestEffort: true},
}

// ErrLoggingOn is returned when a setting that would log the mapping's
// statement cannot be turned off for the writer's session.
var ErrLoggingOn = errors.New("statement logging cannot be turned off for this session")

// WriteUserMapping makes the user mapping of user on server hold exactly
// {user, password}, logged in with cfg (the functions' owner, connected to
// the database holding the server). It writes nothing when the mapping is
// already current, and sends no statement holding the password unless every
// logging setting above is off for its session; the server must exist. It
// reports whether it wrote. Errors never carry the password.
func WriteUserMapping(ctx context.Context, cfg dbconn.Config, server, user, password string) (bool, error) {
	if server == "" || user == "" || password == "" {
		return false, errors.New("user mapping: server, user and password are required")
	}
	conn, err := dbconn.Connect(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("user mapping: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if err := quietSession(ctx, conn); err != nil {
		return false, fmt.Errorf("user mapping for %s on server %s: %w", user, server, err)
	}
	written, err := writeMapping(ctx, conn, server, user, password)
	if err != nil {
		return false, fmt.Errorf("user mapping for %s on server %s: %w", user, server, err)
	}
	return written, nil
}

// quietSession turns every quiet setting on for the session and reads each
// back, so a refusal or an override stops the write.
func quietSession(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "SET standard_conforming_strings = on"); err != nil {
		return fmt.Errorf("standard_conforming_strings: %w", err)
	}
	for _, s := range quietSettings {
		var current *string
		if err := conn.QueryRow(ctx, "SELECT pg_catalog.current_setting($1, true)", s.name).Scan(&current); err != nil {
			return fmt.Errorf("read %s: %w", s.name, err)
		}
		if current == nil && s.optional {
			continue // the module is not loaded: nothing of it logs
		}
		_, err := conn.Exec(ctx, "SELECT pg_catalog.set_config($1, $2, false)", s.name, s.value)
		if err != nil && s.bestEffort {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %s (grant the admin SET on it, as rds_superuser has on RDS, or turn it off in the parameter group)", ErrLoggingOn, s.name, sqlMessage(err))
		}
		if err := conn.QueryRow(ctx, "SELECT pg_catalog.current_setting($1)", s.name).Scan(&current); err != nil {
			return fmt.Errorf("read %s: %w", s.name, err)
		}
		if !sameSetting(*current, s.value) && !s.bestEffort {
			return fmt.Errorf("%w: %s is still %q", ErrLoggingOn, s.name, *current)
		}
	}
	return nil
}

func sameSetting(got, want string) bool {
	return strings.EqualFold(strings.TrimSpace(got), want)
}

// writeMapping checks and writes the mapping in one transaction, serialised
// with other writers by an advisory lock.
func writeMapping(ctx context.Context, conn *pgx.Conn, server, user, password string) (bool, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('deployer.user-mapping'))"); err != nil {
		return false, err
	}
	state, err := ReadMappingState(ctx, tx, server, user, password)
	if err != nil {
		return false, err
	}
	switch state {
	case MappingNoServer:
		// Nothing is sent: a failed statement would be logged with its text.
		return false, fmt.Errorf("the server does not exist in database %s (deploy the utility database first)", conn.Config().Database)
	case MappingCurrent:
		return false, nil
	}
	want := map[string]string{"user": user, "password": password}
	stmts := []string{"CREATE USER MAPPING FOR " + quoteIdent(user) + " SERVER " + quoteIdent(server) + " OPTIONS (" + optionList(want, "") + ")"}
	if state == MappingDiffers {
		stmts = append([]string{"DROP USER MAPPING FOR " + quoteIdent(user) + " SERVER " + quoteIdent(server)}, stmts...)
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return false, fmt.Errorf("write: %s", sqlMessage(err)) // never the statement
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("commit: %s", sqlMessage(err))
	}
	return true, nil
}

// MappingState is how a user mapping compares with the login it must hold.
type MappingState string

// The states ReadMappingState reports.
const (
	MappingCurrent  MappingState = "current"   // exactly {user, password}
	MappingMissing  MappingState = "missing"   // no mapping for the user
	MappingDiffers  MappingState = "differs"   // another password, or other options
	MappingNoServer MappingState = "no-server" // the server itself is missing
)

// ReadMappingState compares the mapping of user on server with {user,
// password}, as the mapping's user (or the server's owner) sees it. It only
// reads.
func ReadMappingState(ctx context.Context, db DB, server, user, password string) (MappingState, error) {
	var exists bool
	if err := db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_server WHERE srvname = $1)", server).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		return MappingNoServer, nil
	}
	var opts []string
	err := db.QueryRow(ctx, `SELECT COALESCE(umoptions, '{}') FROM pg_catalog.pg_user_mappings
		WHERE srvname = $1 AND usename = $2`, server, user).Scan(&opts)
	if errors.Is(err, pgx.ErrNoRows) {
		return MappingMissing, nil
	}
	if err != nil {
		return "", err
	}
	have := map[string]string{}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		have[k] = v
	}
	if maps.Equal(have, map[string]string{"user": user, "password": password}) {
		return MappingCurrent, nil
	}
	return MappingDiffers, nil
}

// sqlMessage is an error's SQLSTATE and message, without any statement text.
func sqlMessage(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return "SQLSTATE " + pgErr.Code + ": " + pgErr.Message
	}
	return err.Error()
}
