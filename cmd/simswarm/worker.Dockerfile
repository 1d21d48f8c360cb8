# The worker image: the simulation toolchain (e.g. an OMNeT++/INET image,
# given as TOOLCHAIN_IMAGE) plus distcc and the simswarm binary. The stack
# runs it as the builder and the runners (`simswarm worker`, role from
# SIMSWARM_ROLE) and as the global distcc service (`distccd ...`, so the
# compilers that serve the builder are the toolchain's own). The toolchain
# image must be Debian-based (apt-get). Build context: bin/ (make build):
#
#   docker build -f cmd/simswarm/worker.Dockerfile \
#     --build-arg TOOLCHAIN_IMAGE=my-omnetpp:6.1 -t simswarm/worker:latest bin
ARG TOOLCHAIN_IMAGE=debian:bookworm-slim
FROM ${TOOLCHAIN_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      distcc gcc g++ make ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && update-distcc-symlinks
COPY simswarm /usr/local/bin/simswarm
ENV TMPDIR=/tmp
ENTRYPOINT ["/usr/local/bin/simswarm"]
