package stacks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"

	"github.com/postgis-platform/deployer/internal/enginetest"
	"github.com/postgis-platform/deployer/stacks"
)

func TestLocalStackUpAndRefreshReportsLiveRules(t *testing.T) {
	l := enginetest.NewLocal(t)
	st := l.Stack(t, l.Name, stacks.Platform)
	l.Configure(t, st)
	ctx := context.Background()
	up, err := st.Up(ctx)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	ch := make(chan events.EngineEvent)
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			if d := ev.DiagnosticEvent; d != nil && strings.Contains(d.Message, stacks.LiveRulesPrefix) {
				lines = append(lines, d.Message)
			}
		}
	}()
	res, err := st.PreviewRefresh(ctx, optrefresh.EventStreams(ch), optrefresh.RunProgram(true))
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ChangeSummary) != 1 || res.ChangeSummary["same"] != len(res.ChangeSummary)*res.ChangeSummary["same"] {
		t.Fatalf("a refresh right after up drifts: %v", res.ChangeSummary)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], `"ruleIds":["sgr-`) {
		t.Fatalf("live rules line: %q", lines)
	}
	if n := (*up.Summary.ResourceChanges)["create"]; n < 50 {
		t.Fatalf("created %d resources", n)
	}
}
