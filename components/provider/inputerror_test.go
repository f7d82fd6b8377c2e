package provider

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/internal/testkit/pulumimock"
)

var goodTags = Tags{Environment: "dev", CostCenter: "gis"}

func goodRule() RuleSpec {
	return RuleSpec{Key: "etl", Description: "ETL hosts", FromPort: 5432, CIDRIPv4: "10.20.30.0/24"}
}

// Bad input through the provider is the Go component's own refusal, each
// field named as the caller wrote it, and nothing is registered.
func TestBadInputNamesTheInputAndRegistersNothing(t *testing.T) {
	worldOpen := goodRule()
	worldOpen.CIDRIPv4 = "0.0.0.0/0"
	twoPeers := goodRule()
	twoPeers.CIDRIPv6 = "::/0"
	for _, c := range []struct {
		name    string
		c       component
		inputs  any
		want    []string
		notWant []string
	}{
		{"world-open ingress", securityGroupComponent(),
			&SecurityGroupArgs{VpcID: pulumi.String("vpc-1"), Description: "db", Ingress: []RuleSpec{worldOpen}, Tags: goodTags},
			[]string{`ingress[0] "etl": cidrIpv4 0.0.0.0/0 opens the database port 5432 to the internet`}, []string{"CIDRIPv4", "Ingress["}},
		{"missing vpc", securityGroupComponent(),
			&SecurityGroupArgs{Description: "db", Tags: goodTags},
			[]string{"vpcId is nil"}, []string{"VpcID"}},
		{"tags", securityGroupComponent(),
			&SecurityGroupArgs{VpcID: pulumi.String("vpc-1"), Description: "db"},
			[]string{"tags.environment is empty"}, []string{"Tags.Environment"}},
		{"standalone rule with two peers", ruleComponent(),
			&StandaloneRuleArgs{SecurityGroupID: pulumi.String("sg-1"), Rule: twoPeers, Tags: goodTags},
			[]string{"rule: has 2 peers: set exactly one of cidrIpv4, cidrIpv6, prefixListId, securityGroupId"}, nil},
		{"unencrypted instance", instanceComponent(),
			&PostgresInstanceArgs{StorageEncrypted: new(false), Tags: goodTags},
			[]string{"storageEncrypted is false"}, []string{"StorageEncrypted"}},
		{"superuser workflow role", rolesComponent(),
			&RolesArgs{Database: "gis", TableOwner: "gis_owner", Workflow: Role{Name: "etl", Password: pulumi.String("x"), Attributes: &RoleAttributes{Superuser: true}}},
			[]string{"workflow.attributes asks for SUPERUSER"}, []string{"Workflow.Attributes"}},
		{"loopback age not a duration", utilityComponent(),
			&UtilityDatabaseArgs{LoopbackLoginMaxAge: "a month"},
			[]string{`loopbackLoginMaxAge "a month" is not a duration`}, nil},
		{"negative loopback age as written", utilityComponent(),
			&UtilityDatabaseArgs{LoopbackLoginMaxAge: "-1h"},
			[]string{`loopbackLoginMaxAge "-1h" is negative`}, nil},
		{"standalone rule database port", ruleComponent(),
			&StandaloneRuleArgs{SecurityGroupID: pulumi.String("sg-1"), DatabasePort: -5, Rule: worldOpen, Tags: goodTags},
			[]string{"databasePort -5 is out of range 1-65535"}, nil},
		{"exempt named as the input", instanceComponent(),
			&PostgresInstanceArgs{PubliclyAccessible: true, SubnetIDs: pulumi.StringArray{pulumi.String("s")}, SecurityGroupIDs: pulumi.StringArray{pulumi.String("g")}, KMSKeyID: pulumi.String("k"), Tags: goodTags},
			[]string{`add "rds-not-public" to exempt`}, []string{"Args."}},
		{"utility role password", utilityComponent(),
			&UtilityDatabaseArgs{Admin: Connection{Host: pulumi.String("db"), Username: "admin", Password: pulumi.String("pw"), SSLRootCert: "/ca.pem"}},
			[]string{"utilityRolePassword is nil"}, []string{"UtilityRolePassword"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, err := pulumimock.Run(t, func(ctx *pulumi.Context) error {
				_, err := c.c.build(ctx, "db", c.inputs)
				return err
			}, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			if !IsInputError(err) {
				t.Fatalf("not an input error: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q names the Go field %q", err, w)
				}
			}
			if n := len(rec.All()); n != 0 {
				t.Errorf("%d resources registered", n)
			}
		})
	}
}
