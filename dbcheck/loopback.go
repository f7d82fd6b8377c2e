package dbcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
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
