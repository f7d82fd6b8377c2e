package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
)

// auditSessions opens and closes, all at once, as many sessions as drift's
// database audit does (each a backend, a TLS handshake and a SCRAM exchange):
// the admin's in the utility database, one as each managed role, and one
// more as the admin standing in for the owner's dblink session.
func auditSessions(t *testing.T, l *enginetest.Local) func() {
	cfgs := []dbconn.Config{
		l.PG.Config(l.Names["utilityDatabase"], l.Admin, l.AdminPass),
		l.PG.Config(l.Names["appDatabase"], l.Names["etlRole"], l.Secrets["etlPassword"]),
		l.PG.Config(l.Names["appDatabase"], l.Names["tileReaderRole"], l.Secrets["tileReaderPassword"]),
		l.PG.Config(l.Names["utilityDatabase"], l.Names["utilityRole"], l.Secrets["utilityRolePassword"]),
		l.PG.Config(l.Names["utilityDatabase"], l.Admin, l.AdminPass),
	}
	return func() {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, len(cfgs))
		for i, cfg := range cfgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := dbconn.Connect(ctx, cfg)
				if err == nil {
					err = c.Close(ctx)
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("a session like the audit's: %v", err)
			}
		}
	}
}

// beside runs a and b at once and returns when both are done.
func beside(a, b func()) func() {
	return func() {
		done := make(chan struct{})
		go func() { defer close(done); b() }()
		a()
		<-done
	}
}
