package standin

import (
	"context"
	"fmt"

	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Create, Read, Update and Delete, with their previews, faults and latency.

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
