// Package testenv finds the real things the integration tests need (the local
// TLS PostgreSQL started by scripts/pg and the Pulumi CLI built from source) and
// skips or fails a test when one is missing.
//
// Outside `make test` a missing dependency skips the test with the reason; with
// DEPLOYER_TEST_REQUIRE=1 (set by `make test`) it fails the test instead, so CI
// can never pass by skipping.
package testenv

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// RequireEnv is the variable under which missing dependencies fail tests.
const RequireEnv = "DEPLOYER_TEST_REQUIRE"

// Required reports whether missing dependencies must fail tests.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// missing skips t, or fails it when dependencies are required.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (%s=1: required dependencies must be present)", msg, RequireEnv)
	}
	t.Skipf("%s; run `make test` to provide it", msg)
}

// RepoRoot returns the repository root (the folder holding go.mod and
// Pulumi.yaml: components/provider has a go.mod of its own), found by
// walking up from the working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		_, modErr := os.Stat(filepath.Join(dir, "go.mod"))
		_, projErr := os.Stat(filepath.Join(dir, "Pulumi.yaml"))
		if modErr == nil && projErr == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// PG holds the facts of the local test cluster written by scripts/pg.
type PG struct {
	Host      string
	Port      int
	CAFile    string // root certificate that signed the server certificate
	SuperUser string
	superPass string
	Socket    string
	Dir       string
	Bin       string // PostgreSQL binaries (psql, pg_ctl, …)
}

// SuperPassword returns the superuser's password (test use only).
func (p PG) SuperPassword() string { return p.superPass }

// PostgreSQL returns the local test cluster, skipping (or failing under
// DEPLOYER_TEST_REQUIRE=1) when scripts/pg has not started one.
func PostgreSQL(t testing.TB) PG {
	t.Helper()
	envFile := os.Getenv("DEPLOYER_PG_ENV")
	if envFile == "" {
		envFile = filepath.Join(RepoRoot(t), ".run", "pg.env")
	}
	vals, err := readEnvFile(envFile)
	if err != nil {
		missing(t, "no local PostgreSQL: %v (start one with `scripts/pg start`)", err)
		return PG{}
	}
	port, err := strconv.Atoi(vals["DEPLOYER_PG_PORT"])
	if err != nil {
		t.Fatalf("%s: DEPLOYER_PG_PORT=%q is not a number", envFile, vals["DEPLOYER_PG_PORT"])
	}
	pw, err := os.ReadFile(vals["DEPLOYER_PG_SUPERPASS_FILE"])
	if err != nil {
		missing(t, "local PostgreSQL env %s is stale: %v (restart it with `scripts/pg start`)", envFile, err)
		return PG{}
	}
	if _, err := os.Stat(vals["DEPLOYER_PG_CA"]); err != nil {
		missing(t, "local PostgreSQL env %s is stale: %v", envFile, err)
		return PG{}
	}
	return PG{
		Host:      vals["DEPLOYER_PG_HOST"],
		Port:      port,
		CAFile:    vals["DEPLOYER_PG_CA"],
		SuperUser: vals["DEPLOYER_PG_SUPERUSER"],
		superPass: strings.TrimSpace(string(pw)),
		Socket:    vals["DEPLOYER_PG_SOCKET"],
		Dir:       vals["DEPLOYER_PG_DIR"],
		Bin:       vals["DEPLOYER_PG_BIN"],
	}
}

func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		vals[k] = v
	}
	return vals, sc.Err()
}

// PulumiRoot returns the install root of the Pulumi CLI built from source
// (a folder with bin/pulumi): $DEPLOYER_PULUMI_ROOT, or the repository's
// .tools/pulumi. It skips (or fails under DEPLOYER_TEST_REQUIRE=1) when absent.
func PulumiRoot(t testing.TB) string {
	t.Helper()
	root := os.Getenv("DEPLOYER_PULUMI_ROOT")
	if root == "" {
		root = filepath.Join(RepoRoot(t), ".tools", "pulumi")
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err != nil {
		missing(t, "no Pulumi CLI at %s (build it with `make pulumi`)", root)
		return ""
	}
	return root
}

// ToolsDir returns a folder under the repository's .tools built by `make
// standins` (providers, policy), checking that file exists in it; it skips
// (or fails under DEPLOYER_TEST_REQUIRE=1) when it does not.
func ToolsDir(t testing.TB, sub, file string) string {
	t.Helper()
	return BuiltDir(t, filepath.Join(".tools", sub), file, "make standins")
}

// BuiltDir returns the repository's folder rel, checking that file, which
// target builds, exists in it; it skips (or fails under
// DEPLOYER_TEST_REQUIRE=1) when it does not.
func BuiltDir(t testing.TB, rel, file, target string) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), rel)
	if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
		missing(t, "no %s in %s (build it with `%s`)", file, dir, target)
		return ""
	}
	return dir
}
