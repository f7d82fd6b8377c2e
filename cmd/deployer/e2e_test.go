package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
	"github.com/postgis-platform/deployer/stacks"
)

// deployed is a local stack deployed with a plain up, ready for the deployer.
type deployed struct {
	*enginetest.Local
	statePath string
}

func deployLocal(t *testing.T) *deployed {
	t.Helper()
	l := enginetest.NewLocal(t)
	l.Deploy(t)
	return &deployed{Local: l, statePath: filepath.Join(l.StateDir, ".pulumi", "stacks", stacks.Project, l.Name+".json")}
}

// deployer runs the command in-process with the stack's project and backend.
func (d *deployed) deployer(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	args = append(args, "--stack", d.Name, "--project-dir", d.Settings.ProjectDir)
	if !strings.Contains(strings.Join(args, " "), "--backend") {
		args = append(args, "--backend", d.Settings.BackendURL)
	}
	return runDeployer(t, args...)
}

func (d *deployed) state(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(d.statePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noSecrets fails when any secret of the stack appears in the texts.
func (d *deployed) noSecrets(t *testing.T, texts ...string) {
	t.Helper()
	all := strings.Join(texts, "\n")
	for name, v := range d.Secrets {
		if strings.Contains(all, v) {
			t.Errorf("secret %s leaked into the output", name)
		}
	}
	if strings.Contains(all, d.AdminPass) {
		t.Error("the admin password leaked into the output")
	}
}

func validateReport(t *testing.T, path string) automation.Report {
	t.Helper()
	schema, err := jsonschema.Compile(filepath.Join(testenv.RepoRoot(t), "docs", "report.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("report does not match docs/report.schema.json: %v\n%s", err, raw)
	}
	var r automation.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDriftCleanThenConsoleEdits(t *testing.T) {
	d := deployLocal(t)
	dir := t.TempDir()
	before := d.state(t)

	js, md := filepath.Join(dir, "clean.json"), filepath.Join(dir, "clean.md")
	code, out, errOut := d.deployer(t, "drift", "--json", js, "--markdown", md)
	if code != 0 {
		t.Fatalf("clean stack: exit %d\n%s\n%s", code, out, errOut)
	}
	if r := validateReport(t, js); r.ExitCode != 0 || r.Stacks[0].Result != "clean" || len(r.Stacks[0].Violations) != 0 {
		t.Fatalf("clean report: %+v", r.Stacks[0])
	}
	if d.state(t) != before {
		t.Fatal("drift changed the state file")
	}

	// Console edits: the ETL rule opened to the world, an extra rule on the
	// group, and CREATEDB on the workflow role.
	groupID := d.editCloud(t)
	d.psql(t, "ALTER ROLE "+d.Names["etlRole"]+" CREATEDB")

	js, md = filepath.Join(dir, "drift.json"), filepath.Join(dir, "drift.md")
	code, out, errOut = d.deployer(t, "drift", "--json", js, "--markdown", md)
	if code != 2 {
		t.Fatalf("drifted stack: exit %d, want 2\n%s\n%s", code, out, errOut)
	}
	r := validateReport(t, js)
	s := r.Stacks[0]
	got := map[string]string{}
	for _, c := range s.Changes {
		var props []string
		for _, p := range c.Properties {
			props = append(props, p.Path)
		}
		got[c.Type] = c.Kind + ":" + strings.Join(props, ",")
	}
	if got["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"] != "changed:cidrIpv4" || got["postgresql:index/role:Role"] != "changed:createDatabase" || len(got) != 2 {
		t.Fatalf("changes: %v", got)
	}
	if len(s.Unmanaged) != 1 || s.Unmanaged[0].RuleID != "sgr-byhand" || s.Unmanaged[0].GroupID != groupID {
		t.Fatalf("unmanaged: %+v", s.Unmanaged)
	}
	found := false
	for _, v := range s.Violations {
		if v.Rule == "sg-no-public-db-ingress" && v.Level == "mandatory" && strings.Contains(v.Message, "0.0.0.0/0") {
			found = true
		}
	}
	if !found {
		t.Fatalf("the open port is not a security finding: %+v", s.Violations)
	}
	mdText, _ := os.ReadFile(md)
	for _, want := range []string{"deployer drift — exit 2", "sg-no-public-db-ingress", "sgr-byhand", "createDatabase"} {
		if !strings.Contains(string(mdText), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if !strings.Contains(out, "unmanaged ingress tcp 5432 from 192.168.7.0/24 (sgr-byhand on "+groupID+")") {
		t.Errorf("stdout summary:\n%s", out)
	}
	if d.state(t) != before {
		t.Fatal("drift changed the state file")
	}
	raw, _ := os.ReadFile(js)
	d.noSecrets(t, out, errOut, string(raw), string(mdText))
}

func TestDriftErrorsAreClearAndChangeNothing(t *testing.T) {
	d := deployLocal(t)
	before := d.state(t)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no passphrase", nil, map[string]string{"PULUMI_CONFIG_PASSPHRASE": ""}, "PULUMI_CONFIG_PASSPHRASE"},
		{"wrong passphrase", nil, map[string]string{"PULUMI_CONFIG_PASSPHRASE": "not-it"}, "passphrase"},
		{"password in backend URL", []string{"--backend", "postgres://deployer:hunter2@localhost/state"}, nil, "PGPASSWORD"},
		{"unknown backend scheme", []string{"--backend", "ftp://state"}, nil, "file://"},
		{"missing stack", []string{"--stack", "nope"}, nil, `stack "nope" does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := append([]string{"drift"}, tc.args...)
			if tc.name == "missing stack" {
				args = append(args, "--project-dir", d.Settings.ProjectDir, "--backend", d.Settings.BackendURL)
				code, out, errOut := runDeployer(t, args...)
				check(t, code, out+errOut, tc.want)
				return
			}
			code, out, errOut := d.deployer(t, args...)
			check(t, code, out+errOut, tc.want)
			if strings.Contains(out+errOut, "hunter2") {
				t.Fatal("the backend password was printed")
			}
		})
	}
	if d.state(t) != before {
		t.Fatal("a failed command changed the state")
	}
	code, _, errOut := runDeployer(t, "drift")
	check(t, code, errOut, "--stack is required")
}

func check(t *testing.T, code int, text, want string) {
	t.Helper()
	if code != 1 || !strings.Contains(text, want) {
		t.Fatalf("exit %d, want 1 with %q in:\n%s", code, want, text)
	}
}
