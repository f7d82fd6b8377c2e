package automation_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/sqlfuncs"
	"github.com/postgis-platform/deployer/stacks"
)

// backupCanary is a secret the backup tests put into the state (as a secret
// stack output); it must never appear in a backup.
const backupCanary = "backup-canary-s3cr3t-7f1e"

// secretSig marks a secret in a state export ("4dabf18193072939515e22adb298388d"
// is the signature key); an encrypted one holds "ciphertext", a shown one
// "plaintext".
const secretSig = "1b47061264138c4ac30d75fd1eb44270"

// secretProgram is the smoke program plus a secret output with value.
func secretProgram(value string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if err := smokeProgram(ctx); err != nil {
			return err
		}
		ctx.Export("canary", pulumi.ToSecret(pulumi.String(value)))
		return nil
	}
}

// secretStack deploys a stack with a secret in its state, configured so the
// deployer's sequences open it. It needs only the CLI.
func secretStack(t *testing.T, name string) (automation.Settings, auto.Stack) {
	t.Helper()
	e := &enginetest.Env{Settings: enginetest.NewProject(t)}
	st := e.Stack(t, name, secretProgram(backupCanary))
	e.SmallStack(t, st)
	return e.Settings, st
}

// readBackup returns the one backup in dir, checking the folder and file modes.
func readBackup(t *testing.T, dir string) (string, string) {
	t.Helper()
	files, err := os.ReadDir(dir)
	if err != nil || len(files) != 1 {
		t.Fatalf("backups in %s: %v %v", dir, files, err)
	}
	path := filepath.Join(dir, files[0].Name())
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: mode %v (%v), want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, string(raw)
}

// assertEncrypted fails unless the export holds the secret as ciphertext only.
func assertEncrypted(t *testing.T, export string) {
	t.Helper()
	if strings.Contains(export, backupCanary) || strings.Contains(export, `"plaintext"`) {
		t.Fatal("the backup holds a secret in plaintext")
	}
	if !strings.Contains(export, secretSig) || !strings.Contains(export, `"ciphertext"`) || !strings.Contains(export, `"secrets_providers"`) {
		t.Fatalf("the backup holds no encrypted secret (%d bytes)", len(export))
	}
}

// The backup `up --refresh` keeps holds the state's secrets encrypted, and
// `pulumi stack import --file` of it restores the stack, secrets included.
func TestUpRefreshBackupKeepsSecretsEncrypted(t *testing.T) {
	ctx := context.Background()
	s, st := secretStack(t, "backup")
	dir := filepath.Join(t.TempDir(), "backups")
	rep := automation.Up(ctx, s.WithProgram(secretProgram(backupCanary)), "backup", automation.RefreshFirst(dir))
	if rep.ExitCode != automation.ExitOK {
		t.Fatalf("up --refresh: %+v", rep)
	}
	path, export := readBackup(t, dir)
	assertEncrypted(t, export)
	if !strings.Contains(strings.Join(rep.Notes, " "), path) {
		t.Fatalf("notes do not name the backup %s: %v", path, rep.Notes)
	}

	// Change the state (a new secret value, one component fewer), then restore.
	st.Workspace().SetProgram(func(ctx *pulumi.Context) error {
		ctx.Export("canary", pulumi.ToSecret(pulumi.String("changed")))
		return nil
	})
	if _, err := st.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := outputs(t, st)["canary"]; got.Value != "changed" {
		t.Fatalf("canary before the restore: %v", got.Value)
	}
	importFile(t, s, st, path)
	out := outputs(t, st)
	if got := out["canary"]; got.Value != backupCanary || !got.Secret {
		t.Fatalf("restored canary: secret=%v, value restored=%v", got.Secret, got.Value == backupCanary)
	}
	if out["greeting"].Value != "hello" {
		t.Fatalf("restored outputs: %v", out["greeting"])
	}
	st.Workspace().SetProgram(secretProgram(backupCanary))
	prev, err := st.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(prev.ChangeSummary) != 1 || prev.ChangeSummary["same"] != 3 {
		t.Fatalf("the restored state differs from the backed-up program: %v", prev.ChangeSummary)
	}
}

// Reconcile keeps its export encrypted too, and imports the edited state
// with the secrets intact.
func TestReconcileBackupKeepsSecretsEncrypted(t *testing.T) {
	ctx := context.Background()
	s, st := secretStack(t, "reconcile")
	dir := filepath.Join(t.TempDir(), "backups")
	child := "urn:pulumi:reconcile::postgis-platform::deployer:test:Smoke$deployer:test:Smoke::child"
	rep := automation.Reconcile(ctx, s.WithProgram(secretProgram(backupCanary)), "reconcile",
		automation.ReconcileRequest{Remove: []string{child}, BackupDir: dir})
	if rep.ExitCode != automation.ExitOK {
		t.Fatalf("reconcile: %+v", rep)
	}
	_, export := readBackup(t, dir)
	assertEncrypted(t, export)
	if !strings.Contains(export, child) {
		t.Fatal("the backup misses the removed resource")
	}
	state, err := st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(state.Deployment), child) {
		t.Fatal("reconcile did not remove the child from the state")
	}
	if got := outputs(t, st)["canary"]; got.Value != backupCanary || !got.Secret {
		t.Fatalf("canary after reconcile: secret=%v, value kept=%v", got.Secret, got.Value == backupCanary)
	}
}

// On the platform stack (real PostgreSQL), the backup `up --refresh` keeps
// holds none of the passwords the state carries: the admin's (provider config)
// and the roles' verifiers; the roles' cleartext passwords are in neither.
func TestPlatformBackupHoldsNoPassword(t *testing.T) {
	ctx := context.Background()
	l := enginetest.NewLocal(t)
	st := l.Deploy(t)
	// The state holds the admin's password (provider config) and each
	// role's password as its SCRAM verifier, never the role's cleartext.
	secrets := map[string]string{"admin password": l.AdminPass}
	shown, err := st.Export(ctx) // --show-secrets: the test's own control
	if err != nil {
		t.Fatal(err)
	}
	for key, role := range map[string]string{"etlPassword": "etlRole", "tileReaderPassword": "tileReaderRole", "utilityRolePassword": "utilityRole"} {
		if strings.Contains(string(shown.Deployment), l.Secrets[key]) {
			t.Errorf("the state holds the %s in cleartext (it should hold its verifier)", key)
		}
		vk := stacks.DeriveVerifierKey(stacks.Project, l.Name, l.Secrets["etlPassword"], l.Secrets["tileReaderPassword"], l.Secrets["utilityRolePassword"])
		v, err := sqlfuncs.StableSCRAMVerifier(vk, l.Names[role], l.Secrets[key])
		if err != nil {
			t.Fatal(err)
		}
		secrets[key+" verifier"], secrets[key] = v, l.Secrets[key]
	}
	for name, v := range secrets {
		if !strings.HasSuffix(name, "Password") && !strings.Contains(string(shown.Deployment), v) {
			t.Fatalf("the %s is not in the state: this test would prove nothing", name)
		}
	}
	dir := filepath.Join(t.TempDir(), "backups")
	if rep := automation.Up(ctx, l.Settings, l.Name, automation.RefreshFirst(dir)); rep.ExitCode != automation.ExitOK {
		t.Fatalf("up --refresh: %+v", rep)
	}
	_, export := readBackup(t, dir)
	for name, v := range secrets {
		if strings.Contains(export, v) {
			t.Errorf("the backup holds the %s in plaintext", name)
		}
	}
	if n := strings.Count(export, `"ciphertext"`); n < 4 {
		t.Errorf("the backup holds %d encrypted values, want at least 4 (the admin's password, three verifiers)", n)
	}
}

func outputs(t *testing.T, st auto.Stack) auto.OutputMap {
	t.Helper()
	out, err := st.Outputs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// importFile restores a backup as docs/secrets.md says: `pulumi stack import --file`.
func importFile(t *testing.T, s automation.Settings, st auto.Stack, path string) {
	t.Helper()
	env := []string{"PULUMI_BACKEND_URL=" + s.BackendURL}
	for k, v := range s.Env {
		env = append(env, k+"="+v)
	}
	_, stderr, _, err := s.CLI.Command.Run(context.Background(), s.ProjectDir, nil, nil, nil, env,
		"stack", "import", "--file", path, "--stack", st.Name())
	if err != nil {
		t.Fatalf("pulumi stack import --file: %v: %s", err, stderr)
	}
}
