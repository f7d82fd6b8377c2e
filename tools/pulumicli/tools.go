//go:build tools

// Package pulumicli pins the Pulumi CLI that the Makefile builds from source.
package pulumicli

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
