package dbconn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrMissingSecret is returned (wrapped) when a secret source has no value.
var ErrMissingSecret = errors.New("secret is missing or empty")

// SecretSource yields a secret at run time, from the environment, a file, or a
// secret manager. Describe names the source without revealing the value.
type SecretSource interface {
	Secret(ctx context.Context) (string, error)
	Describe() string
}

// FromEnv reads a secret from an environment variable.
func FromEnv(name string) SecretSource { return envSecret(name) }

type envSecret string

func (e envSecret) Describe() string { return fmt.Sprintf("environment variable %s", string(e)) }

func (e envSecret) Secret(context.Context) (string, error) {
	v, ok := os.LookupEnv(string(e))
	if !ok || v == "" {
		return "", fmt.Errorf("%s: %w; set it from your secret store before running", e.Describe(), ErrMissingSecret)
	}
	return v, nil
}

// FromFile reads a secret from a file (for example a mounted Kubernetes or CI
// secret); one trailing newline is removed.
func FromFile(path string) SecretSource { return fileSecret(path) }

type fileSecret string

func (f fileSecret) Describe() string { return fmt.Sprintf("file %s", string(f)) }

func (f fileSecret) Secret(context.Context) (string, error) {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return "", fmt.Errorf("%s: %w (%v)", f.Describe(), ErrMissingSecret, errors.Unwrap(err))
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", fmt.Errorf("%s: %w", f.Describe(), ErrMissingSecret)
	}
	return v, nil
}

// SecretFunc adapts a secret-manager lookup (AWS Secrets Manager, Vault, …) to a
// SecretSource; desc names it in error messages.
func SecretFunc(desc string, fetch func(ctx context.Context) (string, error)) SecretSource {
	return funcSecret{desc: desc, fetch: fetch}
}

type funcSecret struct {
	desc  string
	fetch func(ctx context.Context) (string, error)
}

func (s funcSecret) Describe() string { return s.desc }

func (s funcSecret) Secret(ctx context.Context) (string, error) {
	v, err := s.fetch(ctx)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.desc, err)
	}
	if v == "" {
		return "", fmt.Errorf("%s: %w", s.desc, ErrMissingSecret)
	}
	return v, nil
}
