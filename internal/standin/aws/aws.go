// Package aws is the offline stand-in for pulumi-resource-aws: exactly the
// resource types and functions this project's components and stacks use,
// with AWS-like IDs and replacement behaviour, over a JSON "cloud" file that
// tests and the demo can edit behind the engine's back.
package aws

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
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
	types[TypeInstance].Autoname = autonameInstance
	types[TypeInstance].DiffOutputs = DeferredKeys
	types[TypeSecurityGroup].Autoname = autonameName
	types[TypeParameterGroup].Autoname = autonameName
	types[TypeSubnetGroup].Autoname = autonameName
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

// autonameName gives name-prefixed or unnamed groups a stable name: Pulumi
// autonames "name" when neither name nor namePrefix is set.
func autonameName(urn resource.URN, olds, news resource.PropertyMap, seed []byte) resource.PropertyMap {
	if news.HasValue("name") || news.HasValue("namePrefix") {
		return news
	}
	if olds.HasValue("name") {
		news["name"] = olds["name"]
		return news
	}
	news["name"] = resource.NewStringProperty(urn.Name() + "-" + standin.SeededHex(seed, string(urn), 7))
	return news
}

func autonameInstance(urn resource.URN, olds, news resource.PropertyMap, seed []byte) resource.PropertyMap {
	if news.HasValue("identifier") || news.HasValue("identifierPrefix") {
		return news
	}
	if olds.HasValue("identifier") {
		news["identifier"] = olds["identifier"]
		return news
	}
	news["identifier"] = resource.NewStringProperty(strings.ToLower(urn.Name()) + "-" + standin.SeededHex(seed, string(urn), 7))
	return news
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

// endpoint is the instance's address and port: the port asked for (as in
// AWS), else the one in DBEndpointEnv, else 5432; the host from DBEndpointEnv
// when set, so the local stack reaches the local PostgreSQL.
func endpoint(props map[string]any) (string, int) {
	host := standin.Str(props, "identifier") + ".c" + randHex(10) + "." + region + ".rds.amazonaws.com"
	port := 5432
	if hp := os.Getenv(DBEndpointEnv); hp != "" {
		if h, p, err := net.SplitHostPort(hp); err == nil {
			host = h
			port, _ = strconv.Atoi(p)
		}
	}
	if p := int(standin.Num(props, "port")); p != 0 {
		port = p
	}
	return host, port
}

func createInstance(c *standin.Cloud, _ resource.URN, props map[string]any) (string, error) {
	if standin.Str(props, "engine") == "" {
		return "", fmt.Errorf("InvalidParameterValue: engine is required")
	}
	if pg := standin.Str(props, "parameterGroupName"); pg != "" {
		if _, ok := c.Objects[pg]; !ok {
			return "", fmt.Errorf("DBParameterGroupNotFound: %s", pg)
		}
	}
	if err := setEngineVersion(props, standin.Str(props, "engineVersion")); err != nil {
		return "", err
	}
	if err := checkParameterFamily(c, props, majorOf(standin.Str(props, "engineVersionActual"))); err != nil {
		return "", err
	}
	if err := checkInstanceNetwork(c, props, nil); err != nil {
		return "", err
	}
	placeInstance(c, props)
	id := "db-" + randUpper(26)
	host, port := endpoint(props)
	props["resourceId"] = id
	props["address"] = host
	props["port"] = float64(port)
	props["endpoint"] = fmt.Sprintf("%s:%d", host, port)
	props["arn"] = arn("rds", "db:"+standin.Str(props, "identifier"))
	props["status"] = "available"
	props["hostedZoneId"] = "Z29XKXDKYMONMX"
	if props["caCertIdentifier"] == nil {
		props["caCertIdentifier"] = "rds-ca-rsa2048-g1"
	}
	if standin.Bool(props, "manageMasterUserPassword") {
		secretArn := arn("secretsmanager", "secret:rds!"+strings.ToLower(id)+"-"+randHex(6))
		props["masterUserSecrets"] = []any{map[string]any{
			"secretArn": secretArn, "secretStatus": "active", "kmsKeyId": standin.Str(props, "masterUserSecretKmsKeyId"),
		}}
		pw := os.Getenv(DBMasterPasswordEnv)
		if pw == "" {
			pw = randHex(24)
		}
		b, _ := json.Marshal(map[string]string{"username": standin.Str(props, "username"), "password": pw})
		c.Secrets[secretArn] = string(b)
	}
	return id, nil
}

func updateInstance(c *standin.Cloud, o *standin.Object, old map[string]any) error {
	if err := checkMajorUpgrade(o.Props, old); err != nil {
		return err
	}
	if err := checkParameterFamily(c, o.Props, majorOf(resolveVersion(standin.Str(o.Props, "engineVersion")))); err != nil {
		return err
	}
	if err := deferModifications(o.Props, old); err != nil {
		return err
	}
	if err := setEngineVersion(o.Props, standin.Str(o.Props, "engineVersion")); err != nil {
		return err
	}
	if err := checkInstanceNetwork(c, o.Props, old); err != nil {
		return err
	}
	if standin.Str(old, "dbSubnetGroupName") != standin.Str(o.Props, "dbSubnetGroupName") {
		placeInstance(c, o.Props) // moved to a subnet group of another VPC
	}
	if pg := standin.Str(o.Props, "parameterGroupName"); pg != "" {
		if _, ok := c.Objects[pg]; !ok {
			return fmt.Errorf("DBParameterGroupNotFound: %s", pg)
		}
	}
	host, port := endpoint(o.Props)
	if os.Getenv(DBEndpointEnv) != "" {
		o.Props["address"], o.Props["port"] = host, float64(port)
		o.Props["endpoint"] = fmt.Sprintf("%s:%d", host, port)
	}
	o.Props["arn"] = arn("rds", "db:"+standin.Str(o.Props, "identifier"))
	return nil
}

func deleteInstance(_ *standin.Cloud, o *standin.Object) error {
	if standin.Bool(o.Props, "deletionProtection") {
		return fmt.Errorf("InvalidParameterCombination: Cannot delete protected DB Instance, please disable deletion protection and try again")
	}
	return nil
}

func securityGroupRules(store standin.Store, args map[string]any) (resource.PropertyMap, error) {
	groups := map[string]bool{}
	filters, _ := args["filters"].([]any)
	for _, f := range filters {
		m, _ := f.(map[string]any)
		if standin.Str(m, "name") != "group-id" {
			return nil, fmt.Errorf("stand-in supports only the group-id filter, not %q", standin.Str(m, "name"))
		}
		for _, v := range standin.Strings(m, "values") {
			groups[v] = true
		}
	}
	ids := []any{}
	err := store.View(func(c *standin.Cloud) error {
		for _, typ := range []string{TypeIngressRule, TypeEgressRule} {
			for _, o := range c.OfType(typ) {
				if groups[standin.Str(o.Props, "securityGroupId")] {
					ids = append(ids, o.ID)
				}
			}
		}
		return nil
	})
	return resource.NewPropertyMapFromMap(map[string]any{"id": region, "ids": ids, "filters": filters}), err
}

// securityGroupRule describes one rule by its ID, as DescribeSecurityGroupRules
// does for the real data source.
// Upstream: terraform-provider-aws internal/service/ec2
// vpc_security_group_rule_data_source.go (dataSourceSecurityGroupRule.Read:
// findSecurityGroupRule, then the rule's attributes; exactly one match or an
// error).
func securityGroupRule(store standin.Store, args map[string]any) (resource.PropertyMap, error) {
	id := standin.Str(args, "securityGroupRuleId")
	if id == "" {
		return nil, fmt.Errorf("stand-in supports only securityGroupRuleId for getSecurityGroupRule")
	}
	var out map[string]any
	err := store.View(func(c *standin.Cloud) error {
		o, ok := c.Objects[id]
		if !ok || (o.Type != TypeIngressRule && o.Type != TypeEgressRule) {
			return fmt.Errorf("InvalidSecurityGroupRuleId.NotFound: The security group rule ID '%s' does not exist", id)
		}
		out = map[string]any{"id": id, "securityGroupRuleId": id, "isEgress": o.Type == TypeEgressRule,
			"arn": fmt.Sprintf("arn:aws:ec2:%s:%s:security-group-rule/%s", region, account, id)}
		for _, k := range []string{"securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "cidrIpv6",
			"prefixListId", "referencedSecurityGroupId", "description"} {
			if v, ok := o.Props[k]; ok {
				out[k] = v
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resource.NewPropertyMapFromMap(out), nil
}

func secretVersion(store standin.Store, args map[string]any) (resource.PropertyMap, error) {
	id := standin.Str(args, "secretId")
	var value string
	var ok bool
	err := store.View(func(c *standin.Cloud) error {
		value, ok = c.Secrets[id]
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("ResourceNotFoundException: Secrets Manager can't find the specified secret %s", id)
	}
	m := resource.NewPropertyMapFromMap(map[string]any{
		"arn": id, "id": id + "|AWSCURRENT", "secretId": id, "versionId": "v1", "versionStage": "AWSCURRENT",
		"versionStages": []any{"AWSCURRENT"}, "createdDate": "2026-01-01T00:00:00Z", "secretBinary": "",
	})
	m["secretString"] = resource.MakeSecret(resource.NewStringProperty(value))
	return m, nil
}
