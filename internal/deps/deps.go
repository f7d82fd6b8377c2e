//go:build tools

// Package deps pins the SDK modules named in go.mod (exact versions that the
// module proxy here serves) until the packages that use them import them.
package deps

import (
	_ "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	_ "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	_ "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	_ "github.com/pulumi/pulumi-postgresql/sdk/v3/go/postgresql"
)
