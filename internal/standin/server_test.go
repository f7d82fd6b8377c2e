package standin

import (
	"context"
	"reflect"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestDiffConfigReportsChangedKeysAsAnUpdate(t *testing.T) {
	base := map[string]any{"host": "db.local", "username": "admin", "password": "old"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k2, v2 := range base {
			m[k2] = v2
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		news    map[string]any
		secret  bool
		changes pulumirpc.DiffResponse_DiffChanges
		diffs   []string
	}{
		{"same config", base, false, pulumirpc.DiffResponse_DIFF_NONE, nil},
		{"same config, password as a secret", base, true, pulumirpc.DiffResponse_DIFF_NONE, nil},
		{"rotated password", with("password", "new"), true, pulumirpc.DiffResponse_DIFF_SOME, []string{"password"}},
		{"a key added", with("sslmode", "verify-full"), false, pulumirpc.DiffResponse_DIFF_SOME, []string{"sslmode"}},
		{"a key removed", with("username", nil), false, pulumirpc.DiffResponse_DIFF_SOME, []string{"username"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			olds, _ := marshal(resource.NewPropertyMapFromMap(base))
			nm := resource.NewPropertyMapFromMap(tc.news)
			if tc.secret && nm.HasValue("password") {
				nm["password"] = resource.MakeSecret(nm["password"])
			}
			news, _ := marshal(nm)
			resp, err := (&Provider{}).DiffConfig(context.Background(), &pulumirpc.DiffRequest{OldInputs: olds, News: news})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetChanges() != tc.changes || !reflect.DeepEqual(resp.GetDiffs(), tc.diffs) || len(resp.GetReplaces()) != 0 {
				t.Fatalf("changes %v diffs %v replaces %v; want %v %v and no replace", resp.GetChanges(), resp.GetDiffs(), resp.GetReplaces(), tc.changes, tc.diffs)
			}
		})
	}
}
