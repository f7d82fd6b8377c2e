package standin

import (
	"context"
	"fmt"
	"log/slog"
	"os"
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

// Invoke answers a provider function.
func (p *Provider) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	f, ok := p.Invokes[req.GetTok()]
	if !ok {
		return nil, fmt.Errorf("%s stand-in does not implement function %s", p.Name, req.GetTok())
	}
	if err := p.Faults.Fail("invoke", req.GetTok()); err != nil {
		return nil, err
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
