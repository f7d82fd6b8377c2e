//go:build tools

// Package actionlint pins actionlint, the GitHub Actions workflow linter that
// `make lint` runs on docs/examples/github-actions.yml; scripts/build-actionlint
// builds it from source into .tools/actionlint.
package actionlint

import _ "github.com/rhysd/actionlint/cmd/actionlint"
