# medtap build, test and benchmark targets. `make run` and `make test` are the
# two commands a fresh machine needs (see README.md).

GO        ?= go
BIN       := bin
MEDTAP    := $(BIN)/medtap
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# Where `make bench` puts its generated captures (several GiB of free space).
BENCH_DIR ?= /tmp/medtap-bench
BENCH_SIZE ?= 1GiB
# Short fuzz pass per target in `make test`; longer runs: make fuzz FUZZTIME=10m
FUZZTIME  ?= 10s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test unit lint fuzz fuzz-short bench clean

all: build

# CGO_ENABLED=0: medtap run drops its capabilities on every thread with
# AllThreadsSyscall, which Go refuses in a cgo binary.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(MEDTAP) ./sensor/cmd/medtap
	$(GO) build -trimpath -o $(BIN)/medtap-pcaptool ./sensor/cmd/medtap-pcaptool
	$(GO) build -trimpath -o $(BIN)/medtap-bench ./sensor/cmd/medtap-bench

# The bundled captures, less the two damaged on purpose for the error tests.
DAMAGED   := pcaps/truncated.pcap pcaps/corrupt.pcapng
SAMPLES   := $(filter-out $(DAMAGED),$(sort $(wildcard pcaps/*.pcap pcaps/*.pcapng pcaps/*.pcap.gz pcaps/*.pcap.zst)))

# Analyze the bundled captures on the built-in default policy.
run: build
	$(MEDTAP) analyze -o out $(SAMPLES)

test: lint unit fuzz-short

unit:
	$(GO) test -count=1 ./...

lint:
	@fmt=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$fmt" ]; then echo "gofmt needed on:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Every fuzz target, briefly; the seed corpora also run in `unit`.
fuzz-short:
	GO=$(GO) bash .ci/fuzz $(FUZZTIME)

fuzz:
	$(MAKE) fuzz-short FUZZTIME=$(FUZZTIME)

# Generates the benchmark captures (deterministic) and compares medtap with
# tcpdump and tshark on them in the same run.
bench: build
	mkdir -p $(BENCH_DIR)
	test -s $(BENCH_DIR)/mixed.pcap || $(BIN)/medtap-pcaptool gen -o $(BENCH_DIR)/mixed.pcap -size $(BENCH_SIZE) -seed 1
	test -s $(BENCH_DIR)/mixed-lossy.pcap || $(BIN)/medtap-pcaptool drop -i $(BENCH_DIR)/mixed.pcap -o $(BENCH_DIR)/mixed-lossy.pcap -rate 0.01 -seed 1
	test -s $(BENCH_DIR)/dicom.pcap || $(BIN)/medtap-pcaptool gen -o $(BENCH_DIR)/dicom.pcap -size $(BENCH_SIZE) -seed 2 -mix dicom
	MEDTAP_BENCH_FILE=$(BENCH_DIR)/mixed.pcap $(GO) test -run '^$$' -bench . -benchmem ./sensor/... ./parsers/... ./detect/...
	$(BIN)/medtap-bench -medtap $(MEDTAP) -clean $(BENCH_DIR)/mixed.pcap -lossy $(BENCH_DIR)/mixed-lossy.pcap
	$(BIN)/medtap-bench -medtap $(MEDTAP) -label dicom-heavy -tshark-runs 1 $(BENCH_DIR)/dicom.pcap

clean:
	rm -rf $(BIN) out
