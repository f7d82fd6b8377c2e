package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// checkOutputs checks, before anything runs, every path the command will
// write (--json, --markdown, --markdown-dir, --backup-dir), so a run never changes the cloud
// and then fails for want of a place to write its report.
func checkOutputs(cmd *cobra.Command) error {
	for _, name := range []string{"json", "markdown", "markdown-dir", "backup-dir", "save-plan"} {
		f := cmd.Flags().Lookup(name)
		if f == nil || f.Value.String() == "" || f.Value.String() == "-" {
			continue
		}
		path := f.Value.String()
		check := writableFile
		if name == "backup-dir" || name == "markdown-dir" {
			check = writableDir
		}
		if err := check(path); err != nil {
			return fmt.Errorf("--%s %s: %v: give a path in an existing, writable folder (nothing was run)", name, path, err)
		}
	}
	return nil
}

// writableFile reports why path cannot be written: its folder is missing or
// not writable, or path is a folder or a file that cannot be opened for
// writing. It creates nothing.
func writableFile(path string) error {
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return errors.New("is a folder")
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return errors.Unwrap(err)
		}
		return f.Close()
	}
	parent := filepath.Dir(path)
	if _, err := os.Stat(parent); errors.Is(err, os.ErrNotExist) {
		return errors.New("its folder does not exist")
	}
	return writableDir(parent)
}

// writableDir reports why a folder cannot be written to, or (when it does not
// exist yet) created in its nearest existing parent. It creates nothing.
func writableDir(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		parent := filepath.Dir(dir)
		if parent == dir {
			return errors.New("no such folder")
		}
		if err := writableDir(parent); err != nil {
			return fmt.Errorf("cannot be created: %s: %v", parent, err)
		}
		return nil
	}
	if err != nil {
		return errors.Unwrap(err)
	}
	if !st.IsDir() {
		return errors.New("is not a folder")
	}
	probe, err := os.CreateTemp(dir, ".deployer-write-check-*")
	if err != nil {
		return errors.New("not writable")
	}
	probe.Close()
	return os.Remove(probe.Name())
}
