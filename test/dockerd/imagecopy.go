package dockertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// CopyImages gives every engine in to the images refs of from, without a
// registry: `docker save` once into a tar cached per machine (keyed by the
// images' IDs, so an unchanged set is not saved again; older sets are
// removed), then `docker load` on each engine in parallel.
func CopyImages(t testing.TB, from *Daemon, refs []string, to ...*Daemon) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	var ids []string
	for _, ref := range refs {
		img, _, err := from.Client.ImageInspectWithRaw(ctx, ref)
		if err != nil {
			t.Fatalf("copy images: %s: %v", ref, err)
		}
		ids = append(ids, ref+"="+img.ID)
	}
	sort.Strings(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	dir := filepath.Join(cacheDir(), "images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, hex.EncodeToString(sum[:8])+".tar")
	if _, err := os.Stat(tarPath); err != nil {
		old, _ := filepath.Glob(filepath.Join(dir, "*.tar"))
		for _, o := range old {
			_ = os.Remove(o)
		}
		if err := saveImages(ctx, from.Client, refs, tarPath); err != nil {
			t.Fatalf("copy images: %v", err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(to))
	for i, d := range to {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = loadImages(ctx, d.Client, tarPath)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("copy images to %s: %v", to[i], err)
		}
	}
	t.Logf("copied %d images to %d engines in %v", len(refs), len(to), time.Since(start).Round(time.Millisecond))
}

func saveImages(ctx context.Context, c *client.Client, refs []string, path string) error {
	rc, err := c.ImageSave(ctx, refs)
	if err != nil {
		return fmt.Errorf("save %v: %w", refs, err)
	}
	defer rc.Close()
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("save %v: %w", refs, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func loadImages(ctx context.Context, c *client.Client, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	resp, err := c.ImageLoad(ctx, f, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	if strings.Contains(string(b), `"error"`) {
		return fmt.Errorf("load %s: %s", path, b)
	}
	return nil
}
