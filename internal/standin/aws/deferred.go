package aws

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/postgis-platform/deployer/internal/standin"
)

// pendingKey holds, in a DB instance's cloud object, the modifications RDS
// keeps for the next maintenance window (DescribeDBInstances'
// PendingModifiedValues). The real provider's schema has no such attribute,
// so Read never returns it.
const pendingKey = "pendingModifiedValues"

// DeferredKeys are the instance settings ModifyDBInstance defers to the
// maintenance window unless ApplyImmediately is set; the instance runs the
// old value until then, and Read reports the old value.
// Upstream: the RDS API's ModifyDBInstance (ApplyImmediately; the
// PendingModifiedValues of DescribeDBInstances), through
// terraform-provider-aws internal/service/rds/instance.go
// resourceInstanceUpdate (input.ApplyImmediately from apply_immediately; the
// update ends with resourceInstanceRead, which sets the running values).
var DeferredKeys = []string{"instanceClass", "allocatedStorage", "storageType", "iops", "storageThroughput", "multiAz", "engineVersion", "caCertIdentifier"}

// deferredWith is DeferredKeys, plus parameterGroupName when the request
// moves to another major version: the new family's group applies with the
// upgrade, in the same window.
func deferredWith(props, old map[string]any) []string {
	running := standin.Str(old, "engineVersionActual")
	asked := standin.Str(props, "engineVersion")
	if asked != "" && running != "" && majorOf(resolveVersion(asked)) != majorOf(running) {
		return append(append([]string{}, DeferredKeys...), "parameterGroupName")
	}
	return DeferredKeys
}

// tfOnlyKeys are instance arguments whose change alone sends no
// ModifyDBInstance.
// Upstream: rds/instance.go resourceInstanceUpdate (d.HasChangesExcept
// "allow_major_version_upgrade", "apply_immediately",
// "final_snapshot_identifier", "replicate_source_db", "skip_final_snapshot",
// "tags", "tags_all"); delete_automated_backups is used only at delete.
var tfOnlyKeys = map[string]bool{
	"applyImmediately": true, "skipFinalSnapshot": true, "finalSnapshotIdentifier": true, "deleteAutomatedBackups": true,
	"allowMajorVersionUpgrade": true, "replicateSourceDb": true,
	"tags": true, "tagsAll": true, pendingKey: true,
}

func pendingOf(props map[string]any) map[string]any {
	p, _ := props[pendingKey].(map[string]any)
	return standin.Copy(p)
}

// deferModifications splits an update of an instance into what RDS applies
// now and what it keeps pending: without applyImmediately a deferred key
// keeps its running value (o.Props) and the asked one goes to the pending
// modifications; with it, the pending ones apply too. Asking again only for
// what is already pending is refused, as RDS does.
// Upstream: the RDS API error InvalidParameterCombination ("No modifications
// were requested"), seen through resourceInstanceUpdate
// (hashicorp/terraform-provider-aws issue 11050).
func deferModifications(props, old map[string]any) error {
	immediate := standin.Bool(props, "applyImmediately")
	pending := pendingOf(old)
	asked, again := false, false
	for _, k := range deferredWith(props, old) {
		n, set := props[k]
		cur, had := old[k]
		switch {
		case !set:
			if had {
				props[k] = cur // unset: RDS keeps the running value
			}
		case k == "engineVersion" && standin.Str(old, "engineVersionActual") != "" &&
			compareActualEngineVersion(fmt.Sprint(n), standin.Str(old, "engineVersionActual")) == fmt.Sprint(n):
			// Already running (a minor version of) what is asked: nothing
			// to modify, the configured value is simply the new one.
		case had && equal(n, cur):
			if pending[k] != nil {
				delete(pending, k) // asked back to the running value
				asked = true
			}
		case pending[k] != nil && equal(pending[k], n) && !immediate:
			props[k], again = cur, true
		case immediate:
			asked = true
		default:
			pending[k], props[k], asked = n, cur, true
		}
	}
	if immediate {
		for k, v := range pending {
			props[k] = v
		}
		pending = nil
	}
	if again && !asked && !otherModification(props, old) {
		return fmt.Errorf("InvalidParameterCombination: No modifications were requested")
	}
	if len(pending) == 0 {
		delete(props, pendingKey)
	} else {
		props[pendingKey] = pending
	}
	return nil
}

// otherModification reports a change ModifyDBInstance carries beyond the
// deferred keys.
func otherModification(props, old map[string]any) bool {
	deferred := map[string]bool{}
	for _, k := range deferredWith(props, old) {
		deferred[k] = true
	}
	for k, v := range props {
		if !deferred[k] && !tfOnlyKeys[k] && !isComputed(TypeInstance, k) && !equal(v, old[k]) {
			return true
		}
	}
	return false
}

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }

// RunMaintenance is the instance's maintenance window: RDS applies the
// pending modifications, and Read reports the new values from then on.
func RunMaintenance(c *standin.Cloud, id string) ([]string, error) {
	o, ok := c.Objects[id]
	if !ok || o.Type != TypeInstance {
		return nil, fmt.Errorf("no DB instance %s", id)
	}
	pending := pendingOf(o.Props)
	applied := make([]string, 0, len(pending))
	for k, v := range pending {
		o.Props[k] = v
		applied = append(applied, k)
	}
	sort.Strings(applied)
	delete(o.Props, pendingKey)
	if err := setEngineVersion(o.Props, standin.Str(o.Props, "engineVersion")); err != nil {
		return nil, err
	}
	return applied, nil
}

// Pending lists an instance's pending modifications (for tests and the
// cloud command).
func Pending(c *standin.Cloud, id string) map[string]any {
	if o, ok := c.Objects[id]; ok {
		return pendingOf(o.Props)
	}
	return nil
}

// AskDeferred records modifications as RDS holds them after a
// ModifyDBInstance without ApplyImmediately: what a run killed right after
// asking leaves behind, before its state recorded anything.
func AskDeferred(c *standin.Cloud, id string, values map[string]any) error {
	o, ok := c.Objects[id]
	if !ok || o.Type != TypeInstance {
		return fmt.Errorf("no DB instance %s", id)
	}
	pending := pendingOf(o.Props)
	for k, v := range values {
		pending[k] = v
	}
	o.Props[pendingKey] = pending
	return nil
}
