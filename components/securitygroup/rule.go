package securitygroup

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/baseline"
)

// DefaultDatabasePort is PostgreSQL's port, the one no rule may open to the world.
const DefaultDatabasePort = 5432

// Protocols a rule may name. AllProtocols ("-1") means all traffic, every port.
const (
	TCP          = "tcp"
	UDP          = "udp"
	AllProtocols = "-1"
)

// Rule is one security group rule with exactly one source (ingress) or
// destination (egress). Each rule becomes its own AWS resource named by Key,
// so adding, removing or reordering rules never touches the others.
type Rule struct {
	// Key is the rule's stable identity: lower-case letters, digits and '-'
	// (e.g. "tile-servers"). Changing it replaces the rule.
	Key string
	// Description is required and shown in the AWS console.
	Description string
	// Protocol is "tcp" (default), "udp" or "-1" (all traffic).
	Protocol string
	// FromPort and ToPort bound the port range (inclusive). ToPort 0 means
	// FromPort alone. Leave both 0 with protocol "-1".
	FromPort, ToPort int

	// CIDRIPv4 is an IPv4 peer (e.g. "10.20.30.0/24"). Exactly one of the
	// four peers is set; the database port is never open to the internet.
	CIDRIPv4 string
	// CIDRIPv6 is an IPv6 peer (e.g. "2001:db8::/64").
	CIDRIPv6 string
	// PrefixListID is a managed prefix list (e.g. VPC endpoints).
	PrefixListID pulumi.StringInput
	// SecurityGroupID references another group (e.g. the tile servers').
	SecurityGroupID pulumi.StringInput
	// PreviousKeys lists keys this rule had before: renaming a key keeps
	// the same AWS rule (an alias) instead of creating a second one, which
	// AWS refuses as InvalidPermission.Duplicate while the first exists.
	PreviousKeys []string
}

// descriptionPattern is what AWS accepts in a rule or group description.
var descriptionPattern = regexp.MustCompile(`^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{1,255}$`)

var keyPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$`)

func (r Rule) protocol() string {
	if r.Protocol == "" {
		return TCP
	}
	return r.Protocol
}

func (r Rule) toPort() int {
	if r.ToPort == 0 {
		return r.FromPort
	}
	return r.ToPort
}

// coversPort reports whether the rule's traffic includes port p.
func (r Rule) coversPort(p int) bool {
	switch r.protocol() {
	case AllProtocols:
		return true
	case TCP:
		return r.FromPort <= p && p <= r.toPort()
	}
	return false
}

// validate checks one rule; where says which rule for the message
// ("Ingress[2] \"etl\"").
func (r Rule) validate(where string, ingress bool, dbPort int) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
	}
	if !keyPattern.MatchString(r.Key) {
		return fail("Key %q must be 1-48 lower-case letters, digits or '-' (it names the rule's resource)", r.Key)
	}
	if strings.TrimSpace(r.Description) == "" {
		return fail("Description is empty: every rule says why it exists (e.g. \"tile servers to PostGIS\")")
	}
	if !descriptionPattern.MatchString(r.Description) {
		return fail("Description %q has characters AWS refuses: use letters, digits, spaces and ._-:/()#,@[]+=&;{}!$* (at most 255)", r.Description)
	}
	for _, k := range r.PreviousKeys {
		if !keyPattern.MatchString(k) || k == r.Key {
			return fail("PreviousKeys entry %q must be a former key: lower-case letters, digits and '-', not the current key", k)
		}
	}
	switch r.protocol() {
	case TCP, UDP:
		if r.FromPort < 0 || r.FromPort > 65535 || r.toPort() < 0 || r.toPort() > 65535 {
			return fail("ports %d-%d out of range: use 0-65535", r.FromPort, r.toPort())
		}
		if r.ToPort != 0 && r.ToPort < r.FromPort {
			return fail("port range %d-%d is reversed: FromPort must be <= ToPort", r.FromPort, r.ToPort)
		}
		if r.FromPort == 0 && r.ToPort == 0 {
			return fail("no port: set FromPort (and ToPort for a range)")
		}
	case AllProtocols:
		if r.FromPort != 0 || r.ToPort != 0 {
			return fail("protocol \"-1\" means every port: leave FromPort and ToPort 0")
		}
	default:
		return fail("Protocol %q is not one of tcp, udp, -1", r.Protocol)
	}

	peers := 0
	for _, set := range []bool{r.CIDRIPv4 != "", r.CIDRIPv6 != "", r.PrefixListID != nil, r.SecurityGroupID != nil} {
		if set {
			peers++
		}
	}
	if peers != 1 {
		return fail("has %d peers: set exactly one of CIDRIPv4, CIDRIPv6, PrefixListID, SecurityGroupID (one rule per source)", peers)
	}
	return r.validateCIDRs(ingress, dbPort, fail)
}

// validateCIDRs checks the rule's CIDR peer: well formed, never the
// database port open to the internet or to public space, never unrestricted
// egress.
func (r Rule) validateCIDRs(ingress bool, dbPort int, fail func(string, ...any) error) error {
	for _, c := range []struct {
		field, value string
		v6           bool
	}{{"CIDRIPv4", r.CIDRIPv4, false}, {"CIDRIPv6", r.CIDRIPv6, true}} {
		if c.value == "" {
			continue
		}
		p, err := netip.ParsePrefix(c.value)
		if err != nil || p.Addr().Is6() != c.v6 || p.Addr().Is4In6() {
			kind := "IPv4"
			if c.v6 {
				kind = "IPv6"
			}
			example := "10.20.0.0/24"
			if c.v6 {
				example = "2001:db8::/64"
			}
			return fail("%s %q is not an %s CIDR (e.g. %s)", c.field, c.value, kind, example)
		}
		if p.Masked() != p {
			return fail("%s %q has host bits set: use %s", c.field, c.value, p.Masked())
		}
		min := baseline.MinIPv4Prefix
		if c.v6 {
			min = baseline.MinIPv6Prefix
		}
		if ingress && r.coversPort(dbPort) && baseline.Public(c.value) && !baseline.OpensToInternet(c.value) {
			return fail("%s %s is public address space and would open the database port %d to it; allow the clients' security group, a private subnet or a prefix list instead", c.field, c.value, dbPort)
		}
		if ingress && r.coversPort(dbPort) && baseline.OpensToInternet(c.value) {
			return fail("%s %s opens the database port %d to the internet (0.0.0.0/0, ::/0 or any prefix shorter than /%d): allow the clients' security group, their subnet CIDR, or a prefix list instead", c.field, c.value, dbPort, min)
		}
		if !ingress && r.protocol() == AllProtocols && baseline.OpensToInternet(c.value) {
			return fail("%s %s with protocol -1 is unrestricted egress (any prefix shorter than /%d is the internet): name the port and destination (e.g. tcp 443 to 10.0.0.0/8)", c.field, c.value, min)
		}
		if !ingress && r.FromPort <= 1 && r.toPort() == 65535 && baseline.OpensToInternet(c.value) {
			return fail("%s %s with every port (%d-%d) is unrestricted egress (any prefix shorter than /%d is the internet): name the port and destination (e.g. tcp 443 to 10.0.0.0/8)", c.field, c.value, r.FromPort, r.toPort(), min)
		}
	}
	return nil
}

func validateRules(field string, rules []Rule, ingress bool, dbPort int) error {
	seen := map[string]int{}
	for i, r := range rules {
		where := fmt.Sprintf("%s[%d] %q", field, i, r.Key)
		if err := r.validate(where, ingress, dbPort); err != nil {
			return err
		}
		if j, dup := seen[r.Key]; dup {
			return fmt.Errorf("%s: duplicate Key: %s[%d] already uses it; keys must be unique", where, field, j)
		}
		seen[r.Key] = i
	}
	return nil
}

func optString(s string) pulumi.StringPtrInput {
	if s == "" {
		return nil
	}
	return pulumi.StringPtr(s)
}

func optID(in pulumi.StringInput) pulumi.StringPtrInput {
	if in == nil {
		return nil
	}
	return in.ToStringOutput().ToStringPtrOutput()
}

func (r Rule) ports() (pulumi.IntPtrInput, pulumi.IntPtrInput) {
	if r.protocol() == AllProtocols {
		return nil, nil
	}
	return pulumi.IntPtr(r.FromPort), pulumi.IntPtr(r.toPort())
}

func (r Rule) ingressArgs(groupID pulumi.StringInput, tags pulumi.StringMap) *vpc.SecurityGroupIngressRuleArgs {
	from, to := r.ports()
	return &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           groupID,
		Description:               pulumi.StringPtr(r.Description),
		IpProtocol:                pulumi.String(r.protocol()),
		FromPort:                  from,
		ToPort:                    to,
		CidrIpv4:                  optString(r.CIDRIPv4),
		CidrIpv6:                  optString(r.CIDRIPv6),
		PrefixListId:              optID(r.PrefixListID),
		ReferencedSecurityGroupId: optID(r.SecurityGroupID),
		Tags:                      tags,
	}
}

func (r Rule) egressArgs(groupID pulumi.StringInput, tags pulumi.StringMap) *vpc.SecurityGroupEgressRuleArgs {
	in := r.ingressArgs(groupID, tags)
	return &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId:           in.SecurityGroupId,
		Description:               in.Description,
		IpProtocol:                in.IpProtocol,
		FromPort:                  in.FromPort,
		ToPort:                    in.ToPort,
		CidrIpv4:                  in.CidrIpv4,
		CidrIpv6:                  in.CidrIpv6,
		PrefixListId:              in.PrefixListId,
		ReferencedSecurityGroupId: in.ReferencedSecurityGroupId,
		Tags:                      in.Tags,
	}
}

// aliases names the rule's former resources (prefix + previous key).
func (r Rule) aliases(prefix string) pulumi.ResourceOption {
	var as []pulumi.Alias
	for _, k := range r.PreviousKeys {
		as = append(as, pulumi.Alias{Name: pulumi.String(prefix + k)})
	}
	return pulumi.Aliases(as)
}
