// Package dashboards holds medtap's Grafana dashboards (grafana/*.json) and
// Prometheus alerting rules (prometheus/medtap-rules.yml). It has no code:
// its test checks that they are well formed, that promtool accepts the
// rules and their unit tests, and that every metric they use is one medtap
// exports (sensor/metrics.Names).
package dashboards
