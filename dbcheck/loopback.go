package dbcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/sqlfuncs"
)

// checkLoopbackTLS checks that dblink reaches the server over verified TLS:
// the loopback server's options (edited by hand, they would send the owner's
// password in the clear, or to another host) say sslmode verify-full with a
// root certificate.
func checkLoopbackTLS(ctx context.Context, conn *pgx.Conn, server string) (Result, error) {
	r := Result{Name: "loopback server " + server + ": dblink connects with verify-full TLS"}
	var opts []string
	err := conn.QueryRow(ctx, "SELECT COALESCE(srvoptions, '{}') FROM pg_catalog.pg_foreign_server WHERE srvname = $1", server).Scan(&opts)
	if errors.Is(err, pgx.ErrNoRows) {
		r.Found, r.Fix = "the server is missing", "deployer up --refresh"
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("check the loopback server: %w", err)
	}
	have := map[string]string{}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		have[k] = v
	}
	if r.OK = have["sslmode"] == "verify-full" && have["sslrootcert"] != ""; !r.OK {
		r.Found = fmt.Sprintf("sslmode %q, sslrootcert %q", have["sslmode"], have["sslrootcert"])
		r.Fix = "deployer up --refresh puts the server's options back"
	}
	return r, nil
}

// checkLoopbackLogin opens a dblink session through the owner's user mapping
// (as the admin, who may act as the owner): create_database fails unless it
// logs in.
func checkLoopbackLogin(ctx context.Context, conn *pgx.Conn, u Utility, admin string) (Result, error) {
	o := u.Options.WithDefaults()
	r := Result{Name: "utility functions' owner " + o.Owner + ": its loopback login works"}
	l, err := sqlfuncs.ReadLoopbackLogin(ctx, conn, o, admin)
	if err != nil {
		return r, err
	}
	if r.OK = l.State == sqlfuncs.MappingCurrent; !r.OK {
		r.Found = "the user mapping is " + string(l.State)
		if l.Detail != "" {
			r.Found += ": " + l.Detail
		}
		r.Fix = "deployer rotate (a new login for the owner), or deployer up --refresh"
		return r, nil
	}
	// It logs in today; an expiry or settings on the login it names break
	// create_database later (a read-only default, a short timeout).
	var expires *string
	var settings []string
	// Settings for every database and for this one (the loopback server's).
	if err := conn.QueryRow(ctx, `SELECT CASE WHEN rolvaliduntil IS NULL OR rolvaliduntil = 'infinity' THEN NULL ELSE rolvaliduntil::text END,
			ARRAY(SELECT c FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) c
				WHERE s.setrole = r.oid AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())) ORDER BY 1)
			FROM pg_catalog.pg_roles r WHERE r.rolname = $1`, l.Login).Scan(&expires, &settings); err != nil {
		return r, fmt.Errorf("check the loopback login %s: %w", l.Login, err)
	}
	var found []string
	if expires != nil {
		found = append(found, "it expires at "+*expires)
	}
	if len(settings) > 0 {
		found = append(found, "it has settings of its own: "+strings.Join(settings, "; "))
	}
	if r.OK = len(found) == 0; !r.OK {
		r.Found = "the mapping names " + l.Login + ", and " + strings.Join(found, ", and ")
		r.Fix = "deployer rotate (the other login, without expiry or settings), then ALTER ROLE " + quoteIdent(l.Login) + " RESET ALL as the admin"
	}
	return r, nil
}

// checkOwnerGaps lists what the next deployer up would put back for the
// functions' owner and its logins (sqlfuncs.OwnerGaps): a tenant not granted
// to them fails create_database, a login changed by hand holds too much.
func checkOwnerGaps(ctx context.Context, conn *pgx.Conn, u Utility, admin string) (Result, error) {
	o := u.Options.WithDefaults()
	r := Result{Name: "utility functions' owner " + o.Owner + ": it and its logins hold what onboarding needs and no more"}
	gaps, err := sqlfuncs.OwnerGaps(ctx, conn, o, admin)
	if err != nil {
		return r, err
	}
	if r.OK = len(gaps) == 0; !r.OK {
		r.Found = "deployer up would run: " + strings.Join(gaps, "; ")
		r.Fix = "deployer up (its program puts these back)"
	}
	return r, nil
}
