#!/usr/bin/env bash
# Type-checks src/ against the oldest aws-cdk-lib the package accepts (the peer dependency's floor), so a construct
# that uses a newer aws-cdk-lib API fails here instead of in a user's `cdk synth`. The tests run on the current
# aws-cdk-lib; this checks only that every API src/ uses exists, with the same types, in the floor release.
#
#   bash scripts/check-cdk-floor.sh
set -euo pipefail
cd "$(dirname "$0")/.."

floor="$(node -p "require('./package.json').peerDependencies['aws-cdk-lib'].replace(/^\\^/, '')")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/node_modules"
(cd "$work" && npm pack --silent --loglevel=error "aws-cdk-lib@$floor" >/dev/null)
tar -xzf "$work/aws-cdk-lib-$floor.tgz" -C "$work"
mv "$work/package" "$work/node_modules/aws-cdk-lib"
ln -s "$PWD/node_modules/constructs" "$work/node_modules/constructs"
cat > "$work/tsconfig.json" <<JSON
{
  "extends": "$PWD/tsconfig.json",
  "compilerOptions": {
    "noEmit": true,
    "rootDir": "$PWD/src",
    "baseUrl": ".",
    "typeRoots": ["$PWD/node_modules/@types"],
    "paths": {
      "aws-cdk-lib": ["node_modules/aws-cdk-lib/index.d.ts"],
      "aws-cdk-lib/*": ["node_modules/aws-cdk-lib/*/index.d.ts"]
    }
  },
  "include": ["$PWD/src/**/*.ts"]
}
JSON
npx tsc -p "$work/tsconfig.json"
echo "check-cdk-floor: src/ type-checks against aws-cdk-lib $floor"
