package sqlfuncs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// The owner's user mapping holds its password in cleartext, and its DDL would
// carry it into the server log: the writer turns every logging setting off
// for its own session first, so a password change with every logging setting
// on for the owner leaves no trace of it, and the mapping works.
func TestWriteUserMappingKeepsThePasswordOutOfTheLog(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	srv.MakeLoud(t, u.Admin)
	super := srv.Super(t, "postgres")
	rotated := "map'ping:p@ss/" + pgtest.Name("new")
	verifier, err := sqlfuncs.SCRAMVerifier(rotated)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, super, "ALTER ROLE "+u.Admin+" PASSWORD "+pgtest.QuoteLiteral(verifier))

	cfg := u.Config(u.DB, u.Admin, rotated)
	server := u.Options.WithDefaults().Server
	written, err := sqlfuncs.WriteUserMapping(ctx, cfg, server, u.Admin, rotated)
	if err != nil || !written {
		t.Fatalf("write the rotated password: written=%v err=%v", written, err)
	}
	if written, err := sqlfuncs.WriteUserMapping(ctx, cfg, server, u.Admin, rotated); err != nil || written {
		t.Fatalf("a current mapping is written again: written=%v err=%v", written, err)
	}
	owner, db := pgtest.Name("map_owner"), pgtest.Name("map_db")
	u.DropDatabaseAtCleanup(t, db)
	caller := u.CallerConn(t)
	mustCall(t, caller, "create_role", owner)
	if !mustCall(t, caller, "create_database", db, owner) {
		t.Fatal("create_database through the rewritten mapping reported no change")
	}

	// The owner's own statements are logged in full: logging was on.
	marker := "deployer-marker-" + pgtest.Name("m")
	pgtest.Exec(t, pgtest.Connect(t, cfg), "SELECT '"+marker+"'")
	log := srv.ServerLog(t, marker)
	if !strings.Contains(log, marker) {
		t.Fatal("the owner's statements are not logged: the test proves nothing")
	}
	if pgtest.SecretIn(log, rotated) || pgtest.SecretIn(log, u.AdminPass) {
		t.Fatal("the mapping's password is in the server log")
	}
}

// A session that cannot turn logging off, or a server that is not there,
// sends nothing with the password: the write fails naming what is missing.
func TestWriteUserMappingRefusals(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	secret := "refused-" + pgtest.Name("pw")
	server := u.Options.WithDefaults().Server

	// The utility role holds no SET on the logging parameters.
	_, err := sqlfuncs.WriteUserMapping(ctx, u.Config(u.DB, u.Caller, u.CallerPass), server, u.Caller, secret)
	if !errors.Is(err, sqlfuncs.ErrLoggingOn) || !strings.Contains(err.Error(), "log_min_error_statement") {
		t.Fatalf("a session that cannot turn logging off: want ErrLoggingOn naming the parameter, got %v", err)
	}
	_, err = sqlfuncs.WriteUserMapping(ctx, u.Config(u.DB, u.Admin, u.AdminPass), "no_such_server", u.Admin, secret)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("a missing server: want an error saying so, got %v", err)
	}
	for _, e := range []string{err.Error()} {
		if strings.Contains(e, secret) {
			t.Fatal("the password is in the error")
		}
	}
	if _, err := sqlfuncs.WriteUserMapping(ctx, u.Config(u.DB, u.Admin, u.AdminPass), server, u.Admin, ""); err == nil {
		t.Fatal("an empty password was written")
	}
	marker := "deployer-marker-" + pgtest.Name("r")
	pgtest.Exec(t, u.AdminConn(t, u.DB), "DO $$BEGIN RAISE LOG '"+marker+"'; END$$")
	if pgtest.SecretIn(srv.ServerLog(t, marker), secret) {
		t.Fatal("a refused write left the password in the server log")
	}
	// The mapping still holds the owner's password: create_database works.
	owner, db := pgtest.Name("ref_owner"), pgtest.Name("ref_db")
	u.DropDatabaseAtCleanup(t, db)
	caller := u.CallerConn(t)
	mustCall(t, caller, "create_role", owner)
	mustCall(t, caller, "create_database", db, owner)
}
