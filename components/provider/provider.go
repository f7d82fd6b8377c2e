// Package provider serves the deployer's Go components to every Pulumi
// language as the pulumi-resource-postgis component provider: the security
// group and its standalone rules, the RDS PostgreSQL instance, the
// least-privilege roles and the utility database.
//
// Each component is the Go package's own New function behind a thin input
// type: the schema's inputs are the Go Args fields with the same
// documentation (docs_gen.go, generated from the Go source), and bad input
// gets the Go component's error, with each field named as the caller wrote it
// (vpcId, not VpcID), before anything is registered.
package provider

import (
	"context"
	"fmt"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	comProvider "github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
)

// Name is the provider's package name: its plugin is pulumi-resource-postgis.
const Name = "postgis"

// component is one component the provider serves: its schema (an infer
// component over its input and output types) and its construction.
type component struct {
	constructor
	token  string
	schema infer.InferredComponent
}

// components are the served components, by type token.
func components() []component {
	return []component{securityGroupComponent(), ruleComponent(), instanceComponent(), rolesComponent(), utilityComponent()}
}

// New is the provider. Its version is the plugin's (RunProvider's), the
// deployer's own (docs/components.md).
//
// infer makes the schema. Construction is the provider's own: infer's would
// register the component's outputs a second time, after the Go component
// registered them, which the engine refuses.
func New() (p.Provider, error) {
	cs := components()
	byType := map[string]component{}
	var schemas []infer.InferredComponent
	for _, c := range cs {
		byType[c.token] = c
		schemas = append(schemas, c.schema)
	}
	prov, err := infer.NewProviderBuilder().
		WithNamespace("postgis-platform").
		WithDisplayName("PostGIS platform").
		WithDescription("Hardened PostGIS on AWS: security groups that never open the database to the internet, RDS PostgreSQL with enforced TLS, least-privilege roles and a utility database that onboards tenants. The components of github.com/postgis-platform/deployer.").
		WithKeywords("postgis", "postgresql", "aws", "rds", "security-group", "category/database", "kind/component").
		WithLicense("Apache-2.0").
		WithRepository("https://github.com/postgis-platform/deployer").
		WithGoImportPath("github.com/postgis-platform/deployer/components/provider/sdk/go/postgis").
		WithLanguageMap(languages()).
		WithModuleMap(map[tokens.ModuleName]tokens.ModuleName{}).
		WithComponents(schemas...).
		Build()
	if err != nil {
		return p.Provider{}, fmt.Errorf("build the postgis provider: %w", err)
	}
	getSchema := prov.GetSchema
	prov.GetSchema = func(ctx context.Context, req p.GetSchemaRequest) (p.GetSchemaResponse, error) {
		resp, err := getSchema(ctx, req)
		if err == nil {
			resp.Schema, err = plainInputs(resp.Schema, cs)
		}
		return resp, err
	}
	prov.Construct = func(ctx context.Context, req p.ConstructRequest) (p.ConstructResponse, error) {
		c, ok := byType[string(req.Urn.Type())]
		if !ok {
			return p.ConstructResponse{}, fmt.Errorf("postgis provider: unknown component type %q", req.Urn.Type())
		}
		return p.ProgramConstruct(ctx, req, func(ctx *pulumi.Context, _, name string, inputs comProvider.ConstructInputs, opts pulumi.ResourceOption) (*comProvider.ConstructResult, error) {
			return c.construct(ctx, name, inputs, opts)
		})
	}
	return prov, nil
}

// languages are the generated SDKs' package settings.
func languages() map[string]any {
	return map[string]any{
		"nodejs": map[string]any{"packageName": "@postgis-platform/postgis"},
		"python": map[string]any{"packageName": "postgis_platform_postgis"},
		"go": map[string]any{
			"importBasePath":                 "github.com/postgis-platform/deployer/components/provider/sdk/go/postgis",
			"generateResourceContainerTypes": false,
		},
	}
}
