package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Onboarding at load: 8 callers at once, each making its tenants one after
// the other, through the utility functions (create_role with a verifier,
// create_database through the owner's loopback login) against the same work
// done directly (CREATE ROLE, the GRANT that CREATE DATABASE … OWNER needs,
// CREATE DATABASE from the template) on 8 admin sessions. Each round starts after a CHECKPOINT and drops what it made.
const (
	onboardCallers = 8
	onboardEach    = 4
	onboardRounds  = 5
)

// onboardRound is one round of one side: its wall time and every call's.
type onboardRound struct {
	wall  time.Duration
	calls []time.Duration
}

func benchOnboarding(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	o := u.DedicatedOwner(t)
	if _, _, err := sqlfuncs.RotateLoopbackLogin(ctx, u.Config(u.DB, u.Admin, u.AdminPass), o, sqlfuncs.Rotation{}); err != nil {
		t.Fatal(err)
	}
	callers := make([]*pgx.Conn, onboardCallers)
	admins := make([]*pgx.Conn, onboardCallers)
	for i := range callers {
		callers[i] = u.CallerConn(t)
		admins[i] = u.AdminConn(t, "postgres")
	}
	verifier, err := sqlfuncs.SCRAMVerifier("bench-" + pgtest.Name("pw"))
	if err != nil {
		t.Fatal(err)
	}
	super := u.Super(t, "postgres")
	round := 0
	side := func(prefix string, onboard func(c int, role, db string) error) func() onboardRound {
		return func() onboardRound {
			round++
			pgtest.Exec(t, super, "CHECKPOINT")
			var mu sync.Mutex
			var wg sync.WaitGroup
			r := onboardRound{}
			var made [][2]string
			start := time.Now()
			for c := range onboardCallers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range onboardEach {
						role, db := fmt.Sprintf("b%s%d_%d_%d_o", prefix, round, c, i), fmt.Sprintf("b%s%d_%d_%d", prefix, round, c, i)
						s := time.Now()
						if err := onboard(c, role, db); err != nil {
							t.Errorf("%s: %v", prefix, err)
							return
						}
						mu.Lock()
						r.calls = append(r.calls, time.Since(s))
						made = append(made, [2]string{role, db})
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			r.wall = time.Since(start)
			for _, m := range made {
				pgtest.Exec(t, super, "DROP DATABASE "+m[1]+" WITH (FORCE)")
				pgtest.Exec(t, super, "DROP ROLE "+m[0])
			}
			return r
		}
	}
	var split sync.Mutex
	var roleCalls, dbCalls []time.Duration
	viaFunctions := side("f", func(c int, role, db string) error {
		s := time.Now()
		if _, err := callers[c].Exec(ctx, "SELECT utility.create_role($1, $2)", role, verifier); err != nil {
			return err
		}
		mid := time.Now()
		_, err := callers[c].Exec(ctx, "SELECT utility.create_database($1, $2)", db, role)
		split.Lock()
		roleCalls, dbCalls = append(roleCalls, mid.Sub(s)), append(dbCalls, time.Since(mid))
		split.Unlock()
		return err
	})
	direct := side("d", func(c int, role, db string) error {
		// CREATE DATABASE … OWNER needs membership in the owner (as the
		// functions grant it to their owner).
		if _, err := admins[c].Exec(ctx, "CREATE ROLE "+role+" LOGIN PASSWORD "+pgtest.QuoteLiteral(verifier)+"; GRANT "+role+" TO "+u.Admin); err != nil {
			return err
		}
		_, err := admins[c].Exec(ctx, "CREATE DATABASE "+db+" OWNER "+role+" TEMPLATE "+o.TemplateDB)
		return err
	})
	var fs, ds []onboardRound
	for i := range onboardRounds {
		if i%2 == 0 {
			fs, ds = append(fs, viaFunctions()), append(ds, direct())
		} else {
			ds, fs = append(ds, direct()), append(fs, viaFunctions())
		}
	}
	fw, dw := medianWall(fs), medianWall(ds)
	tenants := float64(onboardCallers * onboardEach)
	line := fmt.Sprintf("%-22s ratio %.2f (target >= 0.80)  %.1f vs %.1f tenants/s  per call p50 %s vs %s, p99 %s vs %s  %d callers x %d tenants, %d rounds",
		"onboarding-8-callers", dw.Seconds()/fw.Seconds(), tenants/fw.Seconds(), tenants/dw.Seconds(),
		percentile(fs, 50), percentile(ds, 50), percentile(fs, 99), percentile(ds, 99), onboardCallers, onboardEach, onboardRounds)
	t.Log(line)
	fmt.Println("BENCH " + line)
	line = fmt.Sprintf("%-22s create_role p50 %s, create_database p50 %s (breakdown of the functions' side)", "onboarding-split",
		percentile([]onboardRound{{calls: roleCalls}}, 50), percentile([]onboardRound{{calls: dbCalls}}, 50))
	t.Log(line)
	fmt.Println("BENCH " + line)
}

func medianWall(rs []onboardRound) time.Duration {
	ws := make([]time.Duration, len(rs))
	for i, r := range rs {
		ws[i] = r.wall
	}
	return median(ws)
}

// percentile is the p-th percentile of every call of every round.
func percentile(rs []onboardRound, p int) time.Duration {
	var all []time.Duration
	for _, r := range rs {
		all = append(all, r.calls...)
	}
	if len(all) == 0 {
		return 0
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return all[(len(all)-1)*p/100].Round(100 * time.Microsecond)
}
