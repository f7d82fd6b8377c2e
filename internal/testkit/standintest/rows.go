// Package standintest holds test helpers for the stand-in providers'
// conformance tables: one row per property, replaced or updated in place,
// checked through the provider's Diff.
package standintest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/postgis-platform/deployer/internal/standin"
)

// Prop is one property with an old and a new value.
type Prop struct {
	Name     string
	Old, New any
}

// Strings, Numbers, Flags and Lists make props of one kind of value.
func Strings(names ...string) []Prop {
	return props(names, func(n string) (any, any) { return "a_" + strings.ToLower(n), "b_" + strings.ToLower(n) })
}

// Numbers are props changing 1 to 2.
func Numbers(names ...string) []Prop {
	return props(names, func(string) (any, any) { return 1.0, 2.0 })
}

// Flags are props changing false to true.
func Flags(names ...string) []Prop {
	return props(names, func(string) (any, any) { return false, true })
}

// Lists are props changing ["a"] to ["b"].
func Lists(names ...string) []Prop {
	return props(names, func(string) (any, any) { return []any{"a"}, []any{"b"} })
}

func props(names []string, values func(string) (any, any)) []Prop {
	out := make([]Prop, len(names))
	for i, n := range names {
		o, nw := values(n)
		out[i] = Prop{n, o, nw}
	}
	return out
}

// Row is a type's properties: those that replace it and those updated in
// place, with the upstream schema they come from.
type Row struct {
	Type, Upstream    string
	Replaces, InPlace []Prop
}

// CheckReplaceOrUpdate runs one subtest per property: changing it alone is
// a diff of exactly that property, a replacement when the row says so.
func CheckReplaceOrUpdate(t *testing.T, p *standin.Provider, rows []Row) {
	t.Helper()
	for _, r := range rows {
		for _, set := range []struct {
			props    []Prop
			replaces bool
		}{{r.Replaces, true}, {r.InPlace, false}} {
			for _, pr := range set.props {
				name := fmt.Sprintf("%s %s replaces=%v", r.Type[strings.LastIndex(r.Type, ":")+1:], pr.Name, set.replaces)
				t.Run(name, func(t *testing.T) {
					t.Logf("upstream: %s", r.Upstream)
					resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: "urn:pulumi:s::p::" + r.Type + "::r",
						OldInputs: marshal(t, pr.Name, pr.Old), News: marshal(t, pr.Name, pr.New)})
					if err != nil {
						t.Fatal(err)
					}
					var want []string
					if set.replaces {
						want = []string{pr.Name}
					}
					if !slices.Equal(resp.GetDiffs(), []string{pr.Name}) || !slices.Equal(resp.GetReplaces(), want) {
						t.Errorf("diffs %v replaces %v; want diffs [%s] replaces %v", resp.GetDiffs(), resp.GetReplaces(), pr.Name, want)
					}
				})
			}
		}
	}
}

func marshal(t *testing.T, k string, v any) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(resource.NewPropertyMapFromMap(map[string]any{k: v}), plugin.MarshalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
