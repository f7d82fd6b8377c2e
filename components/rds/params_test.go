package rds

import "testing"

// An extra shared_preload_libraries keeps pgaudit in the list.
func TestExtraPreloadKeepsPgaudit(t *testing.T) {
	for _, tc := range []struct{ extra, want string }{
		{"pg_stat_statements", "pg_stat_statements,pgaudit"},
		{"pgaudit, pg_cron", "pgaudit, pg_cron"},
		{"", "pgaudit"},
	} {
		got := staticParameters(map[string]string{"shared_preload_libraries": tc.extra})["shared_preload_libraries"]
		if got != tc.want {
			t.Errorf("extra %q: got %q, want %q", tc.extra, got, tc.want)
		}
	}
}
