// Command godocs writes docs_gen.go of the provider from the Go components'
// comments: go run ./internal/godocs/cmd (from components/provider).
package main

import (
	"fmt"
	"os"

	"github.com/postgis-platform/deployer/components/provider/internal/godocs"
)

func main() {
	docs, err := godocs.Read("../..")
	if err == nil {
		var src []byte
		if src, err = godocs.Source("provider", docs); err == nil {
			err = os.WriteFile("docs_gen.go", src, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "godocs:", err)
		os.Exit(1)
	}
}
