package stacks_test

import (
	"testing"

	"github.com/postgis-platform/deployer/stacks"
)

// The instance's URN is the one the engine gives the rds component's
// instance (the guard and --allow-replace name it).
func TestInstanceURN(t *testing.T) {
	want := "urn:pulumi:prod::postgis-platform::postgis:rds:PostgresInstance$aws:rds/instance:Instance::postgis"
	if got := stacks.InstanceURN("prod"); got != want {
		t.Fatalf("InstanceURN(prod) = %s, want %s", got, want)
	}
}
