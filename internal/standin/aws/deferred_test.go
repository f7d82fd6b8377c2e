package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/postgis-platform/deployer/internal/standin"
)

// TestDeferredModifications: without applyImmediately RDS keeps a deferred
// change pending until the maintenance window and the provider reads the
// running value; asking again only for what is pending is refused.
// Upstream: rds/instance.go resourceInstanceUpdate (ApplyImmediately, then
// resourceInstanceRead); the RDS API's PendingModifiedValues and its
// "No modifications were requested".
func TestDeferredModifications(t *testing.T) {
	p, err := seededProvider(t)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	impl := p.Types[TypeInstance].Impl
	in := map[string]any{"engine": "postgres", "engineVersion": "16", "instanceClass": "db.t4g.medium", "allocatedStorage": 50.0,
		"applyImmediately": false, "backupRetentionPeriod": 7.0}
	id, _, err := impl.Create(ctx, "", in)
	if err != nil {
		t.Fatal(err)
	}
	store := standin.Store{Dir: dirOf(t, p)}
	pending := func() map[string]any {
		var out map[string]any
		_ = store.View(func(c *standin.Cloud) error { out = Pending(c, id); return nil })
		return out
	}
	read := func() map[string]any {
		out, _, err := impl.Read(ctx, id, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, leaked := out[pendingKey]; leaked {
			t.Fatalf("Read returned %s, which the provider's schema does not have", pendingKey)
		}
		return out
	}

	// 1. A class change is deferred: the update's outputs and Read show the
	// running class.
	out, err := impl.Update(ctx, id, nil, with(in, "instanceClass", "db.r6g.large"))
	if err != nil {
		t.Fatal(err)
	}
	if out["instanceClass"] != "db.t4g.medium" || read()["instanceClass"] != "db.t4g.medium" || pending()["instanceClass"] != "db.r6g.large" {
		t.Fatalf("deferred class: update %v read %v pending %v", out["instanceClass"], read()["instanceClass"], pending())
	}
	// 2. Asking again for the pending class alone is no modification.
	if _, err := impl.Update(ctx, id, nil, with(in, "instanceClass", "db.r6g.large")); err == nil || !strings.Contains(err.Error(), "No modifications were requested") {
		t.Fatalf("re-asking the pending class: %v", err)
	}
	// 3. With another change beside it, the update goes through; the
	// immediate part applies and the class stays pending.
	if _, err := impl.Update(ctx, id, nil, with(with(in, "instanceClass", "db.r6g.large"), "backupRetentionPeriod", 14.0)); err != nil {
		t.Fatal(err)
	}
	if r := read(); r["backupRetentionPeriod"] != 14.0 || r["instanceClass"] != "db.t4g.medium" {
		t.Fatalf("after a mixed update: %v", r)
	}
	// 4. The maintenance window applies what is pending.
	err = store.Update(func(c *standin.Cloud) error {
		applied, err := RunMaintenance(c, id)
		if err == nil && !slices.Equal(applied, []string{"instanceClass"}) {
			t.Errorf("applied %v", applied)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := read(); r["instanceClass"] != "db.r6g.large" || len(pending()) != 0 {
		t.Fatalf("after the window: %v pending %v", r["instanceClass"], pending())
	}
	// 5. applyImmediately applies now, pending ones included.
	if _, err := impl.Update(ctx, id, nil, with(with(in, "instanceClass", "db.r6g.large"), "allocatedStorage", 80.0)); err != nil {
		t.Fatal(err)
	}
	if _, err := impl.Update(ctx, id, nil, with(with(with(in, "instanceClass", "db.r6g.xlarge"), "allocatedStorage", 80.0), "applyImmediately", true)); err != nil {
		t.Fatal(err)
	}
	if r := read(); r["instanceClass"] != "db.r6g.xlarge" || r["allocatedStorage"] != 80.0 || len(pending()) != 0 {
		t.Fatalf("apply immediately: %v pending %v", r, pending())
	}
}

// TestDeferredChangeShowsInEveryPlan: the bridge diffs the program against
// the prior outputs, so a deferred class is a diff even without a refresh.
// Upstream: pulumi-terraform-bridge pkg/tfbridge/provider.go (*Provider).Diff.
func TestDeferredChangeShowsInEveryPlan(t *testing.T) {
	p, err := seededProvider(t)
	if err != nil {
		t.Fatal(err)
	}
	asked := map[string]any{"engine": "postgres", "engineVersion": "16", "instanceClass": "db.r6g.large"}
	running := with(asked, "instanceClass", "db.t4g.medium")
	for _, r := range []struct {
		name       string
		olds, outs map[string]any
		want       []string
	}{
		{"pending: outputs hold the running class", asked, running, []string{"instanceClass"}},
		{"applied: outputs hold the asked class", asked, asked, nil},
	} {
		resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: "urn:pulumi:s::p::" + TypeInstance + "::r",
			OldInputs: marshalT(t, r.olds), Olds: marshalT(t, r.outs), News: marshalT(t, asked)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(resp.GetDiffs(), r.want) {
			t.Errorf("%s: diffs %v, want %v", r.name, resp.GetDiffs(), r.want)
		}
	}
}

// dirOf is the cloud folder of a provider built by seededProvider.
func dirOf(t *testing.T, p *standin.Provider) string {
	t.Helper()
	o, ok := p.Types[TypeInstance].Impl.(*object)
	if !ok {
		t.Fatal("not the cloud-file implementation")
	}
	return o.store.Dir
}

// TestMajorUpgradeRules: a new major version needs allowMajorVersionUpgrade
// and a parameter group of its family, which applies with the upgrade;
// without applyImmediately both wait for the window, and the old group stays
// in use (its delete is refused) until then. Upstream: the RDS API's
// InvalidParameterCombination and InvalidDBParameterGroupState, through
// rds/instance.go resourceInstanceUpdate and parameter_group.go
// resourceParameterGroupDelete.
func TestMajorUpgradeRules(t *testing.T) {
	p, err := seededProvider(t)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	groups := p.Types[TypeParameterGroup].Impl
	pg16, _, err := groups.Create(ctx, "", map[string]any{"name": "pg16", "family": "postgres16"})
	if err != nil {
		t.Fatal(err)
	}
	pg17, _, err := groups.Create(ctx, "", map[string]any{"name": "pg17", "family": "postgres17"})
	if err != nil {
		t.Fatal(err)
	}
	impl := p.Types[TypeInstance].Impl
	in := map[string]any{"engine": "postgres", "engineVersion": "16", "instanceClass": "db.t4g.medium", "parameterGroupName": pg16}
	if _, _, err := impl.Create(ctx, "", with(in, "parameterGroupName", pg17)); err == nil || !strings.Contains(err.Error(), "DBParameterGroupFamily postgres17 can't be used") {
		t.Fatalf("create with another family's group: %v", err)
	}
	id, _, err := impl.Create(ctx, "", in)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   map[string]any
		want string
	}{
		{"no allowMajorVersionUpgrade", with(with(in, "engineVersion", "17"), "parameterGroupName", pg17), "AllowMajorVersionUpgrade flag must be present"},
		{"the old family's group", with(with(in, "engineVersion", "17"), "allowMajorVersionUpgrade", true), "DBParameterGroupFamily postgres16 can't be used"},
		{"a new family without the upgrade", with(in, "parameterGroupName", pg17), "DBParameterGroupFamily postgres17 can't be used"},
	} {
		if _, err := impl.Update(ctx, id, nil, tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	upgrade := with(with(with(in, "engineVersion", "17"), "allowMajorVersionUpgrade", true), "parameterGroupName", pg17)
	out, err := impl.Update(ctx, id, nil, upgrade)
	if err != nil {
		t.Fatal(err)
	}
	// The provider reads a pending engine version as configured, and the
	// running group.
	if out["parameterGroupName"] != pg16 || out["engineVersion"] != "17" || !strings.HasPrefix(fmt.Sprint(out["engineVersionActual"]), "16.") {
		t.Fatalf("a deferred major upgrade applied now: %v %v %v", out["engineVersion"], out["engineVersionActual"], out["parameterGroupName"])
	}
	store := standin.Store{Dir: dirOf(t, p)}
	if err := groups.Delete(ctx, pg16, nil); err == nil || !strings.Contains(err.Error(), "InvalidDBParameterGroupState") {
		t.Fatalf("delete of the old group while the upgrade is pending: %v", err)
	}
	if err := store.Update(func(c *standin.Cloud) error { _, err := RunMaintenance(c, id); return err }); err != nil {
		t.Fatal(err)
	}
	r, _, _ := impl.Read(ctx, id, nil, nil)
	if r["engineVersion"] != "17" || r["engineVersionActual"] != "17.4" || r["parameterGroupName"] != pg17 {
		t.Fatalf("after the window: %v %v %v", r["engineVersion"], r["engineVersionActual"], r["parameterGroupName"])
	}
	if err := groups.Delete(ctx, pg16, nil); err != nil {
		t.Fatalf("delete of the old group after the window: %v", err)
	}
}
