package main

import (
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
)

func (d *deployed) upgradeMinor(t *testing.T, version string) {
	t.Helper()
	err := d.AWSCloud().Update(func(c *standin.Cloud) error {
		return aws.UpgradeMinor(c, c.OfType(aws.TypeInstance)[0].ID, version)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// AWS's automatic minor version upgrade (16.8 -> 16.9 in a maintenance
// window) is no drift for a stack that gives the major version only (the
// default): drift is clean and up plans nothing.
func TestAutomaticMinorUpgradeIsNoDrift(t *testing.T) {
	d := deployLocal(t)
	d.upgradeMinor(t, "16.9")
	if code, s, text := d.report(t, "drift"); code != 0 {
		t.Fatalf("drift after a minor upgrade: exit %d %+v\n%s", code, s.Changes, text)
	}
	before := d.history(t)
	if code, s, text := d.report(t, "up"); code != 0 || s.Result != "clean" {
		t.Fatalf("up after a minor upgrade: exit %d %+v\n%s", code, s, text)
	}
	if d.history(t) != before {
		t.Fatal("up ran an update after a minor upgrade")
	}
}

// A pinned minor version reads back as the running one after AWS upgrades
// it: drift names engineVersion, and the update up --refresh would run is a
// downgrade AWS refuses, reported clearly, with nothing changed.
func TestPinnedMinorVersionAfterUpgrade(t *testing.T) {
	d := deployLocal(t)
	d.setConfig(t, "engineVersion", "16.8") // the minor version it runs
	if code, s, text := d.report(t, "up"); code != 0 {
		t.Fatalf("pin 16.8: exit %d %+v\n%s", code, s, text)
	}
	d.upgradeMinor(t, "16.9")
	code, s, text := d.report(t, "drift")
	if code != 2 || len(s.Changes) != 1 || len(s.Changes[0].Properties) != 1 || s.Changes[0].Properties[0].Path != "engineVersion" {
		t.Fatalf("drift: exit %d %+v\n%s", code, s.Changes, text)
	}
	code, s, text = d.report(t, "up", "--refresh", "--backup-dir", t.TempDir())
	if code != 1 || !strings.Contains(s.Error, "Cannot upgrade postgres from 16.9 to 16.8") {
		t.Fatalf("up --refresh over a pinned minor version: exit %d %q\n%s", code, s.Error, text)
	}
}
