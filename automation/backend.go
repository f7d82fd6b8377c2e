package automation

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ErrSettings is returned (wrapped) for settings refused before anything runs.
var ErrSettings = errors.New("invalid settings")

// DefaultBackendURL is a local folder under the user's home.
func DefaultBackendURL() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return "file://" + filepath.Join(home, ".deployer", "state")
}

// ValidateBackendURL accepts file://, s3:// and postgres(ql):// URLs, and
// refuses a password inside one: the CLI prints the URL in lock errors, so
// the PostgreSQL backend's password comes from PGPASSWORD.
func ValidateBackendURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: backend %q is not a URL: %v", ErrSettings, Redact(raw), err)
	}
	switch u.Scheme {
	case "file":
		if u.Path == "" && u.Opaque == "" && u.Host == "" {
			return fmt.Errorf("%w: backend file:// needs a folder, e.g. file://$HOME/.deployer/state", ErrSettings)
		}
	case "s3", "postgres", "postgresql":
	default:
		return fmt.Errorf("%w: backend scheme %q is not supported: use file://<dir>, s3://<bucket> or postgres://<host>/<db>", ErrSettings, u.Scheme)
	}
	if _, has := u.User.Password(); has {
		return fmt.Errorf("%w: the backend URL %s holds a password; remove it and set PGPASSWORD instead (the CLI prints the URL in lock errors)", ErrSettings, Redact(raw))
	}
	if q := u.Query(); q.Get("password") != "" {
		return fmt.Errorf("%w: the backend URL %s has a password parameter; remove it and set PGPASSWORD instead", ErrSettings, Redact(raw))
	}
	return nil
}

// Redact hides a password in a URL (user info or query) for messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	if q := u.Query(); q.Get("password") != "" {
		q.Set("password", "REDACTED")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Passphrase environment variables of the passphrase secrets provider.
const (
	PassphraseEnv     = "PULUMI_CONFIG_PASSPHRASE"
	PassphraseFileEnv = "PULUMI_CONFIG_PASSPHRASE_FILE"
)

// CheckSecretsProvider fails before anything runs when the passphrase
// provider (the default, provider "" or "passphrase") has no passphrase.
// Cloud KMS providers (awskms://, …) pass through.
func CheckSecretsProvider(provider string) error {
	return checkSecretsProvider(provider, os.Getenv)
}

func checkSecretsProvider(provider string, getenv func(string) string) error {
	if provider != "" && provider != "passphrase" {
		if !strings.Contains(provider, "://") {
			return fmt.Errorf("%w: secrets provider %q: use passphrase or a KMS URL such as awskms://alias/deployer", ErrSettings, provider)
		}
		return nil
	}
	if getenv(PassphraseEnv) != "" {
		return nil
	}
	if f := getenv(PassphraseFileEnv); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("%w: %s=%s cannot be read: %v", ErrSettings, PassphraseFileEnv, f, errors.Unwrap(err))
		}
		if strings.TrimSpace(string(b)) == "" {
			return fmt.Errorf("%w: %s=%s is empty", ErrSettings, PassphraseFileEnv, f)
		}
		return nil
	}
	return fmt.Errorf("%w: no passphrase for the stack's secrets: set %s (or %s) from your CI secret store, or use --secrets-provider awskms://…", ErrSettings, PassphraseEnv, PassphraseFileEnv)
}

// StandinDirEnv names the folder of the offline provider stand-ins.
const StandinDirEnv = "DEPLOYER_STANDIN_DIR"

// StandinEnableEnv must be "1" for the stand-ins to start: an offline stack
// sets it for its runs (the stand-ins' own name for it is
// internal/standin.EnableEnv; a test holds the two equal).
const StandinEnableEnv = "DEPLOYER_STANDIN"

// StandinDir finds the offline stand-ins: $DEPLOYER_STANDIN_DIR, or the
// checkout's .tools/providers beside bin/deployer.
func StandinDir() (string, error) {
	dir := os.Getenv(StandinDirEnv)
	if dir == "" {
		if exe, err := os.Executable(); err == nil {
			if r, err := filepath.EvalSymlinks(exe); err == nil {
				exe = r
			}
			dir = filepath.Join(filepath.Dir(filepath.Dir(exe)), ".tools", "providers")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pulumi-resource-aws")); err != nil {
		return "", fmt.Errorf("%w: the offline stack needs the stand-in providers: run `make standins` or set %s", ErrSettings, StandinDirEnv)
	}
	return dir, nil
}
