package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/medtap/medtap/detect/inventory/store"
	"github.com/medtap/medtap/sensor/api"
	"github.com/medtap/medtap/sensor/hub"
	"github.com/medtap/medtap/sensor/metrics"
)

// hubCmd is `medtap hub`: one durable JetStream consumer over every
// sensor's subjects, folded into one inventory and alert database, served
// by the same HTTP API and metrics as a sensor.
func hubCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	natsURL := fs.String("nats", "", "NATS JetStream server `URL` the sensors publish to (nats://host:4222)")
	db := fs.String("db", "", "inventory database `FILE` (SQLite) the merged assets and alerts are saved in; created if absent")
	listen := fs.String("listen", metrics.DefaultAddr, "serve the HTTP API and metrics on `ADDR`")
	durable := fs.String("durable", hub.DefaultDurable, "durable consumer `NAME` on the server (one per hub)")
	var ops opsFlags
	fs.StringVar(&ops.apiTokenFile, "api-token-file", "", "`FILE` holding the bearer token the HTTP API and /metrics require (required when --listen is off loopback)")
	fs.StringVar(&ops.tlsCert, "tls-cert", "", "TLS certificate `FILE` (PEM); with --tls-key, serve HTTPS")
	fs.StringVar(&ops.tlsKey, "tls-key", "", "TLS private key `FILE` (PEM)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: medtap hub --nats URL --db FILE [flags]\n\nConsumes every sensor's events, alerts and asset states from NATS JetStream\n(subjects medtap.<sensor>.*) into one inventory and alert database, and serves\nthe HTTP API (/api/v1/...) and metrics until SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *natsURL == "" || *db == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "medtap hub: pass --nats URL and --db FILE (and no other arguments)")
		fs.Usage()
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runHub(ctx, *natsURL, *db, *listen, *durable, ops, stderr); err != nil {
		fmt.Fprintf(stderr, "medtap hub: %v\n", oneLine(err))
		return exitFailure
	}
	return exitOK
}

// runHub serves until ctx ends.
func runHub(ctx context.Context, natsURL, dbPath, listen, durable string, ops opsFlags, stderr io.Writer) error {
	opt, auth, err := api.Security{Addr: listen, TokenFile: ops.apiTokenFile, CertFile: ops.tlsCert, KeyFile: ops.tlsKey}.Options()
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	st, err := store.Open(dbPath)
	if err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	defer st.Close()
	assets, err := st.LoadAssets()
	if err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	alerts, err := st.Alerts(store.AlertFilter{})
	if err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	h, err := hub.Open(hub.Config{URL: natsURL, Durable: durable, Store: st, Assets: assets, Alerts: alerts})
	if err != nil {
		return err
	}
	defer h.Close()
	reg := metrics.NewRegistry(version)
	reg.MustRegister(&metrics.OpsCollector{API: auth.Unauthorized, Hub: h.Stats})
	opt.Handlers = api.New(h.Store(), h.TopFlows()).Handlers()
	srv, err := metrics.ServeWith(listen, reg, opt)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	scheme := "http"
	if opt.TLS != nil {
		scheme = "https"
	}
	fmt.Fprintf(stderr, "medtap hub: consuming %s into %s (%d assets, %d alerts so far); API on %s://%s/api/v1/\n",
		natsURL, dbPath, len(assets), len(alerts), scheme, srv.Addr())
	runErr := h.Run(ctx)
	if err := stopServer(srv.Stop); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}
