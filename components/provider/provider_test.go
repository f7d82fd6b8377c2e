package provider

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"

	"github.com/postgis-platform/deployer/components/dbroles"
	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/components/provider/internal/godocs"
	"github.com/postgis-platform/deployer/components/rds"
	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/components/tags"
	"github.com/postgis-platform/deployer/components/utilitydb"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

type schemaProp struct {
	Description string `json:"description"`
}

type schemaObject struct {
	Description     string                `json:"description"`
	Properties      map[string]schemaProp `json:"properties"`
	InputProperties map[string]schemaProp `json:"inputProperties"`
	IsComponent     bool                  `json:"isComponent"`
}

type packageSchema struct {
	Name      string                  `json:"name"`
	Resources map[string]schemaObject `json:"resources"`
	Types     map[string]schemaObject `json:"types"`
}

// schemaJSON is the schema the provider serves.
func schemaJSON(t *testing.T) []byte {
	t.Helper()
	prov, err := New()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := integration.NewServer(context.Background(), Name, semver.MustParse("1.2.3"), integration.WithProvider(prov))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetSchema(p.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return []byte(resp.Schema)
}

func readSchema(t *testing.T) packageSchema {
	t.Helper()
	var s packageSchema
	if err := json.Unmarshal(schemaJSON(t), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// The schema serves each Go component under the Go component's own type
// token (so a component moved between languages keeps its URN), and
// documents every input, output and type field.
func TestSchemaServesEachComponentDocumented(t *testing.T) {
	s := readSchema(t)
	var got []string
	for tok, r := range s.Resources {
		got = append(got, tok)
		if !r.IsComponent {
			t.Errorf("%s is not a component", tok)
		}
		checkDocumented(t, tok, r)
	}
	slices.Sort(got)
	want := []string{dbroles.Type, rds.Type, securitygroup.RuleType, securitygroup.GroupType, utilitydb.Type}
	if !slices.Equal(got, want) {
		t.Errorf("resources %v, want %v", got, want)
	}
	for tok, typ := range s.Types {
		checkDocumented(t, tok, typ)
	}
}

func checkDocumented(t *testing.T, tok string, o schemaObject) {
	t.Helper()
	if strings.TrimSpace(o.Description) == "" {
		t.Errorf("%s has no description", tok)
	}
	for _, props := range []map[string]schemaProp{o.Properties, o.InputProperties} {
		for name, prop := range props {
			if strings.TrimSpace(prop.Description) == "" {
				t.Errorf("%s.%s has no description: document the Go field it stands for", tok, name)
			}
		}
	}
}

// Each input type stands for a Go type: every Go field is an input except
// the ones listed as Go-only, and every input is a Go field.
func TestInputsCoverTheGoArgs(t *testing.T) {
	for _, c := range []struct {
		wrapper, goType any
		goOnly          []string
	}{
		{SecurityGroupArgs{}, securitygroup.Args{}, nil},
		{RuleSpec{}, securitygroup.Rule{}, nil},
		{StandaloneRuleArgs{}, securitygroup.StandaloneArgs{}, nil},
		{Tags{}, tags.Set{}, nil},
		{PostgresInstanceArgs{}, rds.Args{}, []string{"LiftDeletionProtection"}},
		{RolesArgs{}, dbroles.Args{}, nil},
		{Role{}, dbroles.Role{}, nil},
		{RoleAttributes{}, dbroles.Attributes{}, nil},
		{UtilityDatabaseArgs{}, utilitydb.Args{}, []string{"Loopback"}},
		{Connection{}, pgprovider.Connection{}, nil},
		{Names{}, sqlfuncs.Options{}, nil},
	} {
		w, g := reflect.TypeOf(c.wrapper), reflect.TypeOf(c.goType)
		t.Run(w.Name(), func(t *testing.T) {
			for i := range g.NumField() {
				f := g.Field(i)
				if _, ok := w.FieldByName(f.Name); !ok && f.IsExported() && !slices.Contains(c.goOnly, f.Name) {
					t.Errorf("%s.%s is not an input of %s: add it, or list it as Go-only with the reason", g, f.Name, w.Name())
				}
			}
			for i := range w.NumField() {
				if _, ok := g.FieldByName(w.Field(i).Name); !ok {
					t.Errorf("%s.%s stands for no field of %s", w.Name(), w.Field(i).Name, g)
				}
			}
		})
	}
}

// docs_gen.go is what go generate makes from the Go components' comments.
func TestGoDocsCurrent(t *testing.T) {
	docs, err := godocs.Read("../..")
	if err != nil {
		t.Fatal(err)
	}
	want, err := godocs.Source("provider", docs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("docs_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("docs_gen.go is stale: run `go generate` in components/provider")
	}
}

// An input takes an output exactly where its Go field is a pulumi input;
// every other input is plain, so the SDKs refuse an output there at compile
// time instead of the deployment failing. Every object type is known.
func TestSchemaPlainWhereGoIsPlain(t *testing.T) {
	var s struct {
		Resources map[string]struct {
			InputProperties map[string]map[string]any `json:"inputProperties"`
		} `json:"resources"`
		Types map[string]struct {
			Properties map[string]map[string]any `json:"properties"`
		} `json:"types"`
	}
	if err := json.Unmarshal(schemaJSON(t), &s); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, tok := range objectTypes {
		known[tok] = true
	}
	for tok := range s.Types {
		if !known[tok] {
			t.Errorf("type %s is not in objectTypes: its fields would not be marked plain", tok)
		}
	}
	plain := func(m map[string]any) bool { b, _ := m["plain"].(bool); return b }
	rule := s.Types["postgis:securitygroup:RuleSpec"].Properties
	rdsIn := s.Resources[rds.Type].InputProperties
	for _, c := range []struct {
		what      string
		prop      map[string]any
		wantPlain bool
	}{
		{"RuleSpec.cidrIpv4", rule["cidrIpv4"], true},
		{"RuleSpec.key", rule["key"], true},
		{"RuleSpec.securityGroupId", rule["securityGroupId"], false},
		{"Tags.environment", s.Types["postgis:index:Tags"].Properties["environment"], true},
		{"rds exempt", rdsIn["exempt"], true},
		{"rds securityGroupIds", rdsIn["securityGroupIds"], false},
		{"rds securityGroupIds elements", mapOf(rdsIn["securityGroupIds"]["items"]), false},
		{"securitygroup vpcId", s.Resources[securitygroup.GroupType].InputProperties["vpcId"], false},
	} {
		if c.prop == nil {
			t.Errorf("%s is not in the schema", c.what)
		} else if plain(c.prop) != c.wantPlain {
			t.Errorf("%s: plain %v, want %v (%v)", c.what, plain(c.prop), c.wantPlain, c.prop)
		}
	}
}

func mapOf(v any) map[string]any { m, _ := v.(map[string]any); return m }
