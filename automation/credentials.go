package automation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// postgresProviderType is the type of an explicit postgresql provider in
// the state; its config holds the admin's password.
const postgresProviderType = "pulumi:providers:postgresql"

// credentialKeys are the provider config keys a rotation of the admin's
// credential changes.
var credentialKeys = map[string]bool{"password": true}

// staleLogin reports whether err is a PostgreSQL login refused for its
// password (SQLSTATE 28P01): after a rotation, the refresh logs in with the
// provider config stored in the state.
func staleLogin(err error) bool { return err != nil && strings.Contains(err.Error(), "SQLSTATE 28P01") }

// followCredentials brings the postgresql providers' config in the state to
// the admin credential the program reads now (the current RDS master secret),
// after a login with the stored one failed. It changes nothing else: a
// preview targeted at the providers must plan an update of their password
// alone (a rotation), then an update targeted at them writes it into the
// state. Anything else (a changed host, a password changed by hand that the
// secret does not hold) leaves the state alone and returns an error that
// says so. The update runs the program, whose own writers (the loopback
// login) run as in any update.
func (op *opened) followCredentials(ctx context.Context, o *options, rep *StackReport) error {
	changed, err := op.rotatedProviders(ctx, o)
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		return errors.New("the program reads the same credential as the state holds: the admin's password was changed without its secret")
	}
	return op.storeCredentials(ctx, o, rep, changed)
}

// storeCredentials writes the program's current credential into the state of
// the providers changed (rotatedProviders), with an update targeted at them.
func (op *opened) storeCredentials(ctx context.Context, o *options, rep *StackReport, changed []string) error {
	uopts := []optup.Option{optup.Target(changed)}
	if o.progress != nil {
		uopts = append(uopts, optup.ProgressStreams(o.progress))
	}
	if _, err := op.stack.Up(ctx, uopts...); err != nil {
		return fmt.Errorf("update the providers' credentials: %w", cliError(err))
	}
	rep.Notes = append(rep.Notes, "the admin's credential was rotated since the last update: the postgresql providers now use the current one ("+
		strings.Join(names(changed), ", ")+"; nothing else was changed)")
	o.logger().Info("providers follow the rotated admin credential", "stack", op.stack.Name(), "providers", len(changed))
	return nil
}

// rotatedProviders previews the postgresql providers alone (no refresh, so
// nothing logs in) and lists those whose config the program changes in their
// password alone: a rotated admin credential. Any other change of theirs is
// an error that says it is not a rotation.
func (op *opened) rotatedProviders(ctx context.Context, o *options) ([]string, error) {
	urns, err := op.providerURNs(ctx, postgresProviderType)
	if err != nil || len(urns) == 0 {
		return nil, errors.Join(err, errors.New("no postgresql provider in the state"))
	}
	ch := make(chan events.EngineEvent)
	done := make(chan struct{})
	var changed, other []string
	go func() {
		defer close(done)
		for ev := range ch {
			if e := ev.ResourcePreEvent; e != nil && e.Metadata.Op != "same" && e.Metadata.Op != "read" {
				if credentialOnly(e.Metadata) {
					changed = append(changed, e.Metadata.URN)
				} else {
					other = append(other, string(e.Metadata.Op)+" "+e.Metadata.URN+" ("+strings.Join(e.Metadata.Diffs, ", ")+")")
				}
			}
		}
	}()
	_, err = op.stack.Preview(ctx, optpreview.Target(urns), optpreview.EventStreams(ch))
	waitEvents(done, err)
	switch {
	case err != nil:
		return nil, fmt.Errorf("preview the providers' credentials: %w", cliError(err))
	case len(other) > 0:
		return nil, fmt.Errorf("the providers' config changed beyond the credential (%s): not a rotation", strings.Join(other, "; "))
	}
	return changed, nil
}

// providerURNs lists the state's resources of type typ (explicit providers,
// components).
func (op *opened) providerURNs(ctx context.Context, typ string) ([]string, error) {
	_, exported, err := exportState(ctx, op.stack)
	if err != nil {
		return nil, err
	}
	dep, err := parseDeployment(exported)
	if err != nil {
		return nil, err
	}
	var urns []string
	for _, r := range dep.resources {
		if str(r, "type") == typ {
			urns = append(urns, str(r, "urn"))
		}
	}
	return urns, nil
}

// credentialOnly reports whether step updates a postgresql provider's
// credential and nothing else (a rotated admin password).
func credentialOnly(step apitype.StepEventMetadata) bool {
	return step.Op == apitype.OpUpdate && strings.HasPrefix(step.Type, postgresProviderType) && onlyKeys(step.Diffs, credentialKeys)
}

// onlyKeys reports whether every changed key is one of keys (and one is).
func onlyKeys(diffs []string, keys map[string]bool) bool {
	for _, d := range diffs {
		if !keys[d] {
			return false
		}
	}
	return len(diffs) > 0
}

// names are the URNs' resource names.
func names(urns []string) []string {
	out := make([]string, len(urns))
	for i, u := range urns {
		out[i] = urnName(u)
	}
	return out
}
