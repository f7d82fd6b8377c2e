package pgtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ServerLog reads the cluster's log once it holds marker (the server writes
// it asynchronously), or after ten seconds.
func (s Server) ServerLog(t testing.TB, marker string) string {
	t.Helper()
	path := filepath.Join(s.Dir, "log", "server.log")
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read the server log: %v", err)
		}
		if strings.Contains(string(b), marker) || time.Now().After(deadline) {
			return string(b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SecretIn reports whether text holds secret as it is or as the body of an
// SQL string literal (a quote doubled), the form a logged statement has.
func SecretIn(text, secret string) bool {
	return strings.Contains(text, secret) || strings.Contains(text, strings.ReplaceAll(secret, "'", "''"))
}

// LoudLogging are role settings that make PostgreSQL and pgaudit keep every
// statement's text in the server log: what a careless admin sets, or an
// attacker who wants the next password a statement carries. Apply them with
// ALTER ROLE … SET.
var LoudLogging = []string{
	"log_statement = 'all'", "log_min_duration_statement = 0", "log_min_duration_sample = 0",
	"log_statement_sample_rate = 1", "log_transaction_sample_rate = 1", "log_min_error_statement = 'debug5'",
	"pgaudit.log = 'all'", "debug_print_parse = on", "debug_print_rewritten = on", "debug_print_plan = on",
}

// MakeLoud applies LoudLogging to role (as the superuser).
func (s Server) MakeLoud(t testing.TB, role string) {
	t.Helper()
	super := s.Super(t, "postgres")
	for _, set := range LoudLogging {
		Exec(t, super, "ALTER ROLE "+role+" SET "+set)
	}
}

// FailedLogins counts the logins the server refused to user for its
// password (the FATAL line PostgreSQL logs for each), from the cluster's log
// as it stands: what a monitor of failed logins (RDS's log, GuardDuty) sees.
// A line the superuser logs first marks the point the count reaches, since
// the server writes its log asynchronously.
func (s Server) FailedLogins(t testing.TB, user string) int {
	t.Helper()
	marker := "deployer-count-" + Name("failed")
	Exec(t, s.Super(t, "postgres"), "DO $$BEGIN RAISE LOG '"+marker+"'; END$$")
	n := 0
	for _, line := range strings.Split(s.ServerLog(t, marker), "\n") {
		if strings.Contains(line, `password authentication failed for user "`+user+`"`) {
			n++
		}
	}
	return n
}
