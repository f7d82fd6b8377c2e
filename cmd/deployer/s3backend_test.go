package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/s3test"
	"github.com/postgis-platform/deployer/stacks"
	"github.com/postgis-platform/deployer/statestore"
)

// deadLock is a lock as the CLI writes it (upstream: pkg/backend/diy/lock.go
// lockContent) by a process of this host that has ended.
func deadLock(t *testing.T) []byte {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	raw, _ := json.Marshal(map[string]any{"pid": cmd.Process.Pid, "username": "ci", "hostname": host, "timestamp": time.Now().Add(-time.Hour)})
	return raw
}

// staleLockIsFoundAndRemoved: a lock left by a killed run blocks up, naming
// deployer unlock; unlock removes it; up then runs.
func (d *deployed) staleLockIsFoundAndRemoved(t *testing.T, write func(key string, body []byte), upArgs ...string) {
	t.Helper()
	key := statestore.LockPrefix(stacks.Project, d.Name) + "0b1e2c3d-stale.json"
	write(key, deadLock(t))
	code, s, text := d.reportBinary(t, append([]string{"up"}, upArgs...)...)
	if code != 1 || s.Step != "lock" || !strings.Contains(s.Error, "stale lock") || !strings.Contains(s.Error, "deployer unlock --stack "+d.Name) || strings.Contains(text, "pulumi cancel") {
		t.Fatalf("up over a stale lock: exit %d %+v\n%s", code, s, text)
	}
	code, s, text = d.reportBinary(t, "unlock")
	if code != 0 || !strings.Contains(strings.Join(s.Notes, " "), "removed stale lock") {
		t.Fatalf("unlock: exit %d %+v\n%s", code, s, text)
	}
	if locks, err := automation.Locks(context.Background(), d.Settings.BackendURL, d.Name); err != nil || len(locks) != 0 {
		t.Fatalf("locks after unlock: %v %v", locks, err)
	}
	if code, s, text := d.reportBinary(t, append([]string{"up"}, upArgs...)...); code != 0 {
		t.Fatalf("up after unlock: exit %d %+v\n%s", code, s, text)
	}
}

// concurrentUps: while one up holds the lock, a second is refused before it
// applies anything, naming the running one; the first (a bin/deployer
// process) converges.
func (d *deployed) concurrentUps(t *testing.T) {
	t.Helper()
	d.setConfig(t, "etlCidr", "10.20.32.0/24")
	// --skip-verify: the lock seen below is the update's, not the checks'
	// preview that would follow it.
	first := d.start(t, []string{standin.LatencyEnv + "=1500ms"}, "up", "--skip-verify")
	waitFor(t, "the first run's lock", func() bool {
		locks, _ := automation.Locks(context.Background(), d.Settings.BackendURL, d.Name)
		return len(locks) > 0
	})
	code, s, text := d.report(t, "up")
	if code != 1 || s.Step != "lock" || !strings.Contains(s.Error, "still running") || len(s.Changes) != 0 || strings.Contains(text, "pulumi cancel") {
		t.Fatalf("second up: exit %d %+v\n%s", code, s, text)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first up failed: %v", err)
	}
	if got := ruleCIDR(t, d); got != "10.20.32.0/24" {
		t.Fatalf("ETL rule %q after the first up", got)
	}
}

// An S3 state backend, for real: the CLI's s3 backend on an S3-compatible
// server on loopback (the endpoint and path-style options of the s3 URL),
// state under a folder of the bucket. up, drift, a stale lock found and
// removed, and two concurrent runs.
func TestS3StateBackend(t *testing.T) {
	srv := s3test.Start(t, "deployer-state")
	l := enginetest.NewLocal(t)
	l.Settings.BackendURL = srv.URL("team-gis")
	for k, v := range s3test.Env() {
		l.Settings.Env[k] = v
	}
	l.Deploy(t)
	d := &deployed{Local: l}
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, srv.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	keys := 0
	it := b.List(&blob.ListOptions{Prefix: "team-gis/.pulumi/stacks/"})
	for obj, err := it.Next(ctx); err == nil; obj, err = it.Next(ctx) {
		if !obj.IsDir {
			keys++
		}
	}
	if keys == 0 {
		t.Fatal("the stack's state is not in the bucket's folder")
	}
	if code, s, text := d.report(t, "up"); code != 0 || s.Result != "clean" {
		t.Fatalf("up on the s3 backend: exit %d %+v\n%s", code, s, text)
	}
	if code, s, text := d.report(t, "drift"); code != 0 || s.Result != "clean" {
		t.Fatalf("drift on the s3 backend: exit %d %+v\n%s", code, s, text)
	}
	d.staleLockIsFoundAndRemoved(t, func(key string, body []byte) {
		if err := b.WriteAll(ctx, "team-gis/"+key, body, nil); err != nil {
			t.Fatal(err)
		}
	})
	d.concurrentUps(t)
	if code, _, text := d.report(t, "drift"); code != 0 {
		t.Fatalf("drift after the concurrent runs: exit %d\n%s", code, text)
	}
}
