// Package pulumimock runs a Pulumi program under pulumi.WithMocks and records
// every registered resource with its inputs, so component tests can assert on
// the resource graph.
package pulumimock

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one registered resource.
type Resource struct {
	Type   string
	Name   string
	Parent string // URN of the parent, when given
	Inputs resource.PropertyMap
	Opts   pulumi.MockResourceArgs
}

// Recorder implements pulumi.MockResourceMonitor and remembers what it saw.
type Recorder struct {
	mu        sync.Mutex
	resources []Resource
	// Outputs adds provider-computed outputs for a type token.
	Outputs map[string]func(inputs resource.PropertyMap) resource.PropertyMap
	// Calls answers invokes by function token.
	Calls map[string]func(args resource.PropertyMap) (resource.PropertyMap, error)
}

// NewResource records the resource and echoes its inputs as outputs.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	r.resources = append(r.resources, Resource{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs, Opts: args})
	r.mu.Unlock()
	outs := args.Inputs.Copy()
	if f := r.Outputs[args.TypeToken]; f != nil {
		for k, v := range f(args.Inputs) {
			outs[k] = v
		}
	}
	return args.Name + "-id", outs, nil
}

// Call answers an invoke from Calls, or fails.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if f := r.Calls[args.Token]; f != nil {
		return f(args.Args)
	}
	return nil, fmt.Errorf("pulumimock: no mock for invoke %s", args.Token)
}

// Run runs program under mocks and returns the recorder and the program's error.
func Run(t testing.TB, program pulumi.RunFunc, rec *Recorder) (*Recorder, error) {
	t.Helper()
	if rec == nil {
		rec = &Recorder{}
	}
	err := pulumi.RunErr(program, pulumi.WithMocks("postgis-platform", "test", rec))
	return rec, err
}

// MustRun runs program and fails the test on error.
func MustRun(t testing.TB, program pulumi.RunFunc) *Recorder {
	t.Helper()
	rec, err := Run(t, program, nil)
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return rec
}

// All returns every recorded resource, in registration order.
func (r *Recorder) All() []Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Resource{}, r.resources...)
}

// OfType returns the resources of one type token.
func (r *Recorder) OfType(token string) []Resource {
	var out []Resource
	for _, res := range r.All() {
		if res.Type == token {
			out = append(out, res)
		}
	}
	return out
}

// Get returns the resource of type token and name, failing the test if absent.
func (r *Recorder) Get(t testing.TB, token, name string) Resource {
	t.Helper()
	for _, res := range r.All() {
		if res.Type == token && res.Name == name {
			return res
		}
	}
	t.Fatalf("no %s named %q; have:\n%s", token, name, r.Summary())
	return Resource{}
}

// Summary lists "type name" lines, sorted, for failure messages.
func (r *Recorder) Summary() string {
	var lines []string
	for _, res := range r.All() {
		lines = append(lines, res.Type+" "+res.Name)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Str returns a string input (secrets unwrapped), or "" when absent.
func (res Resource) Str(key string) string {
	v := unwrap(res.Inputs[resource.PropertyKey(key)])
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// Num returns a number input, or 0.
func (res Resource) Num(key string) float64 {
	v := unwrap(res.Inputs[resource.PropertyKey(key)])
	if v.IsNumber() {
		return v.NumberValue()
	}
	return 0
}

// Bool returns a boolean input and whether it was set.
func (res Resource) Bool(key string) (bool, bool) {
	v := unwrap(res.Inputs[resource.PropertyKey(key)])
	if v.IsBool() {
		return v.BoolValue(), true
	}
	return false, false
}

// Has reports whether the input is set (not null).
func (res Resource) Has(key string) bool {
	v, ok := res.Inputs[resource.PropertyKey(key)]
	return ok && !v.IsNull()
}

// IsSecret reports whether the input is marked secret.
func (res Resource) IsSecret(key string) bool {
	return res.Inputs[resource.PropertyKey(key)].IsSecret()
}

// Strings returns a list-of-strings input.
func (res Resource) Strings(key string) []string {
	v := unwrap(res.Inputs[resource.PropertyKey(key)])
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e = unwrap(e); e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

// Map returns a map-of-strings input.
func (res Resource) Map(key string) map[string]string {
	v := unwrap(res.Inputs[resource.PropertyKey(key)])
	if !v.IsObject() {
		return nil
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		if e = unwrap(e); e.IsString() {
			out[string(k)] = e.StringValue()
		}
	}
	return out
}

// Objects returns a list-of-objects input.
func (res Resource) Objects(key string) []resource.PropertyMap {
	v := unwrap(res.Inputs[resource.PropertyKey(key)])
	if !v.IsArray() {
		return nil
	}
	var out []resource.PropertyMap
	for _, e := range v.ArrayValue() {
		if e = unwrap(e); e.IsObject() {
			out = append(out, e.ObjectValue())
		}
	}
	return out
}

func unwrap(v resource.PropertyValue) resource.PropertyValue {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsOutput():
			v = v.OutputValue().Element
		default:
			return v
		}
	}
}

// Refused fails the test unless err is an error mentioning every fragment
// and the refused program registered nothing.
func Refused(t testing.TB, rec *Recorder, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not mention %q", err, w)
		}
	}
	if n := len(rec.All()); n != 0 {
		t.Fatalf("refused input still registered %d resources:\n%s", n, rec.Summary())
	}
}
