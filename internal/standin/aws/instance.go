package aws

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/internal/standin"
)

// The DB instance: create, update and delete against the cloud file.

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
