package statestore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gocloud.dev/blob"

	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/internal/testkit/s3test"
	"github.com/postgis-platform/deployer/statestore"
)

const lockJSON = `{"pid":4242,"username":"ci","hostname":"runner-7","timestamp":"2026-12-04T05:00:00Z"}`

// checkStore lists, reads and deletes the lock of stack a_b, never the lock
// of stack axb (a `_` in a name matches only itself).
func checkStore(t *testing.T, st statestore.Store) {
	t.Helper()
	ctx := context.Background()
	keys, err := st.List(ctx, statestore.LockPrefix("proj", "a_b"))
	if err != nil {
		t.Fatal(err)
	}
	want := ".pulumi/locks/organization/proj/a_b/1111.json"
	if len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys %v, want [%s]", keys, want)
	}
	raw, err := st.Read(ctx, keys[0])
	if err != nil || string(raw) != lockJSON {
		t.Fatalf("read %q, %v", raw, err)
	}
	if err := st.Delete(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	if keys, _ := st.List(ctx, statestore.LockPrefix("proj", "a_b")); len(keys) != 0 {
		t.Fatalf("still listed after delete: %v", keys)
	}
	if err := st.Delete(ctx, want); !errors.Is(err, statestore.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if _, err := st.Read(ctx, want); !errors.Is(err, statestore.ErrNotFound) {
		t.Fatalf("read of a deleted lock: %v, want ErrNotFound", err)
	}
	if keys, _ := st.List(ctx, statestore.LockPrefix("proj", "axb")); len(keys) != 1 {
		t.Fatalf("the other stack's lock: %v", keys)
	}
	// A key of deployer's own: written, read back, written over, removed.
	key := ".deployer/pauses/proj/a_b.json"
	for _, body := range []string{`{"reason":"first"}`, `{"reason":"second"}`} {
		if err := st.Write(ctx, key, []byte(body)); err != nil {
			t.Fatal(err)
		}
		if raw, err := st.Read(ctx, key); err != nil || string(raw) != body {
			t.Fatalf("read back %q, %v; want %s", raw, err, body)
		}
	}
	if err := st.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
}

var lockKeys = []string{".pulumi/locks/organization/proj/a_b/1111.json", ".pulumi/locks/organization/proj/axb/2222.json"}

func TestFileStoreExpandsTilde(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, k := range lockKeys {
		p := filepath.Join(home, "state", filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(lockJSON), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if root, err := statestore.FileRoot("file://~/state"); err != nil || root != filepath.Join(home, "state") {
		t.Fatalf("FileRoot(file://~/state) = %q, %v", root, err)
	}
	st, err := statestore.Open(context.Background(), "file://~/state")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkStore(t, st)
	if _, err := os.Stat(filepath.Join(home, "state", filepath.FromSlash(lockKeys[0]))); !os.IsNotExist(err) {
		t.Fatalf("the lock file is still there: %v", err)
	}
}

func TestMissingBackendsAreEmpty(t *testing.T) {
	st, err := statestore.Open(context.Background(), "file://"+filepath.Join(t.TempDir(), "not-yet"))
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := st.List(context.Background(), ".pulumi/"); err != nil || len(keys) != 0 {
		t.Fatalf("a backend folder not made yet: %v %v", keys, err)
	}
}

func TestS3Store(t *testing.T) {
	srv := s3test.Start(t, "state-bucket")
	ctx := context.Background()
	// The CLI writes under the URL's folder (blob.PrefixedBucket).
	b, err := blob.OpenBucket(ctx, srv.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, k := range lockKeys {
		if err := b.WriteAll(ctx, "team-gis/"+k, []byte(lockJSON), nil); err != nil {
			t.Fatal(err)
		}
	}
	st, err := statestore.Open(ctx, srv.URL("team-gis"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkStore(t, st)
	if ok, _ := b.Exists(ctx, "team-gis/"+lockKeys[0]); ok {
		t.Fatal("the lock object is still in the bucket")
	}
}

func TestPostgresStore(t *testing.T) {
	srv := pgtest.New(t)
	db := pgtest.Name("statestore")
	pgtest.Exec(t, srv.Super(t, "postgres"), "CREATE DATABASE "+db)
	srv.DropDatabaseAtCleanup(t, db)
	conn := srv.Super(t, db)
	// The CLI's table (upstream: pkg/backend/diy/postgres/schema.sql).
	pgtest.Exec(t, conn, `CREATE TABLE pulumi_state (key TEXT PRIMARY KEY, data JSON NOT NULL, updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())`)
	for _, k := range lockKeys {
		data, _ := json.Marshal(map[string]string{"data": base64.StdEncoding.EncodeToString([]byte(lockJSON))})
		pgtest.Exec(t, conn, `INSERT INTO pulumi_state (key, data) VALUES ($1, $2)`, db+"/"+k, string(data))
	}
	t.Setenv("PGPASSWORD", srv.SuperPassword())
	base := "postgres://" + srv.SuperUser + "@localhost:" + strconv.Itoa(srv.Port) + "/" + db + "?sslmode=verify-full&sslrootcert=" + srv.CAFile
	ctx := context.Background()
	st, err := statestore.Open(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkStore(t, st)

	other, err := statestore.Open(ctx, base+"&table=no_such_table")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if keys, err := other.List(ctx, ".pulumi/"); err != nil || len(keys) != 0 {
		t.Fatalf("a table not made yet: %v %v", keys, err)
	}
	_, err = statestore.Open(ctx, base+"&table="+url.QueryEscape("x; DROP TABLE pulumi_state"))
	if err == nil || !strings.Contains(err.Error(), "table") || !strings.Contains(err.Error(), "plain table name") {
		t.Fatalf("a table name that is SQL: %v", err)
	}
}
