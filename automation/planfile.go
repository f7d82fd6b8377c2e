package automation

import (
	"bytes"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

// planOptions holds the update to the saved plan, unless the plan cannot
// pin it: a resource whose provider is configured from values known only
// during the update (the PostgreSQL provider of a first deployment, which
// logs in to an instance the same update creates). The engine does not call
// such a provider's Check in a preview, so the plan lacks the defaults its
// Check adds and the update would violate it (pkg resource/plugin
// provider_plugin.go Check: "If the configuration for this provider was not
// fully known ... don't call into the underlying provider"). Then the update
// runs without the plan, after the same guard and policy gate, and the
// report says so.
func planOptions(planFile string, rep *StackReport) ([]optup.Option, error) {
	raw, err := os.ReadFile(planFile)
	if err != nil {
		return nil, fmt.Errorf("read the update plan: %w", err)
	}
	if unpinned(raw) {
		rep.Notes = append(rep.Notes, "the update ran without the saved plan: some resources' provider is configured from values the update itself creates (a first deployment), so the plan could not pin them; the guard and the policy gate judged the preview as always")
		return nil, nil
	}
	return []optup.Option{optup.Plan(planFile)}, nil
}

// unpinned reports an engine plan that cannot pin every resource (see
// planOptions): such a plan is not saved for up --plan, which always holds
// the update to the plan it applies.
func unpinned(engine []byte) bool {
	return bytes.Contains(engine, []byte("::"+plugin.UnknownStringValue))
}
