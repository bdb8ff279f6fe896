#!/usr/bin/env bash
# Synth benchmark: builds the app and runs it as `cdk synth` would on the
# fixture estates (accounts x use cases), printing wall and CPU time per
# phase, jsii requests by kind, node->Go callbacks and node's peak RSS.
# It prints numbers and asserts nothing. Usage:
#   scripts/bench-synth.sh [20x40,50x400]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/app" .
go build -o "$out/benchsynth" ./scripts/benchsynth
"$out/benchsynth" -app "$out/app" -root . -estates "${1:-20x40,50x400}"
