// Package sdkgen generates the TypeScript, Python and Go SDKs of the
// provider from its schema, with the code generators of pulumi/pkg that
// `pulumi package gen-sdk` runs through the language plugins (which are not
// built here). The SDKs are checked in under sdk/ and held current by a
// test.
package sdkgen

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"

	"github.com/postgis-platform/deployer/components/provider"
)

// Languages are the SDKs generated, each into sdk/<language>.
var Languages = []string{"nodejs", "python", "go"}

// tool names the generator in the files' headers.
const tool = "deployer sdkgen"

// Schema is the provider's schema without a version: an SDK takes its
// version when it is published, so a new deployer commit does not change
// the checked-in SDKs.
func Schema(ctx context.Context) (schema.PackageSpec, error) {
	prov, err := provider.New()
	if err != nil {
		return schema.PackageSpec{}, err
	}
	srv, err := integration.NewServer(ctx, provider.Name, semver.MustParse("0.0.0"), integration.WithProvider(prov))
	if err != nil {
		return schema.PackageSpec{}, fmt.Errorf("start the provider: %w", err)
	}
	resp, err := srv.GetSchema(p.GetSchemaRequest{})
	if err != nil {
		return schema.PackageSpec{}, fmt.Errorf("read the schema: %w", err)
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(resp.Schema), &spec); err != nil {
		return schema.PackageSpec{}, fmt.Errorf("decode the schema: %w", err)
	}
	spec.Version = ""
	return spec, nil
}

// noReferences is the loader of a schema that references no other
// package: every load is refused.
type noReferences struct{}

func (noReferences) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("the postgis schema references no other package (asked for %q)", pkg)
}

func (n noReferences) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return n.LoadPackage(d.Name, nil)
}

func (n noReferences) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the postgis schema references no other package (asked for %q)", pkg)
}

func (n noReferences) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return n.LoadPackageReference(d.Name, nil)
}

// Generate returns the SDK of language, file name to content.
func Generate(spec schema.PackageSpec, language string) (map[string][]byte, error) {
	pkg, diags, err := schema.BindSpec(spec, noReferences{}, schema.ValidationOptions{})
	if err != nil {
		return nil, fmt.Errorf("bind the schema: %w", err)
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("the schema is invalid: %s", diags.Error())
	}
	switch language {
	case "nodejs":
		return nodejs.GeneratePackage(tool, pkg, nil, nil, false, noReferences{})
	case "python":
		return python.GeneratePackage(tool, pkg, nil, noReferences{})
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	}
	return nil, fmt.Errorf("no SDK generator for %q: use one of %v", language, Languages)
}
