// Package e2e holds end-to-end tests that drive the built simswarm binary
// as a user would: manifests on disk, results on disk, exit statuses.
package e2e
