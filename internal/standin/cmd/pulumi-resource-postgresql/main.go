// Command pulumi-resource-postgresql is the project's OFFLINE STAND-IN for the
// PostgreSQL provider plugin, for tests and the local demo stack only. It
// applies the resources to the real PostgreSQL named in the provider config.
// It refuses to start unless DEPLOYER_STANDIN=1, so it never quietly stands in
// for the real plugin.
package main

import (
	"fmt"
	"os"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/postgresql"
)

func main() {
	if os.Getenv(standin.EnableEnv) != "1" {
		fmt.Fprintf(os.Stderr, "pulumi-resource-postgresql: this is deployer's offline stand-in, not the real provider; "+
			"set %s=1 to use it (only the project's tests and local stack do)\n", standin.EnableEnv)
		os.Exit(1)
	}
	p, err := postgresql.NewProvider()
	if err == nil {
		err = standin.Serve(p)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-postgresql stand-in: %v\n", err)
		os.Exit(1)
	}
}
