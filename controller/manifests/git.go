package manifests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
)

// GitSource applies the campaigns of a directory in a git repository at a
// ref, polled every Interval with the git binary (argv, never a shell).
type GitSource struct {
	URL string
	Ref string // branch, tag or commit; default HEAD
	// SubDir is the manifest directory inside the repository ("" = root).
	SubDir   string
	Interval time.Duration // default 1m
	Prune    bool
	Load     func(path string) ([]*api.Campaign, error) // as Dir.Load: nil means api.LoadFile
	// WorkDir holds the checkout; default a temporary directory.
	WorkDir string
	Logger  *zap.Logger
	// Store and Notify are as Dir's.
	Store  Applier
	Notify func(name string)

	dir *Dir
	rev string
}

func (g *GitSource) log() *zap.Logger {
	if g.Logger == nil {
		return zap.NewNop()
	}
	return g.Logger
}

// git runs one git command in the checkout.
func (g *GitSource) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.WorkDir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Update fetches Ref and checks it out; it returns the commit.
func (g *GitSource) Update(ctx context.Context) (string, error) {
	if strings.HasPrefix(g.URL, "-") || strings.HasPrefix(g.Ref, "-") {
		return "", fmt.Errorf("git url/ref must not start with '-'")
	}
	if g.WorkDir == "" {
		d, err := os.MkdirTemp("", "simswarm-gitops-*")
		if err != nil {
			return "", err
		}
		g.WorkDir = d
	}
	if _, err := os.Stat(filepath.Join(g.WorkDir, ".git")); err != nil {
		if _, err := g.git(ctx, "init", "--quiet"); err != nil {
			return "", err
		}
	}
	ref := g.Ref
	if ref == "" {
		ref = "HEAD"
	}
	if _, err := g.git(ctx, "fetch", "--quiet", "--depth", "1", "--", g.URL, ref); err != nil {
		return "", err
	}
	rev, err := g.git(ctx, "rev-parse", "--verify", "FETCH_HEAD^{commit}")
	if err != nil {
		return "", err
	}
	if _, err := g.git(ctx, "checkout", "--quiet", "--force", "--detach", rev); err != nil {
		return "", err
	}
	return rev, nil
}

// Sync fetches and applies once.
func (g *GitSource) Sync(ctx context.Context, st Applier, notify func(string)) error {
	rev, err := g.Update(ctx)
	if err != nil {
		// Never prune on a failed fetch: the last checkout stays applied.
		return err
	}
	if g.dir == nil {
		g.dir = &Dir{Prune: g.Prune, Load: g.Load, Logger: g.Logger, Root: g.WorkDir}
	}
	g.rev = rev
	g.dir.Path = filepath.Join(g.WorkDir, filepath.FromSlash(g.SubDir))
	g.dir.Revision = func() string { return g.rev }
	g.dir.Sync(ctx, st, notify)
	return nil
}

// Errors returns the per-file errors of the last sync.
func (g *GitSource) Errors() map[string]error {
	if g.dir == nil {
		return nil
	}
	return g.dir.Errors()
}

// Start polls the repository and applies it to Store until ctx ends. It
// needs leadership (a manager.Runnable that does not opt out).
func (g *GitSource) Start(ctx context.Context) error {
	if g.Store == nil {
		return fmt.Errorf("git manifest source %s: no Store", g.URL)
	}
	notify := g.Notify
	if notify == nil {
		notify = func(string) {}
	}
	interval := g.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	for {
		if err := g.Sync(ctx, g.Store, notify); err != nil && ctx.Err() == nil {
			g.log().Warn("git manifest source not updated", zap.String("url", g.URL), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}
