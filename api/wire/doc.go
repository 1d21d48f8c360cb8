// Package wire holds the bodies of the controller's HTTP API that are not
// manifests: the path prefix of the API group version (Prefix), the error
// body (Status with its field-path Causes), the lists and pages the API
// returns (CampaignList, RunList, ResultList with ResultEntry,
// ResultSetList, KeptResultList) and the request of a batch download
// (ResultBatchRequest, bounded by MaxResultBatchFiles and
// MaxResultBatchBytes).
//
// The server (package controller/apiserver) writes these bodies and the
// client (package controller/client), the CLI and the dashboard read them;
// keeping them here lets a client be built without the server.
//
//	var page wire.ResultList
//	// GET wire.Prefix + "/campaigns/NAME/results?after=-1&limit=500"
//	for _, e := range page.Items { ... e.Run, e.Name, e.SHA256 ... }
//
// Guarantees: the package holds declarations only (no I/O, no behaviour);
// the JSON field names are the API's, so renaming one is a change of the
// API version, not a refactoring. Campaigns travel as api.Campaign, run
// records as schema.RunRecord, result sets as schema.ResultSet.
package wire
