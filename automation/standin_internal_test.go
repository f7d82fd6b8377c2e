package automation

import (
	"testing"

	"github.com/postgis-platform/deployer/internal/standin"
)

// The offline stack enables the stand-ins with the variable they read.
func TestStandinEnableEnvMatchesTheStandins(t *testing.T) {
	if StandinEnableEnv != standin.EnableEnv {
		t.Fatalf("automation sets %s, the stand-ins read %s", StandinEnableEnv, standin.EnableEnv)
	}
}
