// Package standin is the shared plumbing of the offline provider stand-ins
// (pulumi-resource-aws, pulumi-resource-postgresql) that let the real Pulumi
// engine run this project's stacks on machines where the real provider
// plugins cannot be downloaded. They are used only by tests and the local
// demo stack, never in place of a real plugin a user has installed.
package standin

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// Object is one resource in the stand-in's "cloud".
type Object struct {
	Type  string         `json:"type"`
	ID    string         `json:"id"`
	Props map[string]any `json:"props"`
}

// Cloud is the whole fake cloud, kept in one JSON file.
type Cloud struct {
	Objects  map[string]*Object `json:"objects"`
	Secrets  map[string]string  `json:"secrets,omitempty"`
	Counters map[string]int     `json:"counters,omitempty"`
}

// Store is the cloud file in a directory, safe for concurrent plugin
// processes: every change holds an exclusive flock and is written to a temp
// file then renamed into place.
type Store struct {
	Dir string
}

// File is the path of the cloud file.
func (s Store) File() string { return filepath.Join(s.Dir, "cloud.json") }

func (s Store) lock(exclusive bool) (func(), error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, "cloud.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func (s Store) read() (*Cloud, error) {
	c := &Cloud{}
	b, err := os.ReadFile(s.File())
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, c); err != nil {
			return nil, fmt.Errorf("cloud file %s is corrupt: %w", s.File(), err)
		}
	}
	if c.Objects == nil {
		c.Objects = map[string]*Object{}
	}
	if c.Secrets == nil {
		c.Secrets = map[string]string{}
	}
	if c.Counters == nil {
		c.Counters = map[string]int{}
	}
	return c, nil
}

// locked runs f on the cloud read under the lock.
func (s Store) locked(exclusive bool, f func(*Cloud) error) error {
	unlock, err := s.lock(exclusive)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := s.read()
	if err != nil {
		return err
	}
	return f(c)
}

// View reads the cloud under a shared lock.
func (s Store) View(f func(*Cloud) error) error { return s.locked(false, f) }

// Update changes the cloud under an exclusive lock; nothing is written when
// f fails.
func (s Store) Update(f func(*Cloud) error) error {
	return s.locked(true, func(c *Cloud) error {
		if err := f(c); err != nil {
			return err
		}
		return s.write(c)
	})
}

func (s Store) write(c *Cloud) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.File() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.File())
}

// OfType returns the objects of a type, sorted by ID.
func (c *Cloud) OfType(typ string) []*Object {
	var out []*Object
	for _, o := range c.Objects {
		if o.Type == typ {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
