package stacks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// editRuleCIDR changes the ETL rule's CIDR in the stand-in cloud, as a
// console edit does.
func editRuleCIDR(t *testing.T, l *enginetest.Local, from, to string) {
	t.Helper()
	n := 0
	err := l.AWSCloud().Update(func(c *standin.Cloud) error {
		for _, o := range c.OfType(aws.TypeIngressRule) {
			if o.Props["cidrIpv4"] == from {
				o.Props["cidrIpv4"] = to
				n++
			}
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("edit the rule in the cloud: %v (%d rules matched)", err, n)
	}
}

// addHandRule adds a rule made by hand to the ETL rule's group in the
// stand-in cloud.
func addHandRule(t *testing.T, l *enginetest.Local, id string) {
	t.Helper()
	err := l.AWSCloud().Update(func(c *standin.Cloud) error {
		var gid string
		for _, o := range c.OfType(aws.TypeIngressRule) {
			if o.Props["cidrIpv4"] == "10.20.30.0/24" {
				gid, _ = o.Props["securityGroupId"].(string)
			}
		}
		c.Objects[id] = &standin.Object{Type: aws.TypeIngressRule, ID: id, Props: map[string]any{
			"securityGroupId": gid, "ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrIpv4": "192.168.7.0/24",
		}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// noFailedLogins fails the test when the admin's failed logins in the
// server log moved from *count; it moves *count on.
func noFailedLogins(t *testing.T, l *enginetest.Local, count *int, after string) {
	t.Helper()
	if n := l.PG.FailedLogins(t, l.Admin); n != *count {
		t.Errorf("%s after the rotation tried the old password: %d failed login(s) of the admin's", after, n-*count)
		*count = n
	}
}

// A rotation together with drift (a console edit, a user mapping edited by
// hand): drift, preview and reconcile's plan report it with the current
// credential, and up stops on it before it writes anything, the credential
// and the mapping included. Nothing tries the old password. (Found by an
// outside attack: up repaired the mapping through the credential's targeted
// update and reported clean; preview and reconcile logged in with the old
// password 44 times and failed.)
func TestRotationWithDriftStopsBeforeWriting(t *testing.T) {
	l := enginetest.NewLocal(t)
	l.Deploy(t)
	ctx := context.Background()
	o := sqlfuncs.Options{UtilityRole: l.Names["utilityRole"]}.WithDefaults()
	pgtest.Exec(t, l.PG.Super(t, l.Names["utilityDatabase"]), "ALTER USER MAPPING FOR "+o.Owner+" SERVER "+o.Server+" OPTIONS (SET password 'guessed')")
	addHandRule(t, l, "sgr-byhand")
	editRuleCIDR(t, l, "10.20.30.0/24", "10.20.31.0/24")
	l.RotateMasterSecret(t)
	failed := l.PG.FailedLogins(t, l.Admin)

	if r := automation.Drift(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitChanges || len(r.Changes) != 2 || len(r.Unmanaged) != 1 {
		t.Fatalf("drift: want the rule, the mapping and the rule made by hand, got %+v", r)
	}
	noFailedLogins(t, l, &failed, "drift")
	r := automation.Preview(ctx, l.Settings, l.Name)
	if r.ExitCode == automation.ExitError || !strings.Contains(strings.Join(r.Notes, "\n"), "live state differs") {
		t.Fatalf("preview: want the drift noted, got %+v", r)
	}
	noFailedLogins(t, l, &failed, "preview")
	r = automation.Reconcile(ctx, l.Settings, l.Name, automation.ReconcileRequest{DeleteUnmanaged: []string{"sgr-byhand"}, BackupDir: t.TempDir()})
	if r.ExitCode == automation.ExitError {
		t.Fatalf("reconcile after a rotation: %+v", r)
	}
	noFailedLogins(t, l, &failed, "reconcile")
	r = automation.Up(ctx, l.Settings, l.Name)
	if r.ExitCode != automation.ExitBlocked || r.Step != "drift" {
		t.Fatalf("up over drift after a rotation: want exit 3 at drift, got %+v", r)
	}
	noFailedLogins(t, l, &failed, "up")
	// Nothing was written: the mapping is still the hand-edited one.
	if r := automation.Drift(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitChanges || len(r.Changes) != 2 || len(r.Unmanaged) != 0 {
		t.Fatalf("drift after the stopped up: want the same two changes (the rule made by hand reconciled away), got %+v", r)
	}
}

// A rotation together with a plan that replaces the database instance: the
// refresh that judges such a plan needs the stored providers, whose password
// no longer logs in. Preview says so and names the fix, and never tries it.
func TestRotationWithReplacementPlanTriesNoOldPassword(t *testing.T) {
	l := enginetest.NewLocal(t)
	st := l.Deploy(t)
	ctx := context.Background()
	l.RotateMasterSecret(t)
	failed := l.PG.FailedLogins(t, l.Admin)
	if err := st.SetConfig(ctx, "postgis-platform:kmsKeyId", auto.ConfigValue{Value: "arn:aws:kms:eu-west-1:123456789012:key/other"}); err != nil {
		t.Fatal(err)
	}
	r := automation.Preview(ctx, l.Settings, l.Name)
	if r.ExitCode != automation.ExitError || !strings.Contains(r.Error, "rotated since the last update") || !strings.Contains(r.Error, "plain `deployer up`") {
		t.Fatalf("preview of a replacement after a rotation: want exit 1 naming the rotation and the fix, got %+v", r)
	}
	noFailedLogins(t, l, &failed, "preview")
	// up follows the credential first (asking the providers alone), then the
	// guard refuses the replacement nobody allowed.
	r = automation.Up(ctx, l.Settings, l.Name)
	if r.ExitCode != automation.ExitBlocked || r.Step != "guard" || !strings.Contains(strings.Join(r.Notes, "\n"), "rotated since the last update") {
		t.Fatalf("up of a replacement nobody allowed, after a rotation: want the credential followed and exit 3 at the guard, got %+v", r)
	}
	noFailedLogins(t, l, &failed, "up")
}
