package main

import (
	"fmt"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// logger builds the zap logger for the chosen format and verbosity. Logs go
// to stderr so that user-facing output on stdout stays readable and
// parseable. Without -v only warnings and errors are logged.
func (g *globals) logger() (*zap.Logger, error) {
	level := zapcore.WarnLevel
	switch {
	case g.verbose >= 2:
		level = zapcore.DebugLevel
	case g.verbose == 1:
		level = zapcore.InfoLevel
	}
	var cfg zap.Config
	switch g.logFormat {
	case "json":
		cfg = zap.NewProductionConfig()
	case "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.DisableStacktrace = true
	default:
		return nil, invalidInput(fmt.Errorf("--log-format: %q is not console or json", g.logFormat))
	}
	cfg.Level = zap.NewAtomicLevelAt(level)
	cfg.OutputPaths = []string{"stderr"}
	cfg.ErrorOutputPaths = []string{"stderr"}
	l, err := cfg.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot build logger:", err)
		return nil, err
	}
	return l, nil
}
