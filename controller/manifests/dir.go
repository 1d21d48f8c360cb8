package manifests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/campaign"
	"github.com/simswarm/simswarm/controller/sourcearchive"
	"github.com/simswarm/simswarm/controller/store"
)

// Labels and annotations this source puts on the campaigns it owns.
const (
	LabelManagedBy     = "simswarm.io/managed-by"
	ManagedByValue     = "manifests"
	AnnotationFile     = "simswarm.io/manifest-file"
	AnnotationRevision = campaign.AnnotationSourceRevision
)

// Applier is what the source needs of the store.
type Applier interface {
	List(ctx context.Context) ([]*api.Campaign, error)
	Apply(ctx context.Context, c *api.Campaign) (*api.Campaign, bool, error)
	Delete(ctx context.Context, name string) error
}

// SourceUploader stores packed source archives (the store's PutSource).
// When the Applier implements it, campaigns with spec.source.path get
// their directory packed and stored, like `simswarm apply` does.
type SourceUploader interface {
	PutSource(ctx context.Context, sha string, r io.Reader) error
}

// Dir applies the campaigns of a directory.
type Dir struct {
	Path string
	// Root bounds spec.source.path directories: they must resolve inside it
	// (default Path). A manifest cannot make the controller pack files from
	// elsewhere on its host.
	Root  string
	Prune bool
	// Load reads one manifest file. Nil means api.LoadFile (parse,
	// default, validate); tests may give a loader of their own, but no
	// controller runs without validation for want of one.
	Load func(path string) ([]*api.Campaign, error)
	// Resync is the period of the full re-apply. Default 30s.
	Resync time.Duration
	// Revision, if set, is recorded in every applied campaign (git commit).
	Revision func() string
	Logger   *zap.Logger
	// Store is where Start applies the campaigns (the manager's store) and
	// Notify whom it tells of each applied or deleted one (the manager's
	// Notify: the leader's campaign controller).
	Store  Applier
	Notify func(name string)

	mu     sync.Mutex
	errs   map[string]error
	owners map[string]string // campaign name -> file, from the last good load of each file
	byFile map[string][]*api.Campaign
}

// Errors returns the per-file errors of the last sync.
func (d *Dir) Errors() map[string]error {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]error{}
	for k, v := range d.errs {
		out[k] = v
	}
	return out
}

func (d *Dir) load(path string) ([]*api.Campaign, error) {
	if d.Load == nil {
		return api.LoadFile(path)
	}
	return d.Load(path)
}

func (d *Dir) log() *zap.Logger {
	if d.Logger == nil {
		return zap.NewNop()
	}
	return d.Logger
}

// Start watches the directory and applies it to Store until ctx ends. It
// needs leadership (a manager.Runnable that does not opt out).
func (d *Dir) Start(ctx context.Context) error {
	if d.Store == nil {
		return fmt.Errorf("manifest directory %s: no Store", d.Path)
	}
	notify := d.Notify
	if notify == nil {
		notify = func(string) {}
	}
	return d.run(ctx, d.Store, notify)
}

func (d *Dir) run(ctx context.Context, st Applier, notify func(string)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", d.Path, err)
	}
	defer w.Close()
	if err := w.Add(d.Path); err != nil {
		return fmt.Errorf("watch %s: %w", d.Path, err)
	}
	resync := d.Resync
	if resync <= 0 {
		resync = 30 * time.Second
	}
	tick := time.NewTicker(resync)
	defer tick.Stop()
	var debounce <-chan time.Time
	d.Sync(ctx, st, notify)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if isManifest(ev.Name) {
				debounce = time.After(100 * time.Millisecond)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			d.log().Warn("manifest watch error", zap.Error(err))
		case <-debounce:
			debounce = nil
			d.Sync(ctx, st, notify)
		case <-tick.C:
			d.Sync(ctx, st, notify)
		}
	}
}

func isManifest(name string) bool {
	base := filepath.Base(name)
	if strings.HasPrefix(base, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(base)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Sync applies the directory once: every file's campaigns, then (with
// Prune) deletes owned campaigns no file declares any more.
func (d *Dir) Sync(ctx context.Context, st Applier, notify func(string)) {
	entries, err := os.ReadDir(d.Path)
	if err != nil {
		d.log().Warn("reading manifest directory failed", zap.String("dir", d.Path), zap.Error(err))
		return // never prune on an unreadable directory
	}
	d.mu.Lock()
	if d.owners == nil {
		d.owners, d.byFile = map[string]string{}, map[string][]*api.Campaign{}
	}
	d.errs = map[string]error{}
	present := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || !isManifest(e.Name()) {
			continue
		}
		file := e.Name()
		present[file] = true
		cs, err := d.load(filepath.Join(d.Path, file))
		if err == nil {
			err = d.checkOwnership(file, cs)
		}
		if err != nil {
			d.errs[file] = err
			d.log().Warn("manifest file not applied", zap.String("file", file), zap.Error(err))
			continue // keep what the last good version of the file declared
		}
		for name, f := range d.owners {
			if f == file {
				delete(d.owners, name)
			}
		}
		for _, c := range cs {
			d.owners[c.Metadata.Name] = file
		}
		d.byFile[file] = cs
	}
	for file := range d.byFile {
		if !present[file] {
			delete(d.byFile, file)
			for name, f := range d.owners {
				if f == file {
					delete(d.owners, name)
				}
			}
		}
	}
	var files []string
	for f := range d.byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	want := map[string]*api.Campaign{}
	for _, f := range files {
		for _, c := range d.byFile[f] {
			want[c.Metadata.Name] = c
		}
	}
	d.mu.Unlock()

	rev := ""
	if d.Revision != nil {
		rev = d.Revision()
	}
	for _, f := range files {
		for _, c := range d.byFile[f] {
			c = owned(c, f, rev)
			if err := d.packSource(ctx, st, c); err != nil {
				d.mu.Lock()
				d.errs[f] = errors.Join(d.errs[f], fmt.Errorf("campaign %s: %w", c.Metadata.Name, err))
				d.mu.Unlock()
				d.log().Warn("packing manifest source failed", zap.String("file", f), zap.String("campaign", c.Metadata.Name), zap.Error(err))
				continue
			}
			if _, _, err := st.Apply(ctx, c); err != nil {
				d.mu.Lock()
				d.errs[f] = errors.Join(d.errs[f], fmt.Errorf("apply %s: %w", c.Metadata.Name, err))
				d.mu.Unlock()
				d.log().Warn("applying manifest failed", zap.String("file", f), zap.String("campaign", c.Metadata.Name), zap.Error(err))
				continue
			}
			notify(c.Metadata.Name) // reconciling an unchanged campaign is a no-op
		}
	}
	if !d.Prune {
		return
	}
	all, err := st.List(ctx)
	if err != nil {
		d.log().Warn("listing campaigns for pruning failed", zap.Error(err))
		return
	}
	for _, c := range all {
		if c.Metadata.Labels[LabelManagedBy] != ManagedByValue || want[c.Metadata.Name] != nil ||
			c.Metadata.DeletionTimestamp != nil { // already being deleted
			continue
		}
		if err := st.Delete(ctx, c.Metadata.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			d.log().Warn("pruning campaign failed", zap.String("campaign", c.Metadata.Name), zap.Error(err))
			continue
		}
		d.log().Info("pruned campaign whose manifest disappeared", zap.String("campaign", c.Metadata.Name))
		notify(c.Metadata.Name)
	}
}

// checkOwnership refuses a file that declares a campaign another file owns.
func (d *Dir) checkOwnership(file string, cs []*api.Campaign) error {
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.Metadata.Name] {
			return fmt.Errorf("campaign %s declared twice", c.Metadata.Name)
		}
		seen[c.Metadata.Name] = true
		if f, ok := d.owners[c.Metadata.Name]; ok && f != file {
			return fmt.Errorf("campaign %s is already declared in %s", c.Metadata.Name, f)
		}
	}
	return nil
}

// packSource packs and stores spec.source.path (relative to the manifest
// directory, inside Root) and sets spec.source.archive.
func (d *Dir) packSource(ctx context.Context, st Applier, c *api.Campaign) error {
	src := c.Spec.Source
	up, ok := st.(SourceUploader)
	if src.Path == "" || src.Git != nil || !ok {
		return nil
	}
	if filepath.IsAbs(src.Path) {
		return fmt.Errorf("spec.source.path %q: must be relative to the manifest", src.Path)
	}
	root := d.Root
	if root == "" {
		root = d.Path
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(d.Path, src.Path))
	if err != nil {
		return fmt.Errorf("spec.source.path %q: %w", src.Path, err)
	}
	if rel, err := filepath.Rel(realRoot, dir); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("spec.source.path %q: outside the manifest tree", src.Path)
	}
	tmp, err := os.CreateTemp("", "simswarm-gitops-source-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	sha, _, err := sourcearchive.Pack(dir, tmp)
	if err != nil {
		return fmt.Errorf("pack %s: %w", src.Path, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := up.PutSource(ctx, sha, tmp); err != nil {
		return err
	}
	c.Spec.Source.Archive = sha
	return nil
}

func owned(c *api.Campaign, file, rev string) *api.Campaign {
	cp := *c
	cp.Metadata.Labels = map[string]string{}
	for k, v := range c.Metadata.Labels {
		cp.Metadata.Labels[k] = v
	}
	cp.Metadata.Labels[LabelManagedBy] = ManagedByValue
	cp.Metadata.Annotations = map[string]string{}
	for k, v := range c.Metadata.Annotations {
		cp.Metadata.Annotations[k] = v
	}
	cp.Metadata.Annotations[AnnotationFile] = file
	if rev != "" {
		cp.Metadata.Annotations[AnnotationRevision] = rev
	}
	return &cp
}
