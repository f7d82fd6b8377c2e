package automation

import (
	"errors"
	"strings"
	"testing"
)

func TestOnlyCredentialKeysChanged(t *testing.T) {
	for _, tc := range []struct {
		diffs []string
		want  bool
	}{
		{[]string{"password"}, true},
		{nil, false},
		{[]string{"password", "host"}, false},
		{[]string{"host"}, false},
		{[]string{"username"}, false},
	} {
		if got := onlyKeys(tc.diffs, credentialKeys); got != tc.want {
			t.Errorf("onlyKeys(%v) = %v, want %v", tc.diffs, got, tc.want)
		}
	}
	if !staleLogin(errors.New(`refresh: pq: password authentication failed for user "admin" (SQLSTATE 28P01)`)) ||
		staleLogin(errors.New("SQLSTATE 42501")) || staleLogin(nil) {
		t.Error("staleLogin must match SQLSTATE 28P01 alone")
	}
}

func TestParseVerify(t *testing.T) {
	for _, tc := range []struct {
		msg, wantErr string
		results      int
		none         bool
	}{
		{msg: `deployer.verify {"results":[{"name":"tls","ok":true}]}`, results: 1},
		{msg: `    deployer.verify {"results":[],"error":"connect: refused"}`, wantErr: "connect: refused"},
		{msg: `deployer.verify {not json`, wantErr: "not valid JSON"},
		{msg: `deployer.database-audit {}`, none: true},
		{msg: `error: something deployer.verify {"results":[{"name":"tls","ok":true}]}`, none: true},
	} {
		r := parseVerify(tc.msg)
		if tc.none {
			if r != nil {
				t.Errorf("%q: want no report, got %+v", tc.msg, r)
			}
			continue
		}
		if r == nil || len(r.Results) != tc.results || !strings.Contains(r.Error, tc.wantErr) {
			t.Errorf("%q: got %+v", tc.msg, r)
		}
	}
}
