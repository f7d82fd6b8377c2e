package sdkgen

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// skipped are what builds and tools leave in the SDK folders (each SDK's
// own .gitignore keeps them out of git).
var skipped = []string{"node_modules", "bin", "__pycache__", "dist", "build"}

// The checked-in SDKs are what the generators make from the provider's
// schema today: regenerate with `go generate` in components/provider.
func TestCheckedInSDKsAreCurrent(t *testing.T) {
	spec, err := Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		t.Run(lang, func(t *testing.T) {
			want, err := Generate(spec, lang)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) < 5 {
				t.Fatalf("the %s generator made %d files", lang, len(want))
			}
			dir := filepath.Join("..", "..", "sdk", lang)
			got := readTree(t, dir)
			for name, content := range want {
				if disk, ok := got[name]; !ok {
					t.Errorf("%s/%s is missing: run go generate in components/provider", lang, name)
				} else if !bytes.Equal(disk, content) {
					t.Errorf("%s/%s is stale: run go generate in components/provider", lang, name)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("%s/%s is not generated any more: run go generate in components/provider", lang, name)
				}
			}
		})
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && slices.Contains(skipped, d.Name()) || filepath.Ext(path) == ".pyc" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
