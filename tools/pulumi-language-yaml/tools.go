//go:build tools

// Package pulumilanguageyaml pins the Pulumi YAML language host that the
// Makefile builds from source: the proof that the components serve a
// language other than Go (docs/components.md).
package pulumilanguageyaml

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
