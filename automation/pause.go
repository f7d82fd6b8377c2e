package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path"
	"strings"
	"time"

	"github.com/postgis-platform/deployer/statestore"
)

// Pausing a stack: the drift-recovery sequence starts by stopping the
// pipelines, so no CI `up` races the operator's reconciliation. The pause is
// a record in the state backend beside the stack, which every runner reads.

// ErrPaused is returned (wrapped) when up stops because the stack is paused.
var ErrPaused = errors.New("stack paused")

// Pause is a stack's pause: who took it, when, and why.
type Pause struct {
	Project string    `json:"project"`
	Stack   string    `json:"stack"`
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

func (p Pause) String() string {
	return fmt.Sprintf("paused by %s at %s: %s", p.By, p.At.Format(time.RFC3339), p.Reason)
}

// pauseKey is where a stack's pause is kept, beside the CLI's own keys (it
// ignores other folders of the backend).
func pauseKey(project, stack string) string {
	return path.Join(".deployer", "pauses", project, stack+".json")
}

// maxReason bounds a pause's reason (it is printed in every report).
const maxReason = 500

// PauseStack pauses a stack until ResumeStack: while the pause holds, up
// refuses (exit 3) unless told to run while paused, and the other sequences
// say it. It refuses an empty reason, a stack the backend does not hold and
// a stack already paused (naming that pause).
func PauseStack(ctx context.Context, s Settings, stack, reason string) StackReport {
	ss := s.session(ctx, stack, &options{})
	return ss.finish(ss.pause(reason))
}

// ResumeStack ends a stack's pause; a stack that is not paused is noted.
func ResumeStack(ctx context.Context, s Settings, stack string) StackReport {
	ss := s.session(ctx, stack, &options{})
	return ss.finish(ss.resume())
}

func (ss *session) pause(reason string) error {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return at("input", errors.New("--reason is required: say why the stack is paused (it is shown to every run until `deployer resume`)"))
	case len(reason) > maxReason || strings.ContainsAny(reason, "\n\r"):
		return at("input", fmt.Errorf("--reason: one line of at most %d characters", maxReason))
	}
	return ss.withPauses(func(st statestore.Store, project string) error {
		if err := ss.stackExists(st, project); err != nil {
			return err
		}
		if p, err := readPause(ss.ctx, st, project, ss.name); err != nil || p != nil {
			return errors.Join(err, pausedAlready(p))
		}
		p := Pause{Project: project, Stack: ss.name, Reason: reason, By: operator(), At: time.Now().UTC().Truncate(time.Second)}
		raw, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if err := st.Write(ss.ctx, pauseKey(project, ss.name), raw); err != nil {
			return err
		}
		ss.note("%s", p)
		return nil
	})
}

func pausedAlready(p *Pause) error {
	if p == nil {
		return nil
	}
	return fmt.Errorf("stack %q is already %s; `deployer resume --stack %s` first to pause it anew", p.Stack, p, p.Stack)
}

func (ss *session) resume() error {
	return ss.withPauses(func(st statestore.Store, project string) error {
		p, err := readPause(ss.ctx, st, project, ss.name)
		switch {
		case errors.Is(err, errCorruptPause):
			ss.note("removed a corrupt pause record")
		case err != nil:
			return err
		case p == nil:
			ss.note("stack %q is not paused: nothing to resume", ss.name)
			return nil
		default:
			ss.note("resumed: the pause ended (it was %s)", p)
		}
		if err := st.Delete(ss.ctx, pauseKey(project, ss.name)); err != nil && !errors.Is(err, statestore.ErrNotFound) {
			return err
		}
		return nil
	})
}

// withPauses opens the backend's store (step "pause") for f.
func (ss *session) withPauses(f func(st statestore.Store, project string) error) error {
	if err := ss.checkName(); err != nil {
		return err
	}
	if err := ss.s.Validate(); err != nil {
		return at("open", fmt.Errorf("%w: %v", ErrSettings, err))
	}
	if err := ValidateBackendURL(ss.s.BackendURL); err != nil {
		return at("open", err)
	}
	project, err := ss.s.ProjectName()
	if err != nil {
		return at("open", err)
	}
	st, err := statestore.Open(ss.ctx, ss.s.BackendURL)
	if err != nil {
		return at("pause", fmt.Errorf("open backend %s: %w", Redact(ss.s.BackendURL), err))
	}
	defer st.Close()
	return at("pause", f(st, project))
}

// stackExists refuses a stack the backend does not hold (a typo must not
// pause nothing).
func (ss *session) stackExists(st statestore.Store, project string) error {
	keys, err := st.List(ss.ctx, path.Join(".pulumi", "stacks", project, ss.name+".json"))
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return fmt.Errorf("stack %q does not exist in backend %s (known stacks: %s)", ss.name, Redact(ss.s.BackendURL), strings.Join(ss.s.knownStacks(), ", "))
	}
	return nil
}

// errCorruptPause marks a pause record that cannot be read: up refuses, the
// audits note it, resume removes it.
var errCorruptPause = errors.New("corrupt pause record")

// readPause is the stack's pause, or nil.
func readPause(ctx context.Context, st statestore.Store, project, stack string) (*Pause, error) {
	raw, err := st.Read(ctx, pauseKey(project, stack))
	if errors.Is(err, statestore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the pause of stack %q: %w", stack, err)
	}
	var p Pause
	if err := json.Unmarshal(raw, &p); err != nil || p.Stack != stack {
		return nil, fmt.Errorf("%w: the pause record of stack %q (%s) is corrupt; `deployer resume --stack %s` removes it", errCorruptPause, stack, pauseKey(project, stack), stack)
	}
	return &p, nil
}

// operator names who pauses: the CI actor, else user@host.
func operator() string {
	if a := os.Getenv("GITHUB_ACTOR"); a != "" {
		return a + " (GitHub Actions)"
	}
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// checkPause reads the stack's pause for a sequence already open: up stops
// on it (step "pause", exit 3) unless whilePaused; the others note it.
func (ss *session) checkPause(stop, whilePaused bool) error {
	project, err := ss.s.ProjectName()
	if err != nil {
		return at("pause", err)
	}
	st, err := statestore.Open(ss.ctx, ss.s.BackendURL)
	if err != nil {
		return at("pause", fmt.Errorf("open backend %s to read the stack's pause: %w", Redact(ss.s.BackendURL), err))
	}
	defer st.Close()
	p, err := readPause(ss.ctx, st, project, ss.name)
	switch {
	case err != nil && !stop:
		ss.note("%v (up refuses until it is removed)", err) // the audit still runs
		return nil
	case err != nil:
		return at("pause", err)
	case p == nil:
		return nil
	case stop && !whilePaused:
		return blockedf("pause", "%w: stack %q is %s. CI runs of up stop until `deployer resume --stack %s`; the operator's reconcile, refresh and `up --while-paused` run", ErrPaused, ss.name, p, ss.name)
	case stop:
		ss.note("stack %q is %s; up runs on --while-paused", ss.name, p)
	default:
		ss.note("stack %q is %s (up refuses until `deployer resume --stack %s`)", ss.name, p, ss.name)
	}
	return nil
}
