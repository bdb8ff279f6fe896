#!/usr/bin/env bash
# Synth benchmark: builds the app and runs it as `cdk synth` would on the
# fixture estates (accounts x use cases), printing wall and CPU time per
# phase, jsii requests by kind, node->Go callbacks and node's peak RSS; then
# runs the same model-account stacks written in JavaScript
# (scripts/benchsynth/ts-app.js, on the aws-cdk-lib, constructs and cdk-nag
# the Go app embeds), compares its templates with the Go app's and prints
# both apps' figures side by side. It prints numbers and asserts nothing.
# Each app runs RUNS times (default 3), Go and JS alternating, and the
# medians are printed.
# Usage:
#   scripts/bench-synth.sh [20x40,50x400] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/app" .
go build -o "$out/benchsynth" ./scripts/benchsynth
# The JavaScript app's node_modules: the very jsii packages the Go modules
# embed (aws-cdk-lib, constructs, cdk-nag and aws-cdk-lib's jsii dependencies).
for tgz in $(go list -m -f '{{if .Dir}}{{.Dir}}/jsii/*.tgz{{end}}' all); do
  [ -f "$tgz" ] || continue
  name=$(tar xzf "$tgz" package/package.json -O | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).name')
  mkdir -p "$out/node_modules/$name"
  tar xzf "$tgz" -C "$out/node_modules/$name" --strip-components=1
done
"$out/benchsynth" -app "$out/app" -root . -estates "${1:-20x40,50x400}" -runs "${2:-3}" \
  -ts scripts/benchsynth/ts-app.js -node-path "$out/node_modules"
