// Command pulumi-analyzer-policy-go serves the postgis-baseline policy pack to
// the Pulumi engine. The engine runs it from PATH, in the pack's folder
// (policypack/pack, whose PulumiPolicy.yaml says runtime: go), when no Go
// language plugin is installed.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/postgis-platform/deployer/policypack"
)

func main() {
	err := policyx.Main(func(*pulumi.Context) (policyx.PolicyPack, error) {
		return policypack.NewPulumiPack()
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
