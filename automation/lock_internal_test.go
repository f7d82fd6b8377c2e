package automation

import (
	"errors"
	"strings"
	"testing"
)

// The CLI's lock message (upstream: pkg/backend/diy/lock.go checkForLock)
// points to `pulumi cancel`, a Pulumi Cloud command: deployer names its own.
func TestLockMessageNamesDeployerUnlock(t *testing.T) {
	cli := errors.New("failed to run update: exit status 255\ncode: 255\nstdout: \nstderr: error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n  s3://state/.pulumi/locks/organization/postgis-platform/prod/x.json: created by ci@runner (pid 7) at 2026-12-04T05:00:00Z")
	got := cliError(cli).Error()
	if strings.Contains(got, "pulumi cancel") || !strings.Contains(got, "deployer unlock") || !strings.Contains(got, "pid 7") {
		t.Fatalf("rewritten: %q", got)
	}
	if !isLockError(cli) || isLockError(errors.New("update failed")) {
		t.Fatal("isLockError")
	}
	if lockLocation("s3://state/team?endpoint=http://x&region=us-east-1", ".pulumi/locks/a.json") != "s3://state/team/.pulumi/locks/a.json" {
		t.Fatalf("lockLocation: %q", lockLocation("s3://state/team?endpoint=http://x&region=us-east-1", ".pulumi/locks/a.json"))
	}
	if got := lockLocation("postgres://deployer@db:5432/pulumi?sslmode=verify-full", "k.json"); got != "postgres://db:5432/pulumi/k.json" {
		t.Fatalf("lockLocation for postgres: %q", got)
	}
}
