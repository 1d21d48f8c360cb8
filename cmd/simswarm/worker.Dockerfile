# The worker image: the simulation toolchain (e.g. an OMNeT++/INET image,
# given as TOOLCHAIN_IMAGE) plus distcc and the simswarm binary. The stack
# runs it as the builder and the runners (`simswarm worker`, role from
# SIMSWARM_ROLE=build|run) and as the global distcc service (`distccd ...`, so the
# compilers that serve the builder are the toolchain's own). The toolchain
# image must be Debian-based (apt-get). Build context: bin/ (make build):
#
#   docker build -f cmd/simswarm/worker.Dockerfile \
#     --build-arg TOOLCHAIN_IMAGE=my-omnetpp:6.1 -t simswarm/worker:latest bin
ARG TOOLCHAIN_IMAGE=debian:bookworm-slim
FROM ${TOOLCHAIN_IMAGE}
# A toolchain that already has distcc, a C compiler and make (as an OMNeT++
# image with distcc added would) is used as it is, without the network.
# distcc's masquerade links are made for every compiler it has, always:
# distccd runs only compilers that have one, and the builder puts them first
# on PATH for makefiles that name their compiler themselves.
RUN set -e; \
    if ! command -v distcc >/dev/null || ! command -v gcc >/dev/null || ! command -v make >/dev/null; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        distcc gcc g++ make ca-certificates; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    update-distcc-symlinks
COPY simswarm /usr/local/bin/simswarm
ENV TMPDIR=/tmp
ENTRYPOINT ["/usr/local/bin/simswarm"]
