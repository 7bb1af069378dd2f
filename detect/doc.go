// Package detect is medtap's detection layer: it reads the typed events the
// parsers and the flow table emit (dicom, hl7, astm, tls, flow), applies a
// policy (package detect/policy) and emits alerts.
//
// The Engine is a pipeline sink: it sees every event in the pipeline's
// deterministic order and writes "alert" events (body *Alert) to
// Options.AlertSink. Findings of one rule on one flow fold into one alert,
// emitted when the flow's end-of-flow record arrives (or at Close); a rate
// limit caps alerts per rule and asset per hour of capture time. Alerts
// depend only on the input: time is event time, never the wall clock.
//
// Alerts never carry patient values. Evidence names fields (PID-5), tags
// ((0010,0010)) and categories, counts, and keyed pseudonyms of patient
// identifiers: HMAC-SHA256 under a key created on first run (mode 0600,
// DefaultKeyFile) and reused, so one patient can be followed across alerts
// without being named. Options.Evidence = "masked" adds masked excerpts.
//
// The rules are listed in one table (Rules) and documented in RULES.md.
// Country lookups for cross-border rules use package detect/geo.
package detect
