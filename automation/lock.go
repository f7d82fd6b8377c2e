package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/postgis-platform/deployer/stacks"
	"github.com/postgis-platform/deployer/statestore"
)

// Lock is a stack lock a run holds (or left behind when killed), as the CLI
// writes it (upstream: pkg/backend/diy/lock.go lockContent).
type Lock struct {
	// Key is the lock's key in the backend; Path is where a user finds it
	// (the file, or the backend URL and the key).
	Key       string    `json:"-"`
	Path      string    `json:"path"`
	Pid       int       `json:"pid"`
	Username  string    `json:"username"`
	Hostname  string    `json:"hostname"`
	Timestamp time.Time `json:"timestamp"`
}

// Alive reports whether the process that took the lock still runs (only
// knowable on the same host).
func (l Lock) Alive() (alive, known bool) {
	host, _ := os.Hostname()
	if l.Hostname != host || l.Pid <= 0 {
		return false, false
	}
	if err := syscall.Kill(l.Pid, 0); err != nil && err != syscall.EPERM {
		return false, true
	}
	// A killed run's orphans may linger as zombies until reaped: not running.
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", l.Pid)); err == nil {
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return false, true
		}
	}
	return true, true
}

func (l Lock) String() string {
	return fmt.Sprintf("%s (pid %d on %s, by %s, at %s)", l.Path, l.Pid, l.Hostname, l.Username, l.Timestamp.UTC().Format(time.RFC3339))
}

// Locks lists a stack's locks on any backend deployer supports, read through
// the storage the CLI writes them with. Preview and preview-only refresh take
// none, so deployer checks before it starts.
func Locks(ctx context.Context, backendURL, stack string) ([]Lock, error) {
	st, err := statestore.Open(ctx, backendURL)
	if err != nil {
		return nil, fmt.Errorf("open backend %s to read its locks: %w", Redact(backendURL), err)
	}
	defer st.Close()
	return readLocks(ctx, st, backendURL, stack)
}

func readLocks(ctx context.Context, st statestore.Store, backendURL, stack string) ([]Lock, error) {
	keys, err := st.List(ctx, statestore.LockPrefix(stacks.Project, stack))
	if err != nil {
		return nil, fmt.Errorf("list the locks of %q: %w", stack, err)
	}
	var locks []Lock
	for _, key := range keys {
		if !strings.HasSuffix(key, ".json") {
			continue
		}
		raw, err := st.Read(ctx, key)
		if errors.Is(err, statestore.ErrNotFound) {
			continue // released while listing
		}
		if err != nil {
			return nil, err
		}
		l := Lock{Key: key, Path: lockLocation(backendURL, key)}
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, fmt.Errorf("lock %s is unreadable: %w", l.Path, err)
		}
		l.Key, l.Path = key, lockLocation(backendURL, key)
		locks = append(locks, l)
	}
	sort.Slice(locks, func(i, j int) bool { return locks[i].Path < locks[j].Path })
	return locks, nil
}

// lockLocation is a lock's file for a file backend, else the backend URL
// (without its query and password) and the key.
func lockLocation(backendURL, key string) string {
	if root, err := statestore.FileRoot(backendURL); err == nil && strings.HasPrefix(backendURL, "file:") {
		return filepath.Join(root, filepath.FromSlash(key))
	}
	u, err := url.Parse(backendURL)
	if err != nil {
		return key
	}
	u.User, u.RawQuery = nil, ""
	return strings.TrimSuffix(u.String(), "/") + "/" + key
}

// PendingOperation is an operation an interrupted run left in the state.
type PendingOperation struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Op   string `json:"op"`
}

// pendingOperations reads them from the state file of a file backend, else
// from the stack's export.
func pendingOperations(ctx context.Context, backendURL string, st auto.Stack) ([]PendingOperation, error) {
	if dep, ok := fileDeployment(backendURL, st.Name()); ok {
		return parsePending(dep)
	}
	dep, err := st.Export(ctx)
	if err != nil {
		return nil, fmt.Errorf("export state: %w", cliError(err))
	}
	return parsePending(dep.Deployment)
}

func parsePending(deployment json.RawMessage) ([]PendingOperation, error) {
	var d struct {
		Pending []struct {
			Resource struct {
				URN  string `json:"urn"`
				Type string `json:"type"`
				ID   string `json:"id"`
			} `json:"resource"`
			Type string `json:"type"`
		} `json:"pending_operations"`
	}
	if len(deployment) > 0 && string(deployment) != "null" {
		if err := json.Unmarshal(deployment, &d); err != nil {
			return nil, fmt.Errorf("read state: %w", err)
		}
	}
	var out []PendingOperation
	for _, p := range d.Pending {
		out = append(out, PendingOperation{URN: p.Resource.URN, Type: p.Resource.Type, ID: p.Resource.ID, Op: p.Type})
	}
	return out, nil
}

// checkRunnable refuses a stack that is locked or has pending operations,
// naming them and the command that resolves them.
func checkRunnable(ctx context.Context, s Settings, name string, st auto.Stack) ([]string, error) {
	var notes []string
	locks, err := Locks(ctx, s.BackendURL, name)
	if err != nil {
		return nil, err
	}
	if len(locks) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "stack %q is locked by %d run(s):", name, len(locks))
		for _, l := range locks {
			alive, known := l.Alive()
			state := "state unknown (other host)"
			if known && alive {
				state = "still running"
			} else if known {
				state = "not running: a stale lock"
			}
			fmt.Fprintf(&b, "\n  %s, %s", l, state)
		}
		fmt.Fprintf(&b, "\nwait for it to finish, or clear a stale lock with `deployer unlock --stack %s`", name)
		return notes, fmt.Errorf("%s", b.String())
	}
	pending, err := pendingOperations(ctx, s.BackendURL, st)
	if err != nil {
		return notes, err
	}
	if len(pending) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "stack %q has %d pending operation(s) from an interrupted run:", name, len(pending))
		for _, p := range pending {
			fmt.Fprintf(&b, "\n  %s %s %s", p.Op, p.URN, p.ID)
		}
		fmt.Fprintf(&b, "\nresolve them with `deployer reconcile --stack %s --pending` (imports what exists in the cloud, drops the rest)", name)
		return notes, fmt.Errorf("%s", b.String())
	}
	return notes, nil
}
