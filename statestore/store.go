package statestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file://, as the CLI opens it
	_ "gocloud.dev/blob/s3blob"   // s3://, as the CLI opens it
	"gocloud.dev/gcerrors"
)

// ErrNotFound is returned (wrapped) for a key the backend does not hold.
var ErrNotFound = errors.New("not in the backend")

// Store is a state backend's key space: keys are slash paths such as
// .pulumi/locks/organization/<project>/<stack>/<id>.json.
type Store interface {
	// List names the keys under prefix, in order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Read returns a key's content.
	Read(ctx context.Context, key string) ([]byte, error)
	// Delete removes a key.
	Delete(ctx context.Context, key string) error
	// Write sets a key's content, as the CLI writes its own keys.
	Write(ctx context.Context, key string, data []byte) error
	// Close releases the connection.
	Close() error
}

// Open opens the backend a URL names, read the way the CLI reads it:
// `~` expanded in file:// URLs, the s3 URL's query (region, endpoint,
// path-style options) passed to gocloud, the PostgreSQL table from `table`.
// A backend that does not exist yet (no folder, no table) is an empty store.
func Open(ctx context.Context, backendURL string) (Store, error) {
	u, err := url.Parse(backendURL)
	if err != nil {
		return nil, fmt.Errorf("backend URL: %w", err)
	}
	switch u.Scheme {
	case "file":
		dir, err := FileRoot(backendURL)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return emptyStore{}, nil
		}
		return openBlob(ctx, "file://"+filepath.ToSlash(dir)+"?no_tmp_dir=true", "")
	case "s3":
		bucketURL := *u
		bucketURL.Path = ""
		return openBlob(ctx, bucketURL.String(), keyPrefix(u))
	case "postgres", "postgresql":
		st, err := openPostgres(ctx, u)
		if err != nil {
			return nil, err
		}
		return prefixed{st, keyPrefix(u)}, nil
	}
	return nil, fmt.Errorf("backend scheme %q: use file://, s3:// or postgres://", u.Scheme)
}

// keyPrefix is the prefix the CLI puts before every key of a backend that is
// not a folder: the URL's path (upstream: pkg/backend/diy/backend.go
// newDIYBackend, blob.PrefixedBucket(bucket, bucketSubDir)). For PostgreSQL
// that is the database's name.
func keyPrefix(u *url.URL) string {
	prefix := strings.TrimLeft(u.Path, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix
}

// prefixed is a Store whose keys all start with prefix.
type prefixed struct {
	Store
	prefix string
}

func (p prefixed) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := p.Store.List(ctx, p.prefix+prefix)
	for i := range keys {
		keys[i] = strings.TrimPrefix(keys[i], p.prefix)
	}
	return keys, err
}

func (p prefixed) Read(ctx context.Context, key string) ([]byte, error) {
	return p.Store.Read(ctx, p.prefix+key)
}

func (p prefixed) Write(ctx context.Context, key string, data []byte) error {
	return p.Store.Write(ctx, p.prefix+key, data)
}

func (p prefixed) Delete(ctx context.Context, key string) error {
	return p.Store.Delete(ctx, p.prefix+key)
}

// FileRoot is the folder of a file:// backend, `~` expanded as the CLI
// expands it (upstream: pkg/backend/diy/backend.go massageBlobPath).
func FileRoot(backendURL string) (string, error) {
	p := strings.TrimPrefix(backendURL, "file://")
	p = strings.SplitN(p, "?", 2)[0]
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expand ~ in the backend URL: %w", err)
		}
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	if p == "" {
		return "", fmt.Errorf("backend file:// needs a folder, e.g. file://~/.deployer/state")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("backend folder %q: %w", p, err)
	}
	return abs, nil
}

type blobStore struct{ b *blob.Bucket }

func openBlob(ctx context.Context, bucketURL, prefix string) (Store, error) {
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		return nil, fmt.Errorf("open the state bucket: %w", err)
	}
	if prefix != "" {
		b = blob.PrefixedBucket(b, prefix)
	}
	return blobStore{b}, nil
}

func (s blobStore) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	it := s.b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return keys, nil
			}
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		if !obj.IsDir {
			keys = append(keys, obj.Key)
		}
	}
}

func (s blobStore) Read(ctx context.Context, key string) ([]byte, error) {
	b, err := s.b.ReadAll(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return b, err
}

func (s blobStore) Delete(ctx context.Context, key string) error {
	err := s.b.Delete(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return err
}

func (s blobStore) Write(ctx context.Context, key string, data []byte) error {
	if err := s.b.WriteAll(ctx, key, data, nil); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

func (s blobStore) Close() error { return s.b.Close() }

// emptyStore is a backend not created yet.
type emptyStore struct{}

func (emptyStore) List(context.Context, string) ([]string, error) { return nil, nil }
func (emptyStore) Read(_ context.Context, key string) ([]byte, error) {
	return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
}
func (emptyStore) Delete(_ context.Context, key string) error {
	return fmt.Errorf("%s: %w", key, ErrNotFound)
}
func (emptyStore) Write(_ context.Context, key string, _ []byte) error {
	return fmt.Errorf("write %s: the backend holds no stack yet: %w", key, ErrNotFound)
}
func (emptyStore) Close() error { return nil }

// LockPrefix is where the CLI keeps a stack's locks (upstream:
// pkg/backend/diy/lock.go stackLockDir, with project-scoped stacks).
func LockPrefix(project, stack string) string {
	return path.Join(".pulumi", "locks", "organization", project, stack) + "/"
}
