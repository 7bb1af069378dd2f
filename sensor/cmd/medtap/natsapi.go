package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/medtap/medtap/detect/inventory"
	"github.com/medtap/medtap/sensor/api"
	"github.com/medtap/medtap/sensor/metrics"
	"github.com/medtap/medtap/sensor/natsink"
	"github.com/medtap/medtap/sensor/output"
)

// natsCloseWait bounds how long a finished run waits for the NATS server
// to take what is queued and buffered; what is left stays in the on-disk
// buffer and is sent by the next run.
const natsCloseWait = 30 * time.Second

// opsFlags are the flags of NATS publishing and of the HTTP API's
// security, shared by every command that runs the pipeline.
type opsFlags struct {
	nats         string
	natsBuffer   string
	natsBufferMB int64
	apiTokenFile string
	tlsCert      string
	tlsKey       string
}

func (o *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.nats, "nats", "", "publish events, alerts and asset states to NATS JetStream at `URL` (nats://host:4222), subjects medtap.<sensor>.*")
	fs.StringVar(&o.natsBuffer, "nats-buffer", "", "on-disk buffer `DIR` for NATS messages while the server is unreachable (default: medtap/nats-<sensor> in the user cache directory)")
	fs.Int64Var(&o.natsBufferMB, "nats-buffer-mb", natsink.DefaultSpoolBytes>>20, "size limit of the NATS on-disk buffer in MiB; past it the oldest messages are dropped and counted")
	fs.StringVar(&o.apiTokenFile, "api-token-file", "", "`FILE` holding the bearer token the HTTP API and /metrics require (required when --listen is off loopback)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate `FILE` (PEM) for the metrics and API listener; with --tls-key, serve HTTPS")
	fs.StringVar(&o.tlsKey, "tls-key", "", "TLS private key `FILE` (PEM) for the metrics and API listener")
}

// opsState is what the session holds for NATS and the API.
type opsState struct {
	pub   *natsink.Publisher
	store *api.MemStore
	top   *api.TopFlows
}

// startNATS opens the NATS publisher when --nats is set and adds it to the
// event, alert and inventory sinks.
func (s *session) startNATS() error {
	o := s.flags.ops
	if o.nats == "" {
		return nil
	}
	dir := o.natsBuffer
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("--nats: no user cache directory for the on-disk buffer; pass --nats-buffer DIR")
		}
		dir = filepath.Join(base, "medtap", "nats-"+natsink.Token(s.flags.sensor))
	}
	if o.natsBufferMB < 1 || o.natsBufferMB > 1<<20 {
		return fmt.Errorf("--nats-buffer-mb %d out of range; use 1..1048576", o.natsBufferMB)
	}
	pub, err := natsink.Open(natsink.Config{URL: o.nats, Sensor: s.flags.sensor, SpoolDir: dir, SpoolBytes: o.natsBufferMB << 20})
	if err != nil {
		return err
	}
	s.ops.pub = pub
	s.eventSinks = append(s.eventSinks, pub)
	s.alertSinks = append(s.alertSinks, pub)
	s.inventoryStores = append(s.inventoryStores, pub)
	cmd := s.cmd
	s.closers = append(s.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), natsCloseWait)
		defer cancel()
		pending, err := pub.Close(ctx)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", cmd, err)
		}
		if pending > 0 {
			fmt.Fprintf(os.Stderr, "%s: NATS server unreachable: %d messages kept in %s, sent by the next run\n", cmd, pending, dir)
		}
		if st := pub.Stats(); st.QueueDropped+st.SpoolDropped+st.SpoolErrors+st.TooLarge > 0 {
			fmt.Fprintf(os.Stderr, "%s: NATS: %d messages dropped (queue full %d, buffer full %d, buffer errors %d, too large %d)\n", cmd,
				st.QueueDropped+st.SpoolDropped+st.SpoolErrors+st.TooLarge, st.QueueDropped, st.SpoolDropped, st.SpoolErrors, st.TooLarge)
		}
	})
	return nil
}

// serve serves metrics and the HTTP API on addr (metrics.DefaultAddr when
// empty): the API reads the assets and alerts the inventory saves and the
// run's largest flows. Off loopback it requires --api-token-file.
func (s *session) serve(addr string) (stop func(context.Context) error, err error) {
	if addr == "" {
		addr = metrics.DefaultAddr
	}
	o := s.flags.ops
	opt, auth, err := api.Security{Addr: addr, TokenFile: o.apiTokenFile, CertFile: o.tlsCert, KeyFile: o.tlsKey}.Options()
	if err != nil {
		return nil, err
	}
	reg := s.enableMetrics()
	ops := &metrics.OpsCollector{API: auth.Unauthorized}
	if s.ops.pub != nil {
		ops.NATS = s.ops.pub.Stats
	}
	reg.MustRegister(ops)
	s.ops.store = api.NewMemStore()
	s.ops.top = api.NewTopFlows(api.MaxTopFlows)
	s.inventoryStores = append(s.inventoryStores, s.ops.store)
	s.eventSinks = append(s.eventSinks, s.ops.top)
	opt.Handlers = api.New(s.ops.store, s.ops.top).Handlers()
	opt.Pprof = s.flags.sinks.pprof // --pprof (sinks.go): loopback only
	srv, err := metrics.ServeWith(addr, reg, opt)
	if err != nil {
		return nil, err
	}
	return srv.Stop, nil
}

// inventoryStore is where the inventory saves: db (nil without --db) and
// the other inventory stores (the API's view, the NATS asset states).
func (s *session) inventoryStore(db inventory.Persister) inventory.Persister {
	var t teeStores
	if db != nil {
		t = append(t, db)
	}
	t = append(t, s.inventoryStores...)
	switch len(t) {
	case 0:
		return nil
	case 1:
		return t[0]
	}
	return t
}

// teeStores saves to several stores; the first error stops the save
// (the database comes first: a failure there fails the run).
type teeStores []inventory.Persister

func (t teeStores) SaveAssets(a []inventory.Asset) error {
	for _, s := range t {
		if err := s.SaveAssets(a); err != nil {
			return err
		}
	}
	return nil
}

func (t teeStores) SaveAlerts(a []inventory.AlertRecord) error {
	for _, s := range t {
		if err := s.SaveAlerts(a); err != nil {
			return err
		}
	}
	return nil
}

// changeSink is where the inventory's asset events go: the events output
// and every event sink opened so far (NATS, syslog, the rotated events
// file), so asset changes reach the same places as other events. It is
// taken before the inventory adds itself as an event sink.
func (s *session) changeSink() inventory.Sink {
	tee := output.Tee{s.events}
	for _, es := range s.eventSinks {
		tee = append(tee, es)
	}
	return tee
}
