//go:build tools

// Package pulumiclinewest pins the newest Pulumi CLI that builds here, the other end of the tested range.
package pulumiclinewest

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
