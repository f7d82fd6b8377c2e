package provider

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	comProvider "github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
)

// outputs is a component's output type, which names the component.
type outputs interface {
	pulumi.ComponentResource
	// goComponent is the Go component's type token ("postgis:<module>:<Name>")
	// and the docs key of its description. It must not read its receiver
	// (it is called on nil).
	goComponent() (token, doc string)
}

// schemaOnly gives infer a component's token, description, inputs (I) and
// outputs (O) for the schema. Construction goes through constructWith.
type schemaOnly[I any, O outputs] struct{}

// Annotate sets the component's token (the Go component's own type) and
// its description.
func (s *schemaOnly[I, O]) Annotate(a infer.Annotator) {
	var o O
	token, doc := o.goComponent()
	parts := strings.Split(token, ":")
	a.SetToken(tokens.ModuleName(parts[1]), tokens.TypeName(parts[2]))
	a.Describe(s, goDocs[doc])
}

// componentOf is the served component whose outputs are O.
func componentOf[I any, O outputs](c constructor) component {
	var o O
	token, _ := o.goComponent()
	return component{token: token, schema: infer.Component(&schemaOnly[I, O]{}), constructor: c}
}

// errSchemaOnly is returned if infer's construction is ever reached.
var errSchemaOnly = errors.New("postgis provider: construction goes through the provider's Construct")

// Construct is never called: the provider constructs (see New).
func (s *schemaOnly[I, O]) Construct(*pulumi.Context, string, string, I, pulumi.ResourceOption) (O, error) {
	var o O
	return o, errSchemaOnly
}

// constructor builds one component inside the provider's program: inputs
// makes a pointer to its zero input type (which the engine's inputs are
// copied into), build constructs from such a pointer.
type constructor struct {
	inputs func() any
	build  func(ctx *pulumi.Context, name string, in any, opts ...pulumi.ResourceOption) (*comProvider.ConstructResult, error)
}

// construct copies the engine's inputs and builds the component.
func (c constructor) construct(ctx *pulumi.Context, name string, inputs comProvider.ConstructInputs, opts pulumi.ResourceOption) (*comProvider.ConstructResult, error) {
	in := c.inputs()
	if err := inputs.CopyTo(in); err != nil {
		return nil, fmt.Errorf("%q: read the inputs: %w (an input the schema marks plain takes a value, not an output or a secret: pass it as a literal or from config)", name, err)
	}
	return c.build(ctx, name, in, opts)
}

// constructWith turns the inputs W into the Go Args (toGo) and calls the Go
// component's New; outputs are the component's outputs under their schema
// names. New's error, which names Go fields, names the inputs as the schema
// does (inputError).
func constructWith[W any, G any, C pulumi.ComponentResource](
	newFn func(*pulumi.Context, string, G, ...pulumi.ResourceOption) (C, error),
	toGo func(W) G,
	outputs func(C) pulumi.Map,
) constructor {
	return constructWithErr(newFn, func(w W) (G, error) { return toGo(w), nil }, outputs)
}

// constructWithErr is constructWith for inputs whose conversion can fail
// (a duration in text, say).
func constructWithErr[W any, G any, C pulumi.ComponentResource](
	newFn func(*pulumi.Context, string, G, ...pulumi.ResourceOption) (C, error),
	toGo func(W) (G, error),
	outputs func(C) pulumi.Map,
) constructor {
	return constructor{
		inputs: func() any { return new(W) },
		build: func(ctx *pulumi.Context, name string, in any, opts ...pulumi.ResourceOption) (*comProvider.ConstructResult, error) {
			g, err := toGo(*in.(*W))
			if err == nil {
				var c C
				if c, err = newFn(ctx, name, g, opts...); err == nil {
					return &comProvider.ConstructResult{URN: c.URN(), State: outputs(c)}, nil
				}
			}
			return nil, inputError(err, reflect.TypeFor[W]())
		},
	}
}
