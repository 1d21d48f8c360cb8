# simswarm — the two commands a new user needs are `make demo` and `make test`.
GO       ?= go
BIN      := bin/simswarm
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
# Static binary: it goes into FROM-scratch images and onto any Linux node.
export CGO_ENABLED ?= 0

.PHONY: all build demo test test-short deps omnetpp bench fuzz vet clean images omnetpp-images

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/simswarm

## demo: build simswarm and run the ALOHA example campaign on all local cores.
demo: build
	./$(BIN) run -f examples/aloha/campaign.yaml --results results

## deps: install the system packages the tests need (Debian; only if missing).
deps:
	./test/install-deps.sh

## omnetpp: build OMNeT++ 6.1.0 with its samples into a per-machine cache outside the checkout, for
## the tests against the real opp_run/opp_runall (instant when cached; test/omnetpp finds it).
## Without ../shared/omnetpp (a user's own clone), set SIMSWARM_OMNETPP_ROOT to a built OMNeT++.
OMNETPP_SRC  ?= ../shared/omnetpp
OMNETPP_ROOT ?= /var/cache/simswarm-test/omnetpp-6.1.0
omnetpp:
	@if [ -n "$$SIMSWARM_OMNETPP_ROOT" ]; then echo "omnetpp: using SIMSWARM_OMNETPP_ROOT=$$SIMSWARM_OMNETPP_ROOT"; \
	elif [ -x $(OMNETPP_SRC)/build.sh ]; then $(OMNETPP_SRC)/build.sh $(OMNETPP_ROOT); \
	else echo "omnetpp: no $(OMNETPP_SRC)/build.sh and no SIMSWARM_OMNETPP_ROOT: the tests against real OMNeT++ will be skipped (fail in CI)"; fi

## test: install what the tests need, then run the whole suite.
test: deps omnetpp build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...

test-short: build
	$(GO) test -count=1 -short ./...

## bench: the performance goals, as benchmarks and side-by-side scripts
## (BenchmarkIndexCost runs once, from index-cost.sh, with its pairs).
bench: build
	$(GO) test -run '^$$' -bench . -skip '^BenchmarkIndexCost$$' -benchtime 1x ./...
	./test/bench/runall-vs-xargs.sh
	./test/bench/runall-vs-opp_runall.sh
	./test/bench/index-cost.sh
	./test/bench/throughput.sh 2000
	./test/bench/scale.sh
	./test/bench/multihost.sh

## fuzz: a minute of fuzzing on the manifest decoder, and one on the .sca parser.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseManifests -fuzztime 60s ./api
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./workers/scafile

## images: the production images (cmd/simswarm/*Dockerfile) on the engine DOCKER_HOST names,
## tagged with the version and as :latest (the Stack's default images);
## TOOLCHAIN_IMAGE is the worker's base, e.g. an OMNeT++ image.
TOOLCHAIN_IMAGE ?= debian:bookworm-slim
images: build
	docker build -f cmd/simswarm/Dockerfile -t simswarm/simswarm:$(VERSION) -t simswarm/simswarm:latest bin
	docker build -f cmd/simswarm/worker.Dockerfile --build-arg TOOLCHAIN_IMAGE=$(TOOLCHAIN_IMAGE) -t simswarm/worker:$(VERSION) -t simswarm/worker:latest bin

## omnetpp-images: the images with a real OMNeT++ as the workers' toolchain: the OMNeT++
## installation OMNETPP_ROOT names (built on Debian 12) becomes simswarm/omnetpp
## (cmd/simswarm/omnetpp.Dockerfile), then `make images` on it.
omnetpp-images:
	docker build -f cmd/simswarm/omnetpp.Dockerfile -t simswarm/omnetpp:$(VERSION) -t simswarm/omnetpp:latest $(OMNETPP_ROOT)
	$(MAKE) images TOOLCHAIN_IMAGE=simswarm/omnetpp:$(VERSION)

clean:
	rm -rf bin results
