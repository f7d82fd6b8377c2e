// Command sdkgen writes the provider's SDKs into sdk/<language>: go run
// ./internal/sdkgen/cmd (from components/provider; go generate runs it).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/postgis-platform/deployer/components/provider/internal/sdkgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sdkgen:", err)
		os.Exit(1)
	}
}

func run() error {
	spec, err := sdkgen.Schema(context.Background())
	if err != nil {
		return err
	}
	for _, lang := range sdkgen.Languages {
		files, err := sdkgen.Generate(spec, lang)
		if err != nil {
			return fmt.Errorf("%s: %w", lang, err)
		}
		dir := filepath.Join("sdk", lang)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		for name, content := range files {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
