package standin

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc"
	pbempty "google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Resource is one resource type's behaviour against its backend (the cloud
// file, or a real PostgreSQL). Props are plain JSON values.
type Resource interface {
	Create(ctx context.Context, urn resource.URN, in map[string]any) (id string, out map[string]any, err error)
	// Read returns found=false when the resource is gone.
	Read(ctx context.Context, id string, oldIn, oldOut map[string]any) (out map[string]any, found bool, err error)
	Update(ctx context.Context, id string, oldOut, in map[string]any) (out map[string]any, err error)
	Delete(ctx context.Context, id string, oldOut map[string]any) error
}

// Type describes one resource type token.
type Type struct {
	Impl Resource
	// ForceNew lists the input properties whose change replaces the resource.
	ForceNew []string
	// ReplaceIf adds replacement reasons beyond ForceNew (special cases).
	ReplaceIf func(olds, news map[string]any) []string
	// DeleteBeforeReplace mirrors providers that set it (e.g. grants).
	DeleteBeforeReplace bool
	// Autoname fills names the real provider generates in Check; random parts
	// come from the engine's seed (SeededHex), so a preview and the update
	// held to its plan pick the same name.
	Autoname func(urn resource.URN, olds, news resource.PropertyMap, seed []byte) resource.PropertyMap
	// Computed output keys are unknown in a preview of a create.
	Computed []string
	// SecretOutputs are always returned as secrets.
	SecretOutputs []string
	// Same reports that a key's change is no change for the real provider
	// (a removed Optional+Computed input, a case-only edit under a
	// lower-casing StateFunc, a set in another order).
	Same func(key string, olds, news map[string]any) bool
	// Defaults are the provider schema's default values, filled into the
	// inputs at Check where the program left a key out.
	Defaults map[string]any
	// DiffOutputs are inputs the real provider diffs against the prior
	// outputs (the bridge's Diff runs on the Terraform state, which holds
	// what the last Read found), not the old inputs: a change the cloud kept
	// pending shows in every plan until the cloud applies it.
	// Upstream: pulumi-terraform-bridge pkg/tfbridge/provider.go
	// (*Provider).Diff (makeTerraformStateWithOpts over req.GetOlds()).
	DiffOutputs []string
	// LiveInputs are optional inputs the real provider's Read sets from the
	// live resource whether or not the program set them: Read returns them
	// as inputs when they are not empty, so a hand change shows as drift.
	LiveInputs []string
}

// InvokeFunc answers a provider function.
type InvokeFunc func(ctx context.Context, args map[string]any) (resource.PropertyMap, error)

// Provider is a stand-in provider plugin.
type Provider struct {
	pulumirpc.UnimplementedResourceProviderServer
	Name    string
	Version string
	Types   map[string]*Type
	Invokes map[string]InvokeFunc
	// OnConfigure receives the provider config (e.g. connection settings).
	OnConfigure func(args resource.PropertyMap) error
	// Faults and Counters implement fault and latency injection.
	Faults *Faults
	Log    *slog.Logger
}

var marshalOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, marshalOpts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, marshalOpts)
}

func (p *Provider) typ(token string) (*Type, error) {
	t, ok := p.Types[token]
	if !ok {
		return nil, fmt.Errorf("%s stand-in does not implement %s", p.Name, token)
	}
	return t, nil
}

// Serve runs the provider as a plugin: prints its port, watches the engine
// (its first argument) and exits when the engine goes away.
func Serve(p *Provider) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan bool)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, p)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d\n", handle.Port)
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		if err := rpcutil.Healthcheck(ctx, os.Args[1], time.Second, cancel); err != nil {
			return err
		}
		go func() { <-ctx.Done(); close(stop) }()
	}
	return <-handle.Done
}

// GetPluginInfo reports the version.
func (p *Provider) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: p.Version}, nil
}

// GetSchema returns an empty schema: Go programs do not need one.
func (p *Provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: "{}"}, nil
}

// CheckConfig accepts the config as given.
func (p *Provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// DiffConfig reports the config keys that changed as an update, never a
// replacement, as the bridged providers do for these properties. The engine
// then configures a fresh provider with the new config for the update; a
// stand-in that said "no change" would keep the old one (a rotated password,
// say) for the rest of the run.
func (p *Provider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, news, err := diffInputs(req)
	if err != nil {
		return nil, err
	}
	if keys := changedKeys(olds, news); len(keys) > 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: keys}, nil
	}
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// Configure passes the config on and accepts secrets and previews.
func (p *Provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		for k, v := range req.GetVariables() {
			key := k[strings.LastIndex(k, ":")+1:]
			args[resource.PropertyKey(key)] = resource.NewStringProperty(v)
		}
	}
	if p.OnConfigure != nil {
		if err := p.OnConfigure(args); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

// Check applies the type's autonaming and schema defaults.
func (p *Provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	urn := resource.URN(req.GetUrn())
	t, err := p.typ(string(urn.Type()))
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	if t.Autoname != nil {
		news = t.Autoname(urn, olds, news, req.GetRandomSeed())
	}
	for k, v := range t.Defaults {
		if cur, ok := news[resource.PropertyKey(k)]; !ok || cur.IsNull() {
			news[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
	}
	out, err := marshal(news)
	return &pulumirpc.CheckResponse{Inputs: out}, err
}

// Diff compares the new inputs with the old ones; ForceNew and ReplaceIf
// decide replacement. A refresh calls it too (with the live values as olds),
// so it is how drift shows.
func (p *Provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	urn := resource.URN(req.GetUrn())
	t, err := p.typ(string(urn.Type()))
	if err != nil {
		return nil, err
	}
	olds, news, err := diffInputs(req)
	if err != nil {
		return nil, err
	}
	if err := diffOutputs(t, req, olds, news); err != nil {
		return nil, err
	}
	ignore := map[string]bool{}
	for _, k := range req.GetIgnoreChanges() {
		ignore[k] = true
	}
	forceNew := map[string]bool{}
	for _, k := range t.ForceNew {
		forceNew[k] = true
	}
	if t.ReplaceIf != nil {
		for _, k := range t.ReplaceIf(Plain(olds), Plain(news)) {
			forceNew[k] = true
		}
	}
	resp := &pulumirpc.DiffResponse{DetailedDiff: map[string]*pulumirpc.PropertyDiff{}, HasDetailedDiff: true}
	po, pn := Plain(olds), Plain(news)
	for _, k := range changedKeys(olds, news) {
		if ignore[k] || (t.Same != nil && t.Same(k, po, pn)) {
			continue
		}
		o, n := olds[resource.PropertyKey(k)], news[resource.PropertyKey(k)]
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case isNull(o):
			kind = pulumirpc.PropertyDiff_ADD
		case isNull(n):
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if forceNew[k] {
			resp.Replaces = append(resp.Replaces, k)
			kind += pulumirpc.PropertyDiff_ADD_REPLACE - pulumirpc.PropertyDiff_ADD
		}
		resp.Diffs = append(resp.Diffs, k)
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	if len(resp.Diffs) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.DeleteBeforeReplace = len(resp.Replaces) > 0 && t.DeleteBeforeReplace
	} else {
		resp.Changes = pulumirpc.DiffResponse_DIFF_NONE
	}
	return resp, nil
}

// diffInputs reads a diff request's old inputs (the old state where a state
// has none) and new inputs.
func diffInputs(req *pulumirpc.DiffRequest) (olds, news resource.PropertyMap, err error) {
	if olds, err = unmarshal(req.GetOldInputs()); err != nil {
		return nil, nil, err
	}
	if len(olds) == 0 {
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, nil, err
		}
	}
	news, err = unmarshal(req.GetNews())
	return olds, news, err
}

// diffOutputs puts the prior outputs of the type's DiffOutputs keys in olds,
// for the keys the program sets.
func diffOutputs(t *Type, req *pulumirpc.DiffRequest, olds, news resource.PropertyMap) error {
	if len(t.DiffOutputs) == 0 {
		return nil
	}
	outs, err := unmarshal(req.GetOlds())
	if err != nil {
		return err
	}
	for _, k := range t.DiffOutputs {
		key := resource.PropertyKey(k)
		if v, ok := outs[key]; ok && news.HasValue(key) {
			olds[key] = v
		}
	}
	return nil
}

// changedKeys lists, sorted, the keys whose value differs between olds and
// news (engine-internal "__" keys left out).
func changedKeys(olds, news resource.PropertyMap) []string {
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if !strings.HasPrefix(string(k), "__") && changed(olds[k], news[k]) {
			out = append(out, string(k))
		}
	}
	sort.Strings(out)
	return out
}

func isNull(v resource.PropertyValue) bool {
	if v.IsSecret() {
		return isNull(v.SecretValue().Element)
	}
	return v.IsNull() || (v.IsArray() && len(v.ArrayValue()) == 0) || (v.IsObject() && len(v.ObjectValue()) == 0)
}

// isZero is a number 0 or false: the SDK's empty value for an optional
// scalar, which the bridge does not report as a set input.
func isZero(v resource.PropertyValue) bool {
	return (v.IsNumber() && v.NumberValue() == 0) || (v.IsBool() && !v.BoolValue())
}

func changed(o, n resource.PropertyValue) bool {
	if n.ContainsUnknowns() {
		return true
	}
	if isNull(o) && isNull(n) {
		return false
	}
	po, _ := plainValue(o)
	pn, _ := plainValue(n)
	return !reflect.DeepEqual(dropZeroFields(po), dropZeroFields(pn))
}

// dropZeroFields removes, inside lists and nested objects, fields holding a
// zero value ("", false, 0, an empty list or object): a nested Optional
// attribute the program leaves out is its zero value in the provider's state
// (helper/schema reads unset nested attributes as zero values), so the
// absent and the zero value are the same thing to the provider.
func dropZeroFields(v any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = dropZeroNested(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			out[k] = dropZeroFields(e)
		}
		return out
	}
	return v
}

func dropZeroNested(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return dropZeroFields(v)
	}
	out := map[string]any{}
	for k, e := range m {
		switch z := e.(type) {
		case nil:
			continue
		case string:
			if z == "" {
				continue
			}
		case bool:
			if !z {
				continue
			}
		case float64:
			if z == 0 {
				continue
			}
		case []any:
			if len(z) == 0 {
				continue
			}
		case map[string]any:
			if len(z) == 0 {
				continue
			}
		}
		out[k] = dropZeroNested(e)
	}
	return out
}

// annotate marks as secret every output whose input was secret, and the
// type's secret outputs.
func annotate(t *Type, out resource.PropertyMap, ins ...resource.PropertyMap) resource.PropertyMap {
	for _, in := range ins {
		for k, v := range in {
			if v.ContainsSecrets() {
				if o, ok := out[k]; ok && !o.IsSecret() {
					out[k] = resource.MakeSecret(o)
				}
			}
		}
	}
	for _, k := range t.SecretOutputs {
		if o, ok := out[resource.PropertyKey(k)]; ok && !o.IsSecret() {
			out[resource.PropertyKey(k)] = resource.MakeSecret(o)
		}
	}
	return out
}

// Create makes the resource, or in a preview returns the planned outputs.
func (p *Provider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	urn := resource.URN(req.GetUrn())
	t, err := p.typ(string(urn.Type()))
	if err != nil {
		return nil, err
	}
	in, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		out := in.Copy()
		for _, k := range t.Computed {
			if _, ok := out[resource.PropertyKey(k)]; !ok {
				out[resource.PropertyKey(k)] = resource.MakeComputed(resource.NewStringProperty(""))
			}
		}
		s, err := marshal(out)
		return &pulumirpc.CreateResponse{Properties: s}, err
	}
	if err := p.Faults.Before(ctx, "create", string(urn.Type())); err != nil {
		return nil, err
	}
	id, out, err := t.Impl.Create(ctx, urn, Plain(in))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", urn.Name(), err)
	}
	p.Faults.After(ctx)
	s, err := marshal(annotate(t, FromPlain(out), in))
	return &pulumirpc.CreateResponse{Id: id, Properties: s}, err
}

// Read reports the live resource: outputs, and inputs with the live values of
// every input the state holds, so a refresh's Diff shows drift.
func (p *Provider) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	urn := resource.URN(req.GetUrn())
	t, err := p.typ(string(urn.Type()))
	if err != nil {
		return nil, err
	}
	oldOut, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	oldIn, err := unmarshal(req.GetInputs())
	if err != nil {
		return nil, err
	}
	if err := p.Faults.Before(ctx, "read", string(urn.Type())); err != nil {
		return nil, err
	}
	out, found, err := t.Impl.Read(ctx, req.GetId(), Plain(oldIn), Plain(oldOut))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", req.GetId(), err)
	}
	if !found {
		return &pulumirpc.ReadResponse{}, nil
	}
	outs := annotate(t, FromPlain(out), oldIn, oldOut)
	ins := resource.PropertyMap{}
	for k, v := range oldIn {
		if live, ok := outs[k]; ok {
			ins[k] = live
		} else {
			ins[k] = v
		}
	}
	if len(oldIn) == 0 {
		// An import or adoption: the inputs are what the resource holds,
		// less what the cloud computes.
		computed := map[string]bool{"tagsAll": true}
		for _, k := range t.Computed {
			computed[k] = true
		}
		for k, v := range outs {
			if !computed[string(k)] {
				ins[k] = v
			}
		}
	}
	for _, k := range t.LiveInputs {
		if v, ok := outs[resource.PropertyKey(k)]; ok && !isNull(v) && !isZero(v) {
			ins[resource.PropertyKey(k)] = v
		}
	}
	ins = annotate(t, ins, oldIn)
	so, err := marshal(outs)
	if err != nil {
		return nil, err
	}
	si, err := marshal(ins)
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: so, Inputs: si}, err
}

// Update changes the resource in place, or previews the outputs.
func (p *Provider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	urn := resource.URN(req.GetUrn())
	t, err := p.typ(string(urn.Type()))
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		out := olds.Copy()
		for k, v := range news {
			out[k] = v
		}
		s, err := marshal(out)
		return &pulumirpc.UpdateResponse{Properties: s}, err
	}
	if err := p.Faults.Before(ctx, "update", string(urn.Type())); err != nil {
		return nil, err
	}
	out, err := t.Impl.Update(ctx, req.GetId(), Plain(olds), Plain(news))
	if err != nil {
		return nil, fmt.Errorf("update %s: %w", req.GetId(), err)
	}
	p.Faults.After(ctx)
	s, err := marshal(annotate(t, FromPlain(out), news))
	return &pulumirpc.UpdateResponse{Properties: s}, err
}

// Delete removes the resource.
func (p *Provider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*pbempty.Empty, error) {
	urn := resource.URN(req.GetUrn())
	t, err := p.typ(string(urn.Type()))
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if err := p.Faults.Before(ctx, "delete", string(urn.Type())); err != nil {
		return nil, err
	}
	if err := t.Impl.Delete(ctx, req.GetId(), Plain(olds)); err != nil {
		return nil, fmt.Errorf("delete %s: %w", req.GetId(), err)
	}
	return &pbempty.Empty{}, nil
}

// Invoke answers a provider function.
func (p *Provider) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	f, ok := p.Invokes[req.GetTok()]
	if !ok {
		return nil, fmt.Errorf("%s stand-in does not implement function %s", p.Name, req.GetTok())
	}
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	out, err := f(ctx, Plain(args))
	if err != nil {
		return nil, err
	}
	s, err := marshal(out)
	return &pulumirpc.InvokeResponse{Return: s}, err
}

// Cancel is a no-op: every call is short.
func (p *Provider) Cancel(context.Context, *pbempty.Empty) (*pbempty.Empty, error) {
	return &pbempty.Empty{}, nil
}

// GetMapping reports no mappings.
func (p *Provider) GetMapping(context.Context, *pulumirpc.GetMappingRequest) (*pulumirpc.GetMappingResponse, error) {
	return &pulumirpc.GetMappingResponse{}, nil
}
