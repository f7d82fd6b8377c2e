package aws

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/postgis-platform/deployer/internal/standin"
)

// latestMinor is the minor version RDS picks for a major-only engine
// version at create (the stand-in's catalogue).
var latestMinor = map[string]string{"13": "13.20", "14": "14.17", "15": "15.12", "16": "16.8", "17": "17.4"}

// resolveVersion is the version an instance runs when asked for v.
func resolveVersion(v string) string {
	if m, ok := latestMinor[v]; ok {
		return m
	}
	return v
}

func versionParts(v string) (major, minor int, ok bool) {
	maj, min, _ := strings.Cut(v, ".")
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || (min != "" && err2 != nil) {
		return 0, 0, false
	}
	return a, b, true
}

// compareActualEngineVersion is what Read reports as engineVersion: the
// configured version while the running one is a minor version of it
// ("16" running 16.8), else the running version ("16.4" running 16.8 reads
// 16.8, and the next plan is a downgrade).
// Upstream: terraform-provider-aws internal/service/rds/instance.go
// compareActualEngineVersion.
func compareActualEngineVersion(configured, actual string) string {
	sub := actual
	if len(actual) > len(configured) {
		sub = actual[:len(configured)+1]
	}
	if configured != actual && configured+"." != sub {
		return actual
	}
	return configured
}

// readInstance sets engineVersion as the provider reads it.
func readInstance(props map[string]any) map[string]any {
	out := standin.Copy(props)
	delete(out, pendingKey)
	delete(out, subnetKey)
	if actual := standin.Str(props, "engineVersionActual"); actual != "" {
		out["engineVersion"] = compareActualEngineVersion(standin.Str(props, "engineVersion"), actual)
	}
	// A pending engine version reads back as configured: no diff while it
	// waits for the window.
	// Upstream: rds/instance.go dbSetResourceDataEngineVersionFromInstance
	// (compareActualEngineVersion with PendingModifiedValues.EngineVersion).
	if v, ok := pendingOf(props)["engineVersion"].(string); ok {
		out["engineVersion"] = v
	}
	return out
}

// setEngineVersion applies a requested engine version: RDS refuses a
// version older than the one running.
// Upstream: the RDS API error InvalidParameterCombination ("Cannot upgrade
// postgres from 16.8 to 16.4"), through instance.go resourceInstanceUpdate.
func setEngineVersion(props map[string]any, requested string) error {
	actual := standin.Str(props, "engineVersionActual")
	next := resolveVersion(requested)
	if actual != "" && compareActualEngineVersion(requested, actual) == requested {
		next = actual // already running a minor version of what is asked
	}
	am, an, ok1 := versionParts(actual)
	nm, nn, ok2 := versionParts(next)
	if actual != "" && ok1 && ok2 && (nm < am || (nm == am && nn < an)) {
		return fmt.Errorf("InvalidParameterCombination: Cannot upgrade %s from %s to %s", standin.Str(props, "engine"), actual, next)
	}
	props["engineVersionActual"] = next
	return nil
}

// UpgradeMinor is AWS's automatic minor version upgrade in a maintenance
// window: the instance runs version (same major, newer minor) from now on.
func UpgradeMinor(c *standin.Cloud, id, version string) error {
	o, ok := c.Objects[id]
	if !ok || o.Type != TypeInstance {
		return fmt.Errorf("no DB instance %s", id)
	}
	am, an, _ := versionParts(standin.Str(o.Props, "engineVersionActual"))
	nm, nn, ok := versionParts(version)
	if !ok || nm != am || nn <= an {
		return fmt.Errorf("%s is not a newer minor version of %s", version, standin.Str(o.Props, "engineVersionActual"))
	}
	o.Props["engineVersionActual"] = version
	return nil
}
