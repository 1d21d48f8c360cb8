#!/usr/bin/env bash
# Installs what the test suite needs on a Debian machine, only where missing.
# Idempotent; needs root (or sudo) for apt-get. Used by `make test`.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have gcc            || need+=(gcc)
have make           || need+=(make)
have git            || need+=(git)
have redis-server   || need+=(redis-server)
have distccd        || need+=(distcc)
have sshd           || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
have dockerd        || need+=(docker.io)
have debootstrap    || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
have ip             || need+=(iproute2)
have hyperfine      || need+=(hyperfine)
have chromium       || need+=(chromium)   # the dashboard's browser tests (headless)
/usr/bin/python3 -c "import rq, pymongo, gridfs" >/dev/null 2>&1 || need+=(python3-rq python3-pymongo python3-gridfs)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${need[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
