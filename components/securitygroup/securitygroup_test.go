package securitygroup_test

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/components/tags"
	"github.com/postgis-platform/deployer/internal/testkit/pulumimock"
)

const (
	sgType      = "aws:ec2/securityGroup:SecurityGroup"
	ingressType = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	egressType  = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
)

var testTags = tags.Set{Environment: "prod", CostCenter: "gis-42", Extra: map[string]string{"Team": "maps"}}

// seedArgs is the seed's topology: tile servers by security group reference,
// the ETL subnet by CIDR, and explicit egress for patching.
func seedArgs() securitygroup.Args {
	return securitygroup.Args{
		VpcID:       pulumi.String("vpc-123"),
		Description: "PostGIS database",
		Ingress: []securitygroup.Rule{
			{Key: "tile-servers", Description: "tile servers to PostGIS", FromPort: 5432, SecurityGroupID: pulumi.String("sg-tiles")},
			{Key: "etl", Description: "ETL subnet to PostGIS", FromPort: 5432, CIDRIPv4: "10.20.30.0/24"},
		},
		Egress: []securitygroup.Rule{
			{Key: "patching", Description: "HTTPS to the private range for patching and metrics", FromPort: 443, CIDRIPv4: "10.0.0.0/8"},
		},
		Tags: testTags,
	}
}

func run(t *testing.T, args securitygroup.Args) (*pulumimock.Recorder, error) {
	return pulumimock.Run(t, func(ctx *pulumi.Context) error {
		_, err := securitygroup.New(ctx, "db", args)
		return err
	}, nil)
}

func TestGroupHasNoInlineRulesAndIsHardened(t *testing.T) {
	rec, err := run(t, seedArgs())
	if err != nil {
		t.Fatal(err)
	}
	groups := rec.OfType(sgType)
	if len(groups) != 1 {
		t.Fatalf("want 1 security group, got %d", len(groups))
	}
	g := groups[0]
	if g.Has("ingress") || g.Has("egress") {
		t.Fatalf("group has inline rules: %v", g.Inputs)
	}
	if g.Str("namePrefix") != "db-" || g.Has("name") {
		t.Fatalf("want namePrefix db- and no fixed name, got %v", g.Inputs)
	}
	if v, ok := g.Bool("revokeRulesOnDelete"); !ok || !v {
		t.Fatal("revokeRulesOnDelete not set")
	}
	if g.Str("description") != "PostGIS database" || g.Str("vpcId") != "vpc-123" {
		t.Fatalf("description/vpc: %v", g.Inputs)
	}
	want := map[string]string{"Environment": "prod", "ManagedBy": "deployer", "CostCenter": "gis-42", "Team": "maps"}
	if got := g.Map("tags"); !reflect.DeepEqual(got, want) {
		t.Fatalf("tags = %v, want %v", got, want)
	}
}

func TestEachRuleIsItsOwnResource(t *testing.T) {
	rec, err := run(t, seedArgs())
	if err != nil {
		t.Fatal(err)
	}
	tiles := rec.Get(t, ingressType, "db-in-tile-servers")
	if tiles.Str("referencedSecurityGroupId") != "sg-tiles" || tiles.Has("cidrIpv4") {
		t.Fatalf("tile-servers rule source: %v", tiles.Inputs)
	}
	etl := rec.Get(t, ingressType, "db-in-etl")
	if etl.Str("cidrIpv4") != "10.20.30.0/24" || etl.Has("referencedSecurityGroupId") {
		t.Fatalf("etl rule source: %v", etl.Inputs)
	}
	out := rec.Get(t, egressType, "db-out-patching")
	for _, r := range []pulumimock.Resource{tiles, etl, out} {
		if r.Str("securityGroupId") != "db-id" {
			t.Fatalf("%s attaches to %q, want the group db-id", r.Name, r.Str("securityGroupId"))
		}
		if r.Str("description") == "" || r.Str("ipProtocol") != "tcp" {
			t.Fatalf("%s: %v", r.Name, r.Inputs)
		}
		if r.Map("tags")["ManagedBy"] != "deployer" {
			t.Fatalf("%s is not tagged", r.Name)
		}
	}
	if etl.Num("fromPort") != 5432 || etl.Num("toPort") != 5432 || out.Num("fromPort") != 443 {
		t.Fatalf("ports: etl %v, egress %v", etl.Inputs, out.Inputs)
	}
	if n := len(rec.OfType(ingressType)) + len(rec.OfType(egressType)); n != 3 {
		t.Fatalf("want 3 rule resources, got %d", n)
	}
}

// Changing one rule's description changes only that rule's inputs; adding or
// reordering rules keeps every other resource's name and inputs.
func TestRuleChangesAreIsolated(t *testing.T) {
	base, err := run(t, seedArgs())
	if err != nil {
		t.Fatal(err)
	}
	edited := seedArgs()
	edited.Ingress[1].Description = "ETL subnet to PostGIS (nightly loads)"
	edited.Ingress[0], edited.Ingress[1] = edited.Ingress[1], edited.Ingress[0] // reorder too
	edited.Ingress = append(edited.Ingress, securitygroup.Rule{Key: "vpce", Description: "VPC endpoints", FromPort: 5432, PrefixListID: pulumi.String("pl-123")})
	after, err := run(t, edited)
	if err != nil {
		t.Fatal(err)
	}
	changed := diffByName(base, after)
	want := []string{"db-in-etl (changed)", "db-in-vpce (added)"}
	if !reflect.DeepEqual(changed, want) {
		t.Fatalf("changed resources = %v, want %v", changed, want)
	}
}

func diffByName(a, b *pulumimock.Recorder) []string {
	before := map[string]pulumimock.Resource{}
	for _, r := range a.All() {
		before[r.Type+"/"+r.Name] = r
	}
	var out []string
	for _, r := range b.All() {
		old, ok := before[r.Type+"/"+r.Name]
		switch {
		case !ok:
			out = append(out, r.Name+" (added)")
		case !old.Inputs.DeepEquals(r.Inputs):
			out = append(out, r.Name+" (changed)")
		}
		delete(before, r.Type+"/"+r.Name)
	}
	for _, r := range before {
		out = append(out, r.Name+" (removed)")
	}
	sort.Strings(out) // registration order is concurrent
	return out
}

func TestValidationErrors(t *testing.T) {
	rule := func(edit func(*securitygroup.Rule)) func(*securitygroup.Args) {
		return func(a *securitygroup.Args) { edit(&a.Ingress[1]) }
	}
	tests := []struct {
		name string
		edit func(*securitygroup.Args)
		want []string // fragments the message must hold
	}{
		{"world IPv4 on the database port", rule(func(r *securitygroup.Rule) { r.CIDRIPv4 = "0.0.0.0/0" }),
			[]string{`Ingress[1] "etl"`, "0.0.0.0/0", "internet", "security group"}},
		{"world IPv6 on the database port", rule(func(r *securitygroup.Rule) { r.CIDRIPv4 = ""; r.CIDRIPv6 = "::/0" }),
			[]string{`Ingress[1] "etl"`, "::/0", "internet"}},
		{"world on a range containing the port", rule(func(r *securitygroup.Rule) { r.CIDRIPv4 = "0.0.0.0/0"; r.FromPort, r.ToPort = 5000, 6000 }),
			[]string{"0.0.0.0/0", "5432"}},
		{"half the internet", rule(func(r *securitygroup.Rule) { r.CIDRIPv4 = "0.0.0.0/1" }),
			[]string{"0.0.0.0/1", "shorter than /8"}},
		{"world, all traffic", rule(func(r *securitygroup.Rule) { r.CIDRIPv4 = "0.0.0.0/0"; r.Protocol = "-1"; r.FromPort = 0 }),
			[]string{"0.0.0.0/0", "internet"}},
		{"invalid CIDR", rule(func(r *securitygroup.Rule) { r.CIDRIPv4 = "10.20.300.0/24" }),
			[]string{"CIDRIPv4", "10.20.300.0/24", "not an IPv4 CIDR"}},
		{"IPv6 in the IPv4 field", rule(func(r *securitygroup.Rule) { r.CIDRIPv4 = "fd00::/8" }),
			[]string{"not an IPv4 CIDR"}},
		{"host bits set", rule(func(r *securitygroup.Rule) { r.CIDRIPv4 = "10.20.30.7/24" }),
			[]string{"host bits", "10.20.30.0/24"}},
		{"port out of range", rule(func(r *securitygroup.Rule) { r.FromPort = 70000 }),
			[]string{"out of range"}},
		{"a public /8 on the database port", rule(func(r *securitygroup.Rule) { r.CIDRIPv4 = "1.0.0.0/8" }),
			[]string{"1.0.0.0/8", "public address space"}},
		{"description with characters AWS refuses", rule(func(r *securitygroup.Rule) { r.Description = "tile servers' group <prod>" }),
			[]string{"Description", "characters AWS refuses"}},
		{"previous key equal to the key", rule(func(r *securitygroup.Rule) { r.PreviousKeys = []string{r.Key} }),
			[]string{"PreviousKeys", "former key"}},
		{"reversed ports", rule(func(r *securitygroup.Rule) { r.FromPort, r.ToPort = 5433, 5432 }),
			[]string{"reversed", "FromPort must be <= ToPort"}},
		{"no port", rule(func(r *securitygroup.Rule) { r.FromPort = 0 }),
			[]string{"no port"}},
		{"ports with all protocols", rule(func(r *securitygroup.Rule) { r.Protocol = "-1" }),
			[]string{"leave FromPort and ToPort 0"}},
		{"unknown protocol", rule(func(r *securitygroup.Rule) { r.Protocol = "sctp" }),
			[]string{"Protocol", "sctp"}},
		{"no description", rule(func(r *securitygroup.Rule) { r.Description = " " }),
			[]string{`Ingress[1] "etl"`, "Description is empty"}},
		{"no source", rule(func(r *securitygroup.Rule) { r.CIDRIPv4 = "" }),
			[]string{"0 peers", "exactly one"}},
		{"two sources", rule(func(r *securitygroup.Rule) { r.SecurityGroupID = pulumi.String("sg-x") }),
			[]string{"2 peers", "one rule per source"}},
		{"bad key", rule(func(r *securitygroup.Rule) { r.Key = "ETL Subnet" }),
			[]string{"Key", "lower-case"}},
		{"duplicate keys", rule(func(r *securitygroup.Rule) { r.Key = "tile-servers" }),
			[]string{"duplicate Key", "Ingress[0]"}},
		{"unrestricted egress", func(a *securitygroup.Args) {
			a.Egress = append(a.Egress, securitygroup.Rule{Key: "all", Description: "everything", Protocol: "-1", CIDRIPv4: "0.0.0.0/0"})
		}, []string{`Egress[1] "all"`, "unrestricted egress"}},
		{"egress -1 to half the internet", func(a *securitygroup.Args) {
			a.Egress = append(a.Egress, securitygroup.Rule{Key: "half", Description: "half", Protocol: "-1", CIDRIPv4: "0.0.0.0/1"})
		}, []string{`Egress[1] "half"`, "unrestricted egress"}},
		{"egress every tcp port to the internet", func(a *securitygroup.Args) {
			a.Egress = append(a.Egress, securitygroup.Rule{Key: "tcp", Description: "tcp", FromPort: 0, ToPort: 65535, CIDRIPv4: "0.0.0.0/0"})
		}, []string{`Egress[1] "tcp"`, "every port (0-65535) is unrestricted egress"}},
		{"IPv6 example in an IPv6 error", rule(func(r *securitygroup.Rule) { r.CIDRIPv4, r.CIDRIPv6 = "", "10.0.0.0/8" }),
			[]string{"is not an IPv6 CIDR (e.g. 2001:db8::/64)"}},
		{"no VPC", func(a *securitygroup.Args) { a.VpcID = nil }, []string{"VpcID"}},
		{"no group description", func(a *securitygroup.Args) { a.Description = "" }, []string{"Description is empty"}},
		{"missing environment tag", func(a *securitygroup.Args) { a.Tags.Environment = "" }, []string{"Tags.Environment"}},
		{"missing cost center tag", func(a *securitygroup.Args) { a.Tags.CostCenter = "" }, []string{"Tags.CostCenter"}},
		{"extra overrides ManagedBy", func(a *securitygroup.Args) { a.Tags.Extra = map[string]string{"ManagedBy": "me"} }, []string{"ManagedBy"}},
		{"database port out of range", func(a *securitygroup.Args) { a.DatabasePort = 99999 }, []string{"DatabasePort"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := seedArgs()
			tc.edit(&args)
			rec, err := run(t, args)
			pulumimock.Refused(t, rec, err, tc.want...)
		})
	}
}

func TestWorldOpenOnOtherPortsIsAllowed(t *testing.T) {
	args := seedArgs()
	args.Egress = append(args.Egress, securitygroup.Rule{Key: "https-out", Description: "HTTPS via NAT", FromPort: 443, CIDRIPv4: "0.0.0.0/0"})
	if _, err := run(t, args); err != nil {
		t.Fatalf("port-restricted egress to the world should be allowed: %v", err)
	}
}

func TestStandaloneRule(t *testing.T) {
	rec, err := pulumimock.Run(t, func(ctx *pulumi.Context) error {
		_, err := securitygroup.NewStandaloneRule(ctx, "etl-ingress", securitygroup.StandaloneArgs{
			SecurityGroupID: pulumi.String("sg-existing"),
			Rule:            securitygroup.Rule{Key: "etl", Description: "ETL subnet", FromPort: 5432, CIDRIPv4: "10.20.30.0/24"},
			Tags:            testTags,
		})
		return err
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rec.Get(t, ingressType, "etl-ingress")
	if r.Str("securityGroupId") != "sg-existing" || r.Str("cidrIpv4") != "10.20.30.0/24" || r.Str("description") != "ETL subnet" {
		t.Fatalf("standalone rule inputs: %v", r.Inputs)
	}
	if len(rec.OfType(sgType)) != 0 {
		t.Fatal("a standalone rule created a group")
	}
	rec.Get(t, securitygroup.RuleType, "etl-ingress")

	for _, tc := range []struct {
		name string
		args securitygroup.StandaloneArgs
		want string
	}{
		{"no group", securitygroup.StandaloneArgs{Rule: securitygroup.Rule{Key: "x", Description: "d", FromPort: 5432, CIDRIPv4: "10.0.0.0/24"}, Tags: testTags}, "SecurityGroupID"},
		{"world open", securitygroup.StandaloneArgs{SecurityGroupID: pulumi.String("sg-1"), Rule: securitygroup.Rule{Key: "x", Description: "d", FromPort: 5432, CIDRIPv4: "0.0.0.0/0"}, Tags: testTags}, "internet"},
		// An out-of-range DatabasePort would guard no port at all.
		{"negative database port", securitygroup.StandaloneArgs{SecurityGroupID: pulumi.String("sg-1"), DatabasePort: -5, Rule: securitygroup.Rule{Key: "x", Description: "d", FromPort: 5432, CIDRIPv4: "0.0.0.0/0"}, Tags: testTags}, "DatabasePort -5 is out of range 1-65535"},
		{"database port above 65535", securitygroup.StandaloneArgs{SecurityGroupID: pulumi.String("sg-1"), DatabasePort: 70000, Rule: securitygroup.Rule{Key: "x", Description: "d", FromPort: 5432, CIDRIPv4: "0.0.0.0/0"}, Tags: testTags}, "DatabasePort 70000 is out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := pulumimock.Run(t, func(ctx *pulumi.Context) error {
				_, err := securitygroup.NewStandaloneRule(ctx, "r", tc.args)
				return err
			}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || len(rec.All()) != 0 {
				t.Fatalf("want refusal mentioning %q with nothing registered, got %v", tc.want, err)
			}
		})
	}
}
