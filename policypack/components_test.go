package policypack_test

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/components/dbroles"
	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/components/rds"
	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/components/tags"
	"github.com/postgis-platform/deployer/components/utilitydb"
	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/internal/testkit/pulumimock"
	"github.com/postgis-platform/deployer/policypack"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// What the components register passes the whole baseline: the components and
// the policies agree.
func TestComponentsPassTheBaseline(t *testing.T) {
	rec := &pulumimock.Recorder{Outputs: map[string]func(resource.PropertyMap) resource.PropertyMap{
		baseline.TypeDBParameterGroup: func(in resource.PropertyMap) resource.PropertyMap {
			return resource.PropertyMap{"name": resource.NewStringProperty("db-postgres16-abc")}
		},
	}}
	rec, err := pulumimock.Run(t, func(ctx *pulumi.Context) error {
		tg := tags.Set{Environment: "prod", CostCenter: "gis-42"}
		sg, err := securitygroup.New(ctx, "db", securitygroup.Args{
			VpcID: pulumi.String("vpc-1"), Description: "PostGIS database",
			Ingress: []securitygroup.Rule{
				{Key: "tiles", Description: "tile servers", FromPort: 5432, SecurityGroupID: pulumi.String("sg-tiles")},
				{Key: "etl", Description: "ETL", FromPort: 5432, CIDRIPv4: "10.20.30.0/24"},
			},
			Egress: []securitygroup.Rule{{Key: "https", Description: "patching", FromPort: 443, CIDRIPv4: "10.0.0.0/8"}},
			Tags:   tg,
		})
		if err != nil {
			return err
		}
		if _, err := rds.New(ctx, "db", rds.Args{
			SubnetIDs: pulumi.ToStringArray([]string{"subnet-a"}), SecurityGroupIDs: pulumi.StringArray{sg.ID.ToStringOutput()},
			KMSKeyID: pulumi.String("arn:aws:kms:k"), Production: true, Tags: tg,
		}); err != nil {
			return err
		}
		if _, err := dbroles.New(ctx, "gis", dbroles.Args{
			Database: "gis", TableOwner: "gis_owner", PostGIS: true,
			Workflow: dbroles.Role{Name: "etl_writer", Password: pulumi.String("pw")},
			ReadOnly: &dbroles.Role{Name: "tile_reader", Password: pulumi.String("pw2")},
		}); err != nil {
			return err
		}
		_, err = utilitydb.New(ctx, "utility", utilitydb.Args{
			Admin:               pgprovider.Connection{Host: pulumi.String("db"), Username: "postgis_admin", Password: pulumi.String("pw"), SSLRootCert: "/ca.pem"},
			UtilityRolePassword: pulumi.String("pw3"), LoopbackRootCert: "/ca.pem",
			// Under mocks there is no server to write the user mapping to.
			Loopback: func(context.Context, dbconn.Config, sqlfuncs.Options, sqlfuncs.Rotation) (string, bool, error) {
				return "", false, nil
			},
		})
		return err
	}, rec)
	if err != nil {
		t.Fatal(err)
	}
	var all []policypack.Resource
	for _, r := range rec.All() {
		props := r.Inputs
		if f := rec.Outputs[r.Type]; f != nil {
			props = props.Copy()
			for k, v := range f(r.Inputs) {
				props[k] = v
			}
		}
		all = append(all, policypack.Resource{URN: mockURN(r), Type: r.Type, ID: r.Name + "-id", Properties: props})
	}
	vs := policypack.Evaluate(all, policypack.Config{Production: true})
	for _, v := range vs {
		t.Errorf("%s %s on %s: %s", v.Level, v.Rule, v.URN, v.Message)
	}
	if len(all) < 40 {
		t.Fatalf("only %d resources evaluated", len(all))
	}
}

// mockURN is the URN the engine would give r, with its parent's type chain.
func mockURN(r pulumimock.Resource) string {
	var parentType tokens.Type
	if rpc := r.Opts.RegisterRPC; rpc != nil && rpc.GetParent() != "" {
		if p := resource.URN(rpc.GetParent()); p.IsValid() && p.QualifiedType() != "pulumi:pulumi:Stack" {
			parentType = p.QualifiedType()
		}
	}
	return string(resource.NewURN("stack", "project", parentType, tokens.Type(r.Type), r.Name))
}
