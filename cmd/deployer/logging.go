package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// logFlags choose the log's format and level (the root's persistent flags).
type logFlags struct{ format, level string }

func (f *logFlags) register(root *cobra.Command) {
	root.PersistentFlags().StringVar(&f.format, "log-format", "text", "log lines as text or json (on stderr)")
	root.PersistentFlags().StringVar(&f.level, "log-level", "info", "debug, info, warn or error; --quiet raises info to warn")
}

// logger builds the logger the flags ask for; quiet (a command's -q) drops
// info lines unless --log-level was given.
func (f *logFlags) logger(w io.Writer, quiet, levelSet bool) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.level)); err != nil || strings.ContainsAny(f.level, "+-") {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", f.level)
	}
	if quiet && !levelSet && level < slog.LevelWarn {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", f.format)
}

// useLogger sets a.log from the flags before a command runs.
func (f *logFlags) useLogger(a *app) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		quiet := false
		if q := cmd.Flags().Lookup("quiet"); q != nil {
			quiet = q.Value.String() == "true"
		}
		l, err := f.logger(a.stderr, quiet, cmd.Flags().Changed("log-level"))
		if err != nil {
			return err
		}
		a.setLog(l)
		a.newLogger = func(w io.Writer) *slog.Logger {
			l, _ := f.logger(w, quiet, cmd.Flags().Changed("log-level"))
			return l
		}
		return nil
	}
}
