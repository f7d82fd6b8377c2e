package main

import (
	"strings"
	"testing"
)

// A typo in --stack creates nothing: up creates a stack only from its config
// file, and every command names the stack and lists the known ones.
func TestTypoStackIsNotCreated(t *testing.T) {
	d := deployLocal(t)
	for _, cmd := range []string{"up", "drift", "preview", "verify"} {
		code, out, errOut := runDeployer(t, cmd, "--stack", "prdo", "--quiet", "--project-dir", d.Settings.ProjectDir, "--backend", d.Settings.BackendURL)
		text := out + errOut
		if code != 1 || !strings.Contains(text, `stack "prdo" does not exist`) || !strings.Contains(text, "known stacks: local") {
			t.Fatalf("%s --stack prdo: exit %d\n%s", cmd, code, text)
		}
	}
	st := d.Stack(t, d.Name, nil)
	list, err := st.Workspace().ListStacks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Name == "prdo" {
			t.Fatal("a stack named prdo was created")
		}
	}
}
