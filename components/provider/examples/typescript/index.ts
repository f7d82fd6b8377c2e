// A TypeScript stack that builds the hardened PostGIS network with the
// deployer's components (docs/components.md): the security group, a
// standalone rule for another team's group, and the RDS instance.
import * as pulumi from "@pulumi/pulumi";
import * as postgis from "@postgis-platform/postgis";

const config = new pulumi.Config();
const tags = { environment: "prod", costCenter: "gis-42" };

const db = new postgis.securitygroup.SecurityGroup("postgis", {
    vpcId: config.require("vpcId"),
    description: "PostGIS database",
    ingress: [
        { key: "etl", description: "ETL subnet", fromPort: 5432, cidrIpv4: "10.20.30.0/24" },
        { key: "tile-servers", description: "tile servers", fromPort: 5432, securityGroupId: config.require("tileServersGroupId") },
    ],
    egress: [{ key: "patching", description: "patching", fromPort: 443, cidrIpv4: "10.0.0.0/8" }],
    tags,
});

const analysts = new postgis.securitygroup.Rule("analysts", {
    securityGroupId: db.securityGroupId,
    rule: { key: "analysts", description: "analysts VPN", fromPort: 5432, cidrIpv4: "10.40.0.0/16" },
    tags,
});

const instance = new postgis.rds.PostgresInstance("postgis", {
    engineVersion: "16",
    subnetIds: config.requireObject<string[]>("subnetIds"),
    securityGroupIds: [db.securityGroupId],
    kmsKeyId: config.require("kmsKeyId"),
    production: true,
    tags,
});

export const securityGroupId = db.securityGroupId;
export const etlRuleId = db.ingressRuleIds.apply(ids => ids["etl"]);
export const analystsRuleId = analysts.ruleId;
export const endpoint: pulumi.Output<string> = instance.endpoint;
