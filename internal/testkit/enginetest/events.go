package enginetest

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

func key(typ, urn string) string { return typ + "/" + urn[strings.LastIndex(urn, "::")+2:] }

// PreviewOps runs a preview and returns each step's operations by "type/name".
func PreviewOps(t testing.TB, st auto.Stack, opts ...optpreview.Option) map[string][]string {
	t.Helper()
	ch := make(chan events.EngineEvent)
	ops := map[string][]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			if ev.ResourcePreEvent != nil {
				m := ev.ResourcePreEvent.Metadata
				ops[key(m.Type, m.URN)] = append(ops[key(m.Type, m.URN)], string(m.Op))
			}
		}
	}()
	if _, err := st.Preview(context.Background(), append(opts, optpreview.EventStreams(ch))...); err != nil {
		t.Fatalf("preview: %v", err)
	}
	<-done
	return ops
}

// Drift runs a preview-only refresh and returns the drifted properties by
// "type/name" (a refresh reports them on the outputs event, op "update"),
// with "(deleted)" for resources gone from the cloud.
func Drift(t testing.TB, st auto.Stack) (map[string][]string, auto.PreviewResult) {
	t.Helper()
	ch := make(chan events.EngineEvent)
	out := map[string][]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			if e := ev.ResOutputsEvent; e != nil {
				switch e.Metadata.Op {
				case apitype.OpUpdate:
					out[key(e.Metadata.Type, e.Metadata.URN)] = append(out[key(e.Metadata.Type, e.Metadata.URN)], e.Metadata.Diffs...)
				case apitype.OpDelete:
					out[key(e.Metadata.Type, e.Metadata.URN)] = []string{"(deleted)"}
				}
			}
		}
	}()
	res, err := st.PreviewRefresh(context.Background(), optrefresh.EventStreams(ch))
	if err != nil {
		t.Fatalf("preview-only refresh: %v", err)
	}
	<-done
	return out, res
}
