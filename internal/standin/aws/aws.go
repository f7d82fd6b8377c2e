// Package aws is the offline stand-in for pulumi-resource-aws: exactly the
// resource types and functions this project's components and stacks use,
// with AWS-like IDs and replacement behaviour, over a JSON "cloud" file that
// tests and the demo can edit behind the engine's back.
package aws

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/internal/standin"
)

// Type tokens served.
const (
	TypeSecurityGroup  = "aws:ec2/securityGroup:SecurityGroup"
	TypeIngressRule    = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	TypeEgressRule     = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	TypeParameterGroup = "aws:rds/parameterGroup:ParameterGroup"
	TypeSubnetGroup    = "aws:rds/subnetGroup:SubnetGroup"
	TypeInstance       = "aws:rds/instance:Instance"

	FnSecurityGroupRules = "aws:vpc/getSecurityGroupRules:getSecurityGroupRules"
	FnSecretVersion      = "aws:secretsmanager/getSecretVersion:getSecretVersion"
	FnSecurityGroupRule  = "aws:vpc/getSecurityGroupRule:getSecurityGroupRule"
)

// Environment of the stand-in.
const (
	// DirEnv names the folder of the cloud file. Required.
	DirEnv = "DEPLOYER_STANDIN_AWS_DIR"
	// DBEndpointEnv ("host:port") is what DB instances report as their
	// address and port, so the local stack reaches the local PostgreSQL.
	DBEndpointEnv = "DEPLOYER_STANDIN_DB_ENDPOINT"
	// DBMasterPasswordEnv is the password in each instance's managed master
	// secret (the local PostgreSQL admin's).
	DBMasterPasswordEnv = "DEPLOYER_STANDIN_DB_MASTER_PASSWORD"
	// Version is the pulumi-aws version the stand-in answers as.
	Version = "6.83.0"
	region  = "eu-west-1"
	account = "123456789012"
)

var randHex = standin.RandHex

func randUpper(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// uniqueSuffix mimics terraform's name-prefix suffix (a timestamp and counter).
func uniqueSuffix() string {
	return time.Now().UTC().Format("20060102150405") + randHex(12)
}

func arn(service, res string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, account, res)
}

// NewProvider builds the stand-in over the cloud in dir.
func NewProvider(dir string) (*standin.Provider, error) {
	store := standin.Store{Dir: dir}
	faults, err := standin.FaultsFromEnv(store)
	if err != nil {
		return nil, err
	}
	types := map[string]*standin.Type{
		TypeSecurityGroup: {Impl: &object{store: store, typ: TypeSecurityGroup, create: createGroup, check: deleteGroup}, Computed: []string{"id", "arn", "name", "ownerId"}},
		TypeIngressRule: {Impl: &object{store: store, typ: TypeIngressRule, create: createRule(TypeIngressRule), update: updateRule},
			Computed: []string{"arn", "securityGroupRuleId"}},
		TypeEgressRule: {Impl: &object{store: store, typ: TypeEgressRule, create: createRule(TypeEgressRule), update: updateRule},
			Computed: []string{"arn", "securityGroupRuleId"}},
		TypeParameterGroup: {Impl: &object{store: store, typ: TypeParameterGroup, create: createNamed("pg"), check: deleteParameterGroup,
			update: func(_ *standin.Cloud, o *standin.Object, _ map[string]any) error { return checkApplyMethods(o.Props) }}, Computed: []string{"arn", "name"}},
		TypeSubnetGroup: {Impl: &object{store: store, typ: TypeSubnetGroup, create: createSubnetGroup, update: updateSubnetGroup, check: deleteSubnetGroup},
			Computed: []string{"arn", "name", "vpcId"}},
		TypeInstance: {Impl: &object{store: store, typ: TypeInstance, create: createInstance, update: updateInstance, check: deleteInstance},
			Computed: []string{"address", "endpoint", "arn", "resourceId", "masterUserSecrets", "status", "hostedZoneId", "engineVersionActual"}},
	}
	for tok, t := range types {
		t.ForceNew = forceNew[tok]
		t.ReplaceIf = replaceIf[tok]
		t.Same = same(tok)
	}
	types[TypeInstance].Autoname = standin.Autoname("identifier", "identifierPrefix", true)
	types[TypeInstance].DiffOutputs = DeferredKeys
	for _, t := range []string{TypeSecurityGroup, TypeParameterGroup, TypeSubnetGroup} {
		types[t].Autoname = standin.Autoname("name", "namePrefix", false) // Pulumi autonames "name" when neither is set
	}
	p := &standin.Provider{
		Name:    "aws",
		Version: Version,
		Types:   types,
		Faults:  faults,
		Invokes: map[string]standin.InvokeFunc{
			FnSecurityGroupRules: func(_ context.Context, args map[string]any) (resource.PropertyMap, error) {
				return securityGroupRules(store, args)
			},
			FnSecurityGroupRule: func(_ context.Context, args map[string]any) (resource.PropertyMap, error) {
				return securityGroupRule(store, args)
			},
			FnSecretVersion: func(_ context.Context, args map[string]any) (resource.PropertyMap, error) {
				return secretVersion(store, args)
			},
			FnSubnet: func(_ context.Context, args map[string]any) (resource.PropertyMap, error) {
				return lookupSubnet(store, args)
			},
			FnSecurityGroup: func(_ context.Context, args map[string]any) (resource.PropertyMap, error) {
				return lookupSecurityGroup(store, args)
			},
		},
	}
	return p, nil
}

// object implements CRUD on cloud objects of one type; create fills computed
// outputs, check vetoes a delete (AWS's dependency errors).
type object struct {
	store  standin.Store
	typ    string
	create func(c *standin.Cloud, urn resource.URN, props map[string]any) (string, error)
	// update checks and completes an update: o holds the new properties,
	// old the ones before it.
	update func(c *standin.Cloud, o *standin.Object, old map[string]any) error
	check  func(c *standin.Cloud, o *standin.Object) error
}

func (r *object) Create(_ context.Context, urn resource.URN, in map[string]any) (string, map[string]any, error) {
	props := standin.Copy(in)
	var id string
	err := r.store.Update(func(c *standin.Cloud) error {
		var err error
		if id, err = r.create(c, urn, props); err != nil {
			return err
		}
		if _, dup := c.Objects[id]; dup {
			return fmt.Errorf("%s %s already exists", r.typ, id)
		}
		if tags, ok := props["tags"].(map[string]any); ok {
			props["tagsAll"] = standin.Copy(tags)
		}
		c.Objects[id] = &standin.Object{Type: r.typ, ID: id, Props: props}
		return nil
	})
	return id, props, err
}

func (r *object) Read(_ context.Context, id string, _, _ map[string]any) (map[string]any, bool, error) {
	var out map[string]any
	err := r.store.View(func(c *standin.Cloud) error {
		if o, ok := c.Objects[id]; ok && o.Type == r.typ {
			out = standin.Copy(o.Props)
			switch r.typ {
			case TypeInstance:
				out = readInstance(out)
			case TypeSecurityGroup:
				out = readGroup(c, out)
			}
		}
		return nil
	})
	return out, out != nil, err
}

func (r *object) Update(_ context.Context, id string, _, in map[string]any) (map[string]any, error) {
	var out map[string]any
	err := r.store.Update(func(c *standin.Cloud) error {
		o, ok := c.Objects[id]
		if !ok || o.Type != r.typ {
			return fmt.Errorf("%s %s not found", r.typ, id)
		}
		// Keep what the cloud computed; the new inputs replace the rest.
		props := map[string]any{}
		for k, v := range o.Props {
			if _, isInput := in[k]; !isInput && isComputed(r.typ, k) {
				props[k] = v
			}
		}
		for k, v := range in {
			props[k] = v
		}
		if tags, ok := props["tags"].(map[string]any); ok {
			props["tagsAll"] = standin.Copy(tags)
		}
		old := o.Props
		o.Props = props
		if r.update != nil {
			if err := r.update(c, o, old); err != nil {
				return err
			}
		}
		out = standin.Copy(o.Props)
		if r.typ == TypeInstance {
			out = readInstance(out) // the update ends with a Read
		}
		return nil
	})
	return out, err
}

func (r *object) Delete(_ context.Context, id string, _ map[string]any) error {
	return r.store.Update(func(c *standin.Cloud) error {
		o, ok := c.Objects[id]
		if !ok {
			return nil // already gone
		}
		if r.check != nil {
			if err := r.check(c, o); err != nil {
				return err
			}
		}
		delete(c.Objects, id)
		return nil
	})
}

var computedKeys = map[string][]string{
	TypeSecurityGroup:  {"id", "arn", "name", "ownerId", "tagsAll", "ingress", "egress"},
	TypeIngressRule:    {"arn", "securityGroupRuleId", "tagsAll"},
	TypeEgressRule:     {"arn", "securityGroupRuleId", "tagsAll"},
	TypeParameterGroup: {"arn", "name", "tagsAll"},
	TypeSubnetGroup:    {"arn", "name", "vpcId", "tagsAll"},
	TypeInstance:       {"address", "endpoint", "arn", "resourceId", "masterUserSecrets", "status", "hostedZoneId", "identifier", "port", "caCertIdentifier", "tagsAll", "engineVersionActual", pendingKey, subnetKey},
}

func isComputed(typ, k string) bool {
	for _, c := range computedKeys[typ] {
		if c == k {
			return true
		}
	}
	return false
}

func nameFrom(props map[string]any) string {
	if n := standin.Str(props, "name"); n != "" {
		return n
	}
	return standin.Str(props, "namePrefix") + uniqueSuffix()
}

func createGroup(c *standin.Cloud, _ resource.URN, props map[string]any) (string, error) {
	if err := checkVpc(c, standin.Str(props, "vpcId")); err != nil {
		return "", err
	}
	if err := checkGroupDescription(props); err != nil {
		return "", err
	}
	id := "sg-" + randHex(17)
	props["id"] = id
	props["name"] = nameFrom(props)
	props["arn"] = arn("ec2", "security-group/"+id)
	props["ownerId"] = account
	if props["description"] == nil {
		props["description"] = "Managed by Pulumi"
	}
	return id, nil
}

func deleteGroup(c *standin.Cloud, o *standin.Object) error {
	for _, db := range c.OfType(TypeInstance) {
		for _, sg := range standin.Strings(db.Props, "vpcSecurityGroupIds") {
			if sg == o.ID {
				return fmt.Errorf("DependencyViolation: resource %s has a dependent object (DB instance %s)", o.ID, db.ID)
			}
		}
	}
	// Deleting a group deletes its rules, as in AWS.
	for id, r := range c.Objects {
		if (r.Type == TypeIngressRule || r.Type == TypeEgressRule) && standin.Str(r.Props, "securityGroupId") == o.ID {
			delete(c.Objects, id)
		}
	}
	return nil
}

func createRule(typ string) func(*standin.Cloud, resource.URN, map[string]any) (string, error) {
	return func(c *standin.Cloud, _ resource.URN, props map[string]any) (string, error) {
		gid := standin.Str(props, "securityGroupId")
		if g, ok := c.Objects[gid]; !ok || g.Type != TypeSecurityGroup {
			return "", fmt.Errorf("InvalidGroup.NotFound: the security group '%s' does not exist", gid)
		}
		if err := checkReferencedGroup(c, props); err != nil {
			return "", err
		}
		if sourceKind(props) == "" {
			return "", fmt.Errorf("InvalidParameterValue: exactly one of %s is required", strings.Join(sourceFields, ", "))
		}
		if err := checkRuleDescription(props); err != nil {
			return "", err
		}
		if err := duplicateRule(c, typ, props); err != nil {
			return "", err
		}
		id := "sgr-" + randHex(17)
		props["securityGroupRuleId"] = id
		props["arn"] = arn("ec2", "security-group-rule/"+id)
		return id, nil
	}
}

// updateRule checks a rule's update as ModifySecurityGroupRules does: its
// description, the group it references, and that no other rule of the group
// grants the same.
func updateRule(c *standin.Cloud, o *standin.Object, _ map[string]any) error {
	if err := checkRuleDescription(o.Props); err != nil {
		return err
	}
	if err := checkReferencedGroup(c, o.Props); err != nil {
		return err
	}
	others := &standin.Cloud{Objects: map[string]*standin.Object{}}
	for id, r := range c.Objects {
		if id != o.ID {
			others.Objects[id] = r
		}
	}
	return duplicateRule(others, o.Type, o.Props)
}

func createNamed(kind string) func(*standin.Cloud, resource.URN, map[string]any) (string, error) {
	return func(c *standin.Cloud, _ resource.URN, props map[string]any) (string, error) {
		if kind == "pg" {
			if err := checkApplyMethods(props); err != nil {
				return "", err
			}
		}
		name := strings.ToLower(nameFrom(props))
		props["name"] = name
		props["arn"] = arn("rds", kind+":"+name)
		if props["description"] == nil {
			props["description"] = "Managed by Pulumi"
		}
		return name, nil
	}
}

func deleteParameterGroup(c *standin.Cloud, o *standin.Object) error {
	for _, db := range c.OfType(TypeInstance) {
		if standin.Str(db.Props, "parameterGroupName") == o.ID {
			return fmt.Errorf("InvalidDBParameterGroupState: one or more database instances are still members of this parameter group %s (%s)", o.ID, db.ID)
		}
	}
	return nil
}
