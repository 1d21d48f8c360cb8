# An OMNeT++ toolchain image: Debian 12 with what building and running an
# OMNeT++ model needs (g++, make, python3 for opp_makemake, distcc, SQLite,
# libxml2) and a built OMNeT++ at /opt/omnetpp, on PATH. Give it to
# worker.Dockerfile as TOOLCHAIN_IMAGE: the builder then compiles models
# with this OMNeT++ (through the stack's distcc service) and the runners
# run them with it.
#
# The build context is an OMNeT++ installation built on Debian 12
# (bookworm), e.g. `./configure WITH_QTENV=no WITH_OSG=no && make base` in
# the unpacked source: only bin, include, lib, python, the make
# configuration and the license are copied, not the sources or object
# files. OMNeT++ keeps the path it was built in only as the libraries' run
# path, so the image sets LD_LIBRARY_PATH instead.
#
#   docker build -f cmd/simswarm/omnetpp.Dockerfile -t my/omnetpp:6.1.0 ~/omnetpp-6.1.0
#   docker build -f cmd/simswarm/worker.Dockerfile \
#     --build-arg TOOLCHAIN_IMAGE=my/omnetpp:6.1.0 -t my/simswarm-worker:6.1.0 bin
#
# BASE_IMAGE must be the Debian release OMNeT++ was built on (its libstdc++
# and SQLite). A base that already has every package (a debootstrapped one,
# as the tests use) needs no network.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
# distccd compiles only with compilers that have a link in /usr/lib/distcc,
# and the builder finds them there for makefiles that name g++ themselves.
RUN set -e; missing=""; \
    for p in distcc g++ libsqlite3-0 libxml2 make python3 zlib1g; do \
      dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; \
    done; \
    if [ -n "$missing" ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    update-distcc-symlinks; \
    test -x /usr/lib/distcc/g++
COPY Makefile.inc configure.user Version /opt/omnetpp/
COPY bin /opt/omnetpp/bin
COPY include /opt/omnetpp/include
COPY lib /opt/omnetpp/lib
COPY python /opt/omnetpp/python
COPY doc/License /opt/omnetpp/doc/License
ENV PATH=/opt/omnetpp/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LD_LIBRARY_PATH=/opt/omnetpp/lib \
    PYTHONPATH=/opt/omnetpp/python
# Fails the build on an installation that does not run here (built on
# another Debian release, or not built).
RUN opp_run -v >/dev/null && opp_configfilepath
