# Evidence Tracker. `make run` runs the main job on the embedded default
# (SQLite + bleve under ./data); `make test` is what CI runs.
GO      ?= go
BIN     := bin/evidence
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
GOFILES  = $(shell find . -name '*.go' -not -path './.git/*' -not -path './data/*' -not -path './demo-data/*')

.PHONY: all build run test fmt-check vet unit demo bench fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/evidence

## run: the main job once: ingest every due source into ./data and update the index
run: build
	./$(BIN) run

## test: gofmt check, go vet, and every test with the race detector
test: fmt-check vet unit

fmt-check:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

## demo: offline pipeline over the bundled snapshots (replay on loopback)
demo: build
	./scripts/demo.sh

## bench: Go benchmarks (speed and memory targets live here, never in unit tests),
## then bleve against SQLite FTS5 on 1,000 generated items (`evidence bench search`)
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./$(BIN) bench search --docs 1000

## fuzz: a short run of every fuzz target
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime 20s $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin demo-data
