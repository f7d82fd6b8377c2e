// Command pulumi-resource-aws is the project's OFFLINE STAND-IN for the AWS
// provider plugin, for tests and the local demo stack only. Its "cloud" is a
// JSON file in $DEPLOYER_STANDIN_AWS_DIR; it refuses to start without it, so
// it can never quietly stand in for the real plugin.
package main

import (
	"fmt"
	"os"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
)

func main() {
	dir := os.Getenv(aws.DirEnv)
	if dir == "" {
		fmt.Fprintf(os.Stderr, "pulumi-resource-aws: this is deployer's offline stand-in, not the real AWS provider; "+
			"%s is not set (only the project's tests and local stack use it)\n", aws.DirEnv)
		os.Exit(1)
	}
	p, err := aws.NewProvider(dir)
	if err == nil {
		err = standin.Serve(p)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-aws stand-in: %v\n", err)
		os.Exit(1)
	}
}
