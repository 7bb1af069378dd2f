package natsink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/medtap/medtap/sensor/event"
	"github.com/medtap/medtap/sensor/natsink/natstest"
)

type testBody struct {
	N int `json:"n"`
}

func (*testBody) EventType() string { return "flow" }

func testEvents(from, n int) []*event.Event {
	evs := make([]*event.Event, n)
	for i := range evs {
		evs[i] = &event.Event{TS: time.Unix(1_700_000_000, 0), Sensor: "A", Body: &testBody{N: from + i},
			Key: event.Key{Packet: uint64(from + i), Flow: 1}}
	}
	return evs
}

// streamContents reads every message of the stream: the n of each body.
func streamContents(t *testing.T, url string) []int {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, StreamName, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for {
		b, err := c.FetchNoWait(1000)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range b.Messages() {
			got++
			var ev struct {
				Flow testBody `json:"flow"`
			}
			if err := json.Unmarshal(m.Data(), &ev); err != nil {
				t.Fatalf("message %q: %v", m.Data(), err)
			}
			if m.Subject() != "medtap.A.event.flow" {
				t.Fatalf("subject %s", m.Subject())
			}
			out = append(out, ev.Flow.N)
		}
		if got == 0 {
			return out
		}
	}
}

func checkAllOnce(t *testing.T, got []int, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("stream holds %d messages, want %d", len(got), n)
	}
	seen := map[int]bool{}
	for i, v := range got {
		if seen[v] {
			t.Errorf("message %d stored twice", v)
		}
		seen[v] = true
		if i > 0 && v < got[i-1] {
			t.Errorf("out of order: %d after %d", v, got[i-1])
		}
	}
	for i := 0; i < n; i++ {
		if !seen[i] {
			t.Errorf("message %d lost", i)
		}
	}
}

func TestPublishThroughOutage(t *testing.T) {
	srv := natstest.Start(t)
	p, err := Open(Config{URL: srv.URL(), Sensor: "A", SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	for i := 0; i < n; i += 10 {
		p.Write(testEvents(i, 10))
		switch i {
		case 1000:
			time.Sleep(300 * time.Millisecond) // some published before the outage
			srv.Stop()
		case 2000:
			time.Sleep(300 * time.Millisecond)
			if st := p.Stats(); st.Spooled == 0 || st.Connected {
				t.Errorf("during the outage: %+v", st)
			}
			srv.Start()
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pending, err := p.Close(ctx)
	if err != nil || pending != 0 {
		t.Fatalf("Close: %d pending, %v", pending, err)
	}
	st := p.Stats()
	t.Logf("stats: %+v", st)
	if st.QueueDropped != 0 || st.SpoolDropped != 0 {
		t.Errorf("dropped: %+v", st)
	}
	checkAllOnce(t, streamContents(t, srv.URL()), n)
}

func TestSpoolSurvivesRestartOfSensor(t *testing.T) {
	srv := natstest.Start(t)
	srv.Stop()
	dir := t.TempDir()
	p, err := Open(Config{URL: srv.URL(), Sensor: "A", SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p.Write(testEvents(0, 500))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	pending, err := p.Close(ctx)
	cancel()
	if err != nil || pending != 500 {
		t.Fatalf("Close with the server down: %d pending, %v; want 500", pending, err)
	}
	// The next run sends what the last one left, before its own events.
	srv.Start()
	p, err = Open(Config{URL: srv.URL(), Sensor: "A", SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p.Write(testEvents(500, 500))
	// The same events again (a re-run of the same input): the stream's
	// duplicate window drops them.
	p.Write(testEvents(0, 100))
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if pending, err := p.Close(ctx); err != nil || pending != 0 {
		t.Fatalf("Close: %d pending, %v", pending, err)
	}
	if st := p.Stats(); st.Duplicates != 100 {
		t.Errorf("duplicates acknowledged: %d, want 100", st.Duplicates)
	}
	checkAllOnce(t, streamContents(t, srv.URL()), 1000)
}

func TestQueueFullDropsNeverBlocks(t *testing.T) {
	srv := natstest.Start(t)
	srv.Stop()
	p, err := Open(Config{URL: srv.URL(), Sensor: "A", SpoolDir: t.TempDir(), QueueLen: 4})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < 200; i++ {
		p.Write(testEvents(i*50, 50))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Write took %v", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	pending, _ := p.Close(ctx)
	st := p.Stats()
	if st.Queued+st.QueueDropped != 10000 || uint64(pending) != st.Spooled {
		t.Errorf("queued %d + dropped %d != 10000, or pending %d != spooled %d", st.Queued, st.QueueDropped, pending, st.Spooled)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(Config{URL: "nats://127.0.0.1:1"}); err == nil {
		t.Error("no spool directory accepted")
	}
	if _, err := Open(Config{URL: "bogus://x:y:z", SpoolDir: t.TempDir()}); err == nil {
		t.Error("bad URL accepted")
	} else if errors.Is(err, context.Canceled) {
		t.Error(err)
	}
	_ = fmt.Sprint()
}
