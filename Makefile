# simswarm — the two commands a new user needs are `make demo` and `make test`.
GO       ?= go
BIN      := bin/simswarm
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
# Static binary: it goes into FROM-scratch images and onto any Linux node.
export CGO_ENABLED ?= 0

.PHONY: all build demo test test-short deps bench fuzz vet clean images

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/simswarm

## demo: build simswarm and run the ALOHA example campaign on all local cores.
demo: build
	./$(BIN) run -f examples/aloha/campaign.yaml --results results

## deps: install the system packages the tests need (Debian; only if missing).
deps:
	./test/install-deps.sh

## test: install what the tests need, then run the whole suite.
test: deps build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...

test-short: build
	$(GO) test -count=1 -short ./...

## bench: the performance goals, as benchmarks and side-by-side scripts.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...
	./test/bench/runall-vs-xargs.sh
	./test/bench/throughput.sh 2000

## fuzz: a minute of fuzzing on the manifest decoder.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseManifests -fuzztime 60s ./api

## images: the production images (cmd/simswarm/*Dockerfile) on the engine DOCKER_HOST names,
## tagged with the version and as :latest (the Stack's default images);
## TOOLCHAIN_IMAGE is the worker's base, e.g. an OMNeT++ image.
TOOLCHAIN_IMAGE ?= debian:bookworm-slim
images: build
	docker build -f cmd/simswarm/Dockerfile -t simswarm/simswarm:$(VERSION) -t simswarm/simswarm:latest bin
	docker build -f cmd/simswarm/worker.Dockerfile --build-arg TOOLCHAIN_IMAGE=$(TOOLCHAIN_IMAGE) -t simswarm/worker:$(VERSION) -t simswarm/worker:latest bin

clean:
	rm -rf bin results
