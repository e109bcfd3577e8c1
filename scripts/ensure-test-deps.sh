#!/usr/bin/env bash
# Installs the system packages the tests need and npm does not provide: the CNCF distribution
# registry (Debian package docker-registry). Does nothing when it is already installed.
set -euo pipefail
if command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ]; then
  exit 0
fi
echo "docker-registry is missing; installing it with apt-get" >&2
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends docker-registry
# The package starts a system service on :5000; the tests start their own registries.
$SUDO service docker-registry stop >/dev/null 2>&1 || true
