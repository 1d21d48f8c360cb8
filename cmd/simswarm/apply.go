package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/sourcearchive"
)

func newApplyCmd(g *globals) *cobra.Command {
	var cf clientFlags
	var files []string
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR [-f ...]",
		Short: "Create or update campaigns on a controller (uploads source.path directories)",
		Long: `Apply Campaign manifests to the controller. A campaign whose source is a local
directory (spec.source.path, relative to the manifest file) is packed into a
reproducible tar.gz, uploaded once per content digest, and referenced by
spec.source.archive.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return invalidInput(fmt.Errorf("apply: -f FILE is required"))
			}
			var paths []string
			for _, f := range files {
				st, err := os.Stat(f)
				if err != nil {
					return invalidInput(err)
				}
				if !st.IsDir() {
					paths = append(paths, f)
					continue
				}
				entries, err := os.ReadDir(f)
				if err != nil {
					return invalidInput(err)
				}
				for _, e := range entries {
					ext := strings.ToLower(filepath.Ext(e.Name()))
					if !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
						paths = append(paths, filepath.Join(f, e.Name()))
					}
				}
			}
			for _, p := range paths {
				cs, err := api.LoadFile(p)
				if err != nil {
					return invalidInput(err)
				}
				for _, cp := range cs {
					if err := uploadSource(cmd, c, cp, filepath.Dir(p)); err != nil {
						return err
					}
					out, created, err := c.ApplyCreated(cmd.Context(), cp)
					if err != nil {
						return apiErr(fmt.Errorf("apply %s: %w", cp.Metadata.Name, err))
					}
					verb := "configured"
					if created {
						verb = "created"
					}
					fmt.Fprintf(cmd.OutOrStdout(), "campaign/%s %s\n", out.Metadata.Name, verb)
				}
			}
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file or directory (repeatable)")
	return cmd
}

// uploadSource packs and uploads spec.source.path (relative to base) and
// records its digest in spec.source.archive.
func uploadSource(cmd *cobra.Command, c *client.Client, cp *api.Campaign, base string) error {
	if cp.Spec.Source.Path == "" {
		return nil
	}
	dir := cp.Spec.Source.Path
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(base, dir)
	}
	tmp, err := os.CreateTemp("", "simswarm-source-*.tar.gz")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	sha, size, err := sourcearchive.Pack(dir, tmp)
	if err != nil {
		return invalidInput(fmt.Errorf("pack %s: %w", dir, err))
	}
	ok, err := c.HasSource(cmd.Context(), sha)
	if err != nil {
		return apiErr(err)
	}
	if !ok {
		if _, err := tmp.Seek(0, 0); err != nil {
			return err
		}
		if err := c.UploadSource(cmd.Context(), sha, tmp, size); err != nil {
			return apiErr(fmt.Errorf("upload source of %s: %w", cp.Metadata.Name, err))
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "uploaded %s (%d bytes, sha256 %s)\n", cp.Spec.Source.Path, size, sha[:12])
	}
	cp.Spec.Source.Archive = sha
	return nil
}
