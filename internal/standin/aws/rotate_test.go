package aws

import (
	"errors"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/standin"
)

func rotationCloud(t *testing.T, managed bool) standin.Store {
	t.Helper()
	store := standin.Store{Dir: t.TempDir()}
	if err := store.Update(func(c *standin.Cloud) error {
		props := map[string]any{"username": "admin", "identifier": "db1"}
		if managed {
			props["masterUserSecrets"] = []any{map[string]any{"secretArn": "arn:secret:1"}}
			c.Secrets["arn:secret:1"] = `{"username":"admin","password":"old"}`
		}
		c.Objects["db-1"] = &standin.Object{Type: TypeInstance, ID: "db-1", Props: props}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return store
}

// A rotation sets the new password on the database first, then makes it the
// secret's current version; a failure on the database leaves the secret as
// it was (upstream: the RDS managed rotation's setSecret before finishSecret).
func TestRotateMasterSecret(t *testing.T) {
	store := rotationCloud(t, true)
	var set []string
	for i, want := range []string{"v2", "v3"} {
		v, err := RotateMasterSecret(store, "db-1", func(user, pw string) error { set = append(set, user+"/"+pw); return nil })
		if err != nil || v != want {
			t.Fatalf("rotation %d: version %q, %v; want %s", i+1, v, err, want)
		}
	}
	var pw, version string
	_ = store.View(func(c *standin.Cloud) error {
		pw, _ = MasterPassword(c, "db-1")
		version = secretVersionID(c, "arn:secret:1")
		return nil
	})
	if len(set) != 2 || set[1] != "admin/"+pw || set[0] == set[1] || version != "v3" {
		t.Fatalf("set %v, secret holds %q (version %s)", set, pw, version)
	}
	if len(pw) != 28 || strings.ContainsAny(pw, "/'\"@ ") {
		t.Fatalf("a managed password has 28 characters and none RDS refuses: %q", pw)
	}
	if _, err := RotateMasterSecret(store, "db-1", func(string, string) error { return errors.New("connection refused") }); err == nil ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("a failed database change: %v", err)
	}
	_ = store.View(func(c *standin.Cloud) error {
		if got, _ := MasterPassword(c, "db-1"); got != pw || secretVersionID(c, "arn:secret:1") != "v3" {
			t.Errorf("the secret changed although the database did not")
		}
		return nil
	})
	for _, tc := range []struct {
		id      string
		managed bool
		want    string
	}{{"db-2", true, "no DB instance db-2"}, {"db-1", false, "no managed master secret"}} {
		if _, err := RotateMasterSecret(rotationCloud(t, tc.managed), tc.id, func(string, string) error { return nil }); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want %q, got %v", tc.id, tc.want, err)
		}
	}
}
