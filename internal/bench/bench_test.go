// Package bench measures what users pay for the deployer, as ratios taken
// side by side in one run (absolute times are not comparable between runs on
// these machines). `make bench` runs it with DEPLOYER_BENCH=1; it is not a
// pass/fail test and is skipped otherwise.
package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// rounds is how many times each side of an engine figure runs; the database
// figures are ten times cheaper and take dbRounds.
const (
	rounds   = 11
	dbRounds = 21
)

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration{}, ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// pair times a and b alternately (ABBA), n times each, and returns the
// medians.
func pair(n int, a, b func()) (time.Duration, time.Duration) {
	return pairTimed(n, stopwatch(a), stopwatch(b))
}

// pairTimed is pair for functions that time their own work (and leave their
// set-up out).
func pairTimed(n int, a, b func() time.Duration) (time.Duration, time.Duration) {
	var as, bs []time.Duration
	for i := 0; i < n; i++ {
		// ABBA order: whichever side runs second in a round pays or gains
		// from what the first left behind (exiting plugins, warm caches).
		if i%2 == 0 {
			as = append(as, a())
			bs = append(bs, b())
		} else {
			bs = append(bs, b())
			as = append(as, a())
		}
	}
	return median(as), median(bs)
}

func stopwatch(f func()) func() time.Duration {
	return func() time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
}

func report(t *testing.T, name string, target string, a, b time.Duration, detail string) {
	line := fmt.Sprintf("%-22s ratio %.2f (%s)  medians %s vs %s  %s", name, a.Seconds()/b.Seconds(), target, a.Round(100*time.Microsecond), b.Round(100*time.Microsecond), detail)
	t.Log(line)
	fmt.Println("BENCH " + line)
}

func TestEngineBenchmarks(t *testing.T) {
	if os.Getenv("DEPLOYER_BENCH") != "1" {
		t.Skip("benchmarks run with `make bench` (DEPLOYER_BENCH=1)")
	}
	t.Run("drift and no-op up", benchDriftAndUp)
	t.Run("utility functions", benchUtility)
	t.Run("onboarding at load", benchOnboarding)
	t.Run("cost growth", benchGrowth)
	t.Run("fleet", benchFleet)
	t.Run("saved plans", benchSavedPlan)
}

func benchDriftAndUp(t *testing.T) {
	l := enginetest.NewLocal(t)
	st := l.Deploy(t)
	ctx := context.Background()
	n := countResources(t, st)

	cli := filepath.Join(testenv.PulumiRoot(t), "bin", "pulumi")
	env := os.Environ()
	for k, v := range l.Settings.Env {
		env = append(env, k+"="+v)
	}
	env = append(env, "PULUMI_BACKEND_URL="+l.Settings.BackendURL)
	bare := func() {
		cmd := exec.Command(cli, "refresh", "--preview-only", "--stack", l.Name, "--non-interactive")
		cmd.Dir, cmd.Env = l.Settings.ProjectDir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("bare refresh: %v\n%s", err, out)
		}
	}
	drift := func() {
		if r := automation.Drift(ctx, l.Settings, l.Name); r.ExitCode != 0 {
			t.Fatalf("drift: %+v", r)
		}
	}
	a, b := pair(rounds, drift, bare)
	report(t, "drift-audit", "target <= 1.05", a, b, fmt.Sprintf("the deployer's drift vs pulumi refresh --preview-only; %d resources; drift also runs the program (live rules, current credentials) and the policies", n))

	// Where drift's time goes: the engine pass it makes (an Automation API
	// preview-only refresh running the same program, with an event stream)
	// against the bare CLI, and drift against that pass (the deployer's own
	// work: the stack's config, the event reading, the policies, the report).
	enginePass := func() {
		ch := make(chan events.EngineEvent)
		go func() {
			for range ch {
			}
		}()
		if _, err := st.PreviewRefresh(ctx, optrefresh.RunProgram(true), optrefresh.EventStreams(ch)); err != nil {
			t.Fatal(err)
		}
	}
	a, b = pair(rounds, enginePass, bare)
	report(t, "drift-engine-pass", "breakdown", a, b, "Automation API preview-only refresh running the program, with events, vs pulumi refresh --preview-only: the engine's share, mostly the program run")
	a, b = pair(rounds, drift, enginePass)
	report(t, "drift-own-work", "breakdown", a, b, "the deployer's drift vs that Automation API pass: the deployer's own share")
	a, b = pair(rounds, drift, beside(bare, auditSessions(t, l)))
	report(t, "drift-vs-refresh-and-sessions", "breakdown", a, b, "the deployer's drift vs pulumi refresh --preview-only with the audit's five sessions (TLS, SCRAM) opened beside it: what the checks' logins cost set aside")

	up := func() {
		if r := automation.Up(ctx, l.Settings, l.Name); r.ExitCode != 0 || r.Result != "clean" {
			t.Fatalf("no-op up: %+v", r)
		}
	}
	preview := func() {
		if _, err := st.Preview(ctx, optpreview.Refresh()); err != nil {
			t.Fatal(err)
		}
	}
	a, b = pair(rounds, up, preview)
	report(t, "no-op-up", "target <= 1.10", a, b, fmt.Sprintf("the deployer's up (unchanged, no verify) vs Automation API preview --refresh; %d resources", n))
}

func countResources(t *testing.T, st auto.Stack) int {
	dep, err := st.Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(dep.Deployment), `"urn":`)
}

// benchUtility times tenant onboarding's database step: each round gets a
// new owner from create_role (untimed, as onboarding does before it), so the
// function takes its usual path.
func benchUtility(t *testing.T) {
	u := pgtest.NewUtility(t, pgtest.New(t))
	ctx := context.Background()
	caller := u.CallerConn(t)
	admin := u.AdminConn(t, "postgres")
	i := 0
	next := func(prefix string) (db, owner string) {
		i++
		owner = pgtest.Name(fmt.Sprintf("bench_owner_%d", i))
		if _, err := caller.Exec(ctx, "SELECT utility.create_role($1)", owner); err != nil {
			t.Fatal(err)
		}
		db = fmt.Sprintf("bench_%s_%d_%s", prefix, i, owner[len(owner)-6:])
		u.DropDatabaseAtCleanup(t, db)
		return db, owner
	}
	// Every CREATE DATABASE writes the whole template to the WAL, so the
	// rounds would soon run into checkpoints at random: each round starts
	// right after one (untimed) and drops its database afterwards.
	super := u.Super(t, "postgres")
	timed := func(prefix string, f func(db, owner string)) func() time.Duration {
		return func() time.Duration {
			db, owner := next(prefix)
			pgtest.Exec(t, super, "CHECKPOINT")
			start := time.Now()
			f(db, owner)
			d := time.Since(start)
			pgtest.Exec(t, super, "DROP DATABASE "+db+" WITH (FORCE)")
			return d
		}
	}
	viaFn := timed("fn", func(db, owner string) {
		if _, err := caller.Exec(ctx, "SELECT utility.create_database($1, $2)", db, owner); err != nil {
			t.Fatal(err)
		}
	})
	create := func(c *pgx.Conn, db, owner string) {
		pgtest.Exec(t, c, "CREATE DATABASE "+db+" OWNER "+owner+" TEMPLATE "+u.Options.TemplateDB)
	}
	direct := timed("direct", func(db, owner string) { create(admin, db, owner) })
	newSession := timed("session", func(db, owner string) {
		c := u.AdminConn(t, "postgres")
		create(c, db, owner)
		_ = c.Close(ctx)
	})

	a, b := pairTimed(dbRounds, viaFn, direct)
	report(t, "create-database", "target <= 1.30", a, b, "utility.create_database (checks, one dblink session, lock-down) vs a direct CREATE DATABASE from the same template on an open session")
	a, b = pairTimed(dbRounds, viaFn, newSession)
	report(t, "create-database-session", "breakdown", a, b, "the same function vs a direct CREATE DATABASE on a new session (connect with TLS + SCRAM, create, close): what dblink's session costs")
}

// rulesProgram is a small stack: one group and n ingress rules.
func rulesProgram(n int) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		sg, err := ec2.NewSecurityGroup(ctx, "g", &ec2.SecurityGroupArgs{VpcId: pulumi.String("vpc-1"), Description: pulumi.String("bench")})
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if _, err := vpc.NewSecurityGroupIngressRule(ctx, fmt.Sprintf("r%d", i), &vpc.SecurityGroupIngressRuleArgs{
				SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
				CidrIpv4: pulumi.String(fmt.Sprintf("10.%d.%d.0/24", i/250, i%250)), Description: pulumi.String("bench"),
			}); err != nil {
				return err
			}
		}
		return nil
	}
}

// smallStack deploys a rules stack with the platform config the deployer
// checks (values unused by the small program).
func smallStack(t *testing.T, e *enginetest.Env, name string, n int) {
	e.SmallStack(t, e.Stack(t, name, rulesProgram(n)))
}

func benchGrowth(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	var base time.Duration
	for _, n := range []int{10, 40, 160} {
		name := fmt.Sprintf("grow%d", n)
		smallStack(t, e, name, n)
		var ds []time.Duration
		for i := 0; i < 3; i++ {
			start := time.Now()
			if r := automation.Drift(ctx, e.Settings.WithProgram(rulesProgram(n)), name); r.ExitCode != 0 {
				t.Fatalf("drift %s: %+v", name, r)
			}
			ds = append(ds, time.Since(start))
		}
		m := median(ds)
		if base == 0 {
			base = m
		}
		line := fmt.Sprintf("%-22s %d resources: median %.2fs (%.2fx the 10-rule stack; resources %.0fx)", "drift-growth", n+3, m.Seconds(), m.Seconds()/base.Seconds(), float64(n+3)/13)
		t.Log(line)
		fmt.Println("BENCH " + line)
	}
}

func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(r syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	return tv(self) + tv(kids)
}

// benchFleet is drift over a fleet of small stacks (200, or
// DEPLOYER_BENCH_FLEET), serially and at --parallel 4, against the machine's
// limit, with the peak memory of the deployer's process and of the largest
// CLI or plugin process it ran.
func benchFleet(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	stacksN := 200
	if n, err := strconv.Atoi(os.Getenv("DEPLOYER_BENCH_FLEET")); err == nil && n > 0 {
		stacksN = n
	}
	var names []string
	for i := 0; i < stacksN; i++ {
		names = append(names, fmt.Sprintf("fleet%03d", i))
	}
	deployed := automation.ForEachStack(ctx, names, 4, func(ctx context.Context, name string) automation.StackReport {
		smallStack(t, e, name, 2)
		return automation.StackReport{Stack: name}
	})
	if len(deployed) != stacksN {
		t.Fatal("fleet not deployed")
	}
	s := e.Settings
	s.Env = map[string]string{}
	for k, v := range e.Settings.Env {
		s.Env[k] = v
	}
	s.Env[standin.LatencyEnv] = "150ms"
	run := func(parallel int) (time.Duration, time.Duration) {
		cpu0, start := cpuTime(), time.Now()
		reps := automation.ForEachStack(ctx, names, parallel, func(ctx context.Context, name string) automation.StackReport {
			return automation.Drift(ctx, s.WithProgram(rulesProgram(2)), name)
		})
		wall, cpu := time.Since(start), cpuTime()-cpu0
		for _, r := range reps {
			if r.ExitCode != 0 {
				t.Fatalf("%s: %+v", r.Stack, r)
			}
		}
		return wall, cpu
	}
	serialWall, serialCPU := run(1)
	parWall, parCPU := run(4)
	limit := serialWall.Seconds() / (serialCPU.Seconds() / 2)
	if limit > 4 {
		limit = 4
	}
	speedup := serialWall.Seconds() / parWall.Seconds()
	// The limit assumes each stack costs the CPU it cost alone; the parallel
	// run's own CPU time shows how busy the two cores really were.
	busy := parCPU.Seconds() / (2 * parWall.Seconds())
	self, kids := peakRSS()
	line := fmt.Sprintf("%-22s speedup %.2fx at --parallel 4 (serial %.1fs, parallel %.1fs); machine limit %.2fx (serial wall / (CPU %.1fs / 2 cores)); %.0f%% of the limit (target >= 80%%); parallel run: CPU %.1fs, cores %.0f%% busy; peak memory: deployer %d MiB, largest CLI or plugin process %d MiB",
		fmt.Sprintf("fleet-%d-stacks", stacksN), speedup, serialWall.Seconds(), parWall.Seconds(), limit, serialCPU.Seconds(), 100*speedup/limit, parCPU.Seconds(), 100*busy, self>>20, kids>>20)
	t.Log(line)
	fmt.Println("BENCH " + line)
}

// peakRSS is the peak resident memory of this process (the deployer: the
// sequences run in it) and of the largest child it waited for.
func peakRSS() (self, kids int64) {
	var s, k syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &s)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &k)
	return s.Maxrss << 10, k.Maxrss << 10 // kilobytes on Linux
}
