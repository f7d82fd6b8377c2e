package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// --log-format and --log-level shape the log on stderr; -q drops info lines
// unless a level is asked for; bad values name the flag and the choices.
func TestLogFlags(t *testing.T) {
	tests := []struct {
		format, level     string
		quiet, levelSet   bool
		infoShown, isJSON bool
	}{
		{"text", "info", false, false, true, false},
		{"json", "info", false, false, true, true},
		{"text", "info", true, false, false, false},
		{"json", "info", true, true, true, true},
		{"text", "error", false, true, false, false},
		{"text", "debug", true, true, true, false},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		f := logFlags{format: tc.format, level: tc.level}
		l, err := f.logger(&buf, tc.quiet, tc.levelSet)
		if err != nil {
			t.Fatal(err)
		}
		l.Info("an info line", "stack", "prod")
		l.Error("an error line")
		out := buf.String()
		if strings.Contains(out, "an info line") != tc.infoShown || !strings.Contains(out, "an error line") {
			t.Errorf("%+v: log %q", tc, out)
		}
		first := strings.SplitN(out, "\n", 2)[0]
		if tc.isJSON && !json.Valid([]byte(first)) {
			t.Errorf("%+v: not JSON lines: %q", tc, out)
		}
	}
	for _, args := range [][]string{{"drift", "--log-format", "yaml", "--stack", "x"}, {"drift", "--log-level", "loud", "--stack", "x"}} {
		code, _, errOut := runDeployer(t, args...)
		if code != 1 || !strings.Contains(errOut, args[1]) || !strings.Contains(errOut, "use ") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}
