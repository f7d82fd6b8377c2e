package postgresql

import (
	"os"
	"path/filepath"

	"github.com/postgis-platform/deployer/internal/standin"
)

// StateDirEnv names the folder where fault-injection counts are kept.
const StateDirEnv = "DEPLOYER_STANDIN_PG_DIR"

func faultDir() string {
	if d := os.Getenv(StateDirEnv); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "deployer-standin-postgresql")
}

var randHex = standin.RandHex

func str(m map[string]any, k string) string { return standin.Str(m, k) }

func boolOr(m map[string]any, k string, def bool) bool {
	if v, ok := m[k].(bool); ok {
		return v
	}
	return def
}

func flag(on bool, yes, no string) string {
	if on {
		return yes
	}
	return no
}
