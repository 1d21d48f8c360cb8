package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/simswarm/simswarm/controller/httpauth"
)

// flagsFromEnv sets every flag of fs that was not given on the command line
// from SIMSWARM_<FLAG> (upper case, '-' as '_'), e.g. --token-file from
// SIMSWARM_TOKEN_FILE.
func flagsFromEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		key := "SIMSWARM_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(key); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = invalidInput(fmt.Errorf("%s: %w", key, e))
			}
		}
	})
	return err
}

// tokenSource names where readToken(file) takes the token from.
func tokenSource(file string) string {
	if file != "" {
		return "--token-file " + file
	}
	return "SIMSWARM_TOKEN"
}

// readServerToken is readToken for a command that sets the API token of
// a controller: it must be long enough (httpauth.MinTokenLength).
func readServerToken(file string) (string, error) {
	tok, err := readToken(file)
	if err != nil {
		return "", err
	}
	if err := httpauth.CheckToken(tok, tokenSource(file)); err != nil {
		return "", invalidInput(err)
	}
	return tok, nil
}

// readToken returns the API token from file (if given) or SIMSWARM_TOKEN.
func readToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", invalidInput(fmt.Errorf("--token-file: %w", err))
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", invalidInput(fmt.Errorf("--token-file %s is empty", file))
		}
		return tok, nil
	}
	if tok := strings.TrimSpace(os.Getenv("SIMSWARM_TOKEN")); tok != "" {
		return tok, nil
	}
	return "", invalidInput(fmt.Errorf("no API token: give --token-file or set SIMSWARM_TOKEN"))
}

// positiveDurations refuses a zero or negative value of the named duration
// flags of fs: for them zero would silently mean a default, no limit or a
// busy loop (the rule of the manifests' durations too).
func positiveDurations(fs *pflag.FlagSet, names ...string) error {
	for _, n := range names {
		d, err := fs.GetDuration(n)
		if err != nil {
			return err
		}
		if d <= 0 {
			return invalidInput(fmt.Errorf("--%s must be positive, got %s (e.g. 30s, 5m)", n, d))
		}
	}
	return nil
}
