// Package manifests is the GitOps source of the controller: it keeps the
// campaigns of a directory of manifest files (*.yaml, *.yml, *.json)
// applied.
//
// Every Campaign found is applied (create-or-update) with the label
// simswarm.io/managed-by=manifests and the annotation
// simswarm.io/manifest-file naming its file. Applying happens on every file
// change (fsnotify, debounced) and on a periodic resync, so edits made
// through the API to a campaign this source owns are reverted. With Prune,
// campaigns it owns whose file (or document) disappeared are deleted —
// deleting a campaign never deletes its results. A file that fails to parse
// or validate is reported (logged, and kept in Errors) and its campaigns are
// left as they were; the other files are applied regardless.
//
// GitSource does the same from a git repository: it clones/fetches URL at
// Ref every Interval with the git binary and records the applied commit in
// the annotation simswarm.io/source-revision (copied into
// status.sourceRevision by the reconciler).
//
// Both are manager.Runnables that need leadership: set Store (the
// manager's) and Notify (manager.Notify, which asks the leader's campaign
// controller to reconcile what was applied), Add them to the manager, and
// they run only while the instance leads.
package manifests
