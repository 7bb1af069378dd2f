package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/medtap/medtap/sensor/metrics"
)

// holdServer keeps the metrics server up after the analysis (--serve)
// until SIGINT or SIGTERM, then stops it.
func holdServer(stderr io.Writer, addr string, stop func(context.Context) error) error {
	if addr == "" {
		addr = metrics.DefaultAddr
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fmt.Fprintf(stderr, "medtap analyze: serving metrics on http://%s/metrics until interrupted\n", addr)
	<-ctx.Done()
	return stopServer(stop)
}

// stopServer stops the metrics server, waiting at most a few seconds for
// scrapes under way.
func stopServer(stop func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	return stop(ctx)
}

// shutdownWait bounds how long stopping the metrics server waits for
// scrapes under way.
const shutdownWait = 5 * time.Second
