// Package api is medtap's read-only HTTP API, served on the metrics
// listener next to /metrics, /healthz and /readyz:
//
//	GET /api/v1/assets            the inventory, filtered and paginated
//	GET /api/v1/assets/{id}       one asset
//	GET /api/v1/alerts            alerts (since=RFC3339, severity=at or above)
//	GET /api/v1/flows/top         the largest flows by bytes
//
// Lists answer {"items":[...],"next":CURSOR} where next is null on the last
// page; pass it back as cursor= for the following page. limit is at most
// MaxLimit (DefaultLimit when absent). Asset filters: class, ip (current or
// earlier address), mac, sensor, vlan, internal=true|false, severity (an
// open alert at or above). Alert filters: since (last seen at or after),
// severity (at or above), rule, sensor, asset (an asset id). Bad
// parameters get 400 with {"error": "..."} naming the parameter. The API is bound to loopback by default; off loopback it
// requires a bearer token (Security), optionally over TLS.
package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medtap/medtap/detect/inventory"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1/"

// API serves a Store and a TopFlows.
type API struct {
	store Store
	flows *TopFlows // nil: /flows/top answers an empty list
}

// New returns the API over store and flows.
func New(store Store, flows *TopFlows) *API { return &API{store: store, flows: flows} }

// Handlers are the API's routes, for metrics.Options.Handlers.
func (a *API) Handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/v1/assets":      http.HandlerFunc(a.assets),
		"GET /api/v1/assets/{id}": http.HandlerFunc(a.asset),
		"GET /api/v1/alerts":      http.HandlerFunc(a.alerts),
		"GET /api/v1/flows/top":   http.HandlerFunc(a.topFlows),
	}
}

// Handler serves the routes on a mux of its own (tests).
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	for p, h := range a.Handlers() {
		mux.Handle(p, h)
	}
	return mux
}

// page is a list answer.
type page[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}

// alertItem is an alert with its full event.
type alertItem struct {
	inventory.AlertRecord
	Event json.RawMessage `json:"event,omitempty"`
}

// badRequest answers 400 with a JSON error naming the parameter.
func badRequest(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func storeError(w http.ResponseWriter) {
	// The cause stays out of the answer: it may name files.
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "store unavailable"})
}

// limitParam reads limit (1..MaxLimit, DefaultLimit when absent).
func limitParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, errors.New("limit: use an integer from 1 to " + strconv.Itoa(MaxLimit))
	}
	return n, nil
}

func encodeCursor(s string) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(s))
	return &c
}

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) > 512 {
		return "", errors.New("cursor: not a cursor this API returned")
	}
	return string(b), nil
}

func (a *API) assets(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := AssetQuery{Class: v.Get("class"), IP: v.Get("ip"), MAC: v.Get("mac"), Sensor: v.Get("sensor"), Severity: v.Get("severity")}
	var err error
	if q.Limit, err = limitParam(r); err != nil {
		badRequest(w, err.Error())
		return
	}
	if s := v.Get("vlan"); s != "" {
		n, err := strconv.ParseUint(s, 10, 12)
		if err != nil || n == 0 {
			badRequest(w, "vlan: use a VLAN id from 1 to 4095")
			return
		}
		q.VLAN = uint16(n)
	}
	if s := v.Get("internal"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			badRequest(w, "internal: use true or false")
			return
		}
		q.Internal = &b
	}
	if q.Severity != "" && !ValidSeverity(q.Severity) {
		badRequest(w, "severity: use info, low, medium, high or critical")
		return
	}
	if c := v.Get("cursor"); c != "" {
		if q.After, err = decodeCursor(c); err != nil {
			badRequest(w, err.Error())
			return
		}
	}
	items, err := a.store.Assets(q)
	if err != nil {
		storeError(w)
		return
	}
	p := page[inventory.Asset]{Items: items}
	if len(items) > q.Limit {
		p.Items = items[:q.Limit]
		p.Next = encodeCursor(p.Items[q.Limit-1].ID)
	}
	if p.Items == nil {
		p.Items = []inventory.Asset{}
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *API) asset(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	as, ok, err := a.store.Asset(id)
	if err != nil {
		storeError(w)
		return
	}
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such asset"})
		return
	}
	writeJSON(w, http.StatusOK, as)
}

func (a *API) alerts(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := AlertQuery{Severity: v.Get("severity"), Rule: v.Get("rule"), Sensor: v.Get("sensor"), AssetID: v.Get("asset")}
	var err error
	if q.Limit, err = limitParam(r); err != nil {
		badRequest(w, err.Error())
		return
	}
	if s := v.Get("since"); s != "" {
		if q.Since, err = time.Parse(time.RFC3339Nano, s); err != nil {
			badRequest(w, "since: use an RFC 3339 time such as 2026-11-23T08:00:00Z")
			return
		}
	}
	if q.Severity != "" && !ValidSeverity(q.Severity) {
		badRequest(w, "severity: use info, low, medium, high or critical")
		return
	}
	if c := v.Get("cursor"); c != "" {
		s, err := decodeCursor(c)
		ts, id, ok := strings.Cut(s, "|")
		n, perr := strconv.ParseInt(ts, 10, 64)
		if err != nil || !ok || perr != nil {
			badRequest(w, "cursor: not a cursor this API returned")
			return
		}
		q.AfterTime, q.AfterID = time.Unix(0, n).UTC(), id
	}
	recs, err := a.store.Alerts(q)
	if err != nil {
		storeError(w)
		return
	}
	p := page[alertItem]{Items: make([]alertItem, 0, len(recs))}
	if len(recs) > q.Limit {
		recs = recs[:q.Limit]
		last := recs[q.Limit-1]
		p.Next = encodeCursor(strconv.FormatInt(last.FirstSeen.UnixNano(), 10) + "|" + last.ID)
	}
	for _, rec := range recs {
		it := alertItem{AlertRecord: rec}
		if json.Valid(rec.Event) {
			it.Event = rec.Event
		}
		p.Items = append(p.Items, it)
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *API) topFlows(w http.ResponseWriter, r *http.Request) {
	n, err := limitParam(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	var items []Flow
	if a.flows != nil {
		items = a.flows.Top(n)
	}
	if items == nil {
		items = []Flow{}
	}
	writeJSON(w, http.StatusOK, page[Flow]{Items: items})
}
