// Command pulumi-resource-postgis is the postgis component provider: the
// deployer's Go components served to every Pulumi language (see
// docs/components.md). The Makefile stamps its version, the deployer's own.
package main

import (
	"context"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"

	"github.com/postgis-platform/deployer/components/provider"
)

// version is stamped by the Makefile (-X main.version=…): the deployer's
// version as semver.
var version = "0.0.0-dev"

func main() {
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-version") {
		fmt.Println(version) // for `pulumi plugin install resource postgis "$(… --version)" --file …`
		return
	}
	prov, err := provider.New()
	if err == nil {
		err = p.RunProvider(context.Background(), provider.Name, version, prov)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-postgis: %v\n", err)
		os.Exit(1)
	}
}
