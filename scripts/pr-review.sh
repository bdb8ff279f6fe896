#!/usr/bin/env bash
# PR review: synthesize the estate of this checkout (the PR) and of a base
# ref, then write what a reviewer reads, as Markdown ready for a PR comment:
#
#   review/comment.md   the pull-request comment: a summary first, then the plan, the
#                       matrix and the diagram, each cut to fit GitHub's 65,536
#                       characters with a pointer to its full file
#   review/matrix.md    who can call which model where, and anything beyond the config
#   review/diagram.md   the estate as a Mermaid diagram
#   review/plan.md      access gained and lost, roles and policies added, removed, replaced
#   review/*.json       the matrix and the plan for other tools
#
# Reports name the refs and commits compared (e.g. "origin/main @ abc1234"),
# not the temporary directories they were synthesized in.
#
# Usage: scripts/pr-review.sh [BASE_REF] [OUT_DIR]
#   BASE_REF  default origin/main, else main
#   FAIL_ON   environment: passed to `estatectl plan -fail-on` (e.g. broadening,replacement);
#             the script then exits 3 when the plan has one, after writing every file.
#   CONFIG    environment: the config file, default config/usecases.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
base_ref=${1:-}
if [ -z "$base_ref" ]; then
  if git rev-parse -q --verify origin/main >/dev/null; then base_ref=origin/main; else base_ref=main; fi
fi
out=${2:-review}
out_name=$out # as the comment names the files
config=${CONFIG:-config/usecases.yaml}
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -x node_modules/.bin/cdk ] || npm ci --no-audit --no-fund >/dev/null

tool=$(mktemp -d)
trap 'git worktree remove --force "$tool/base" >/dev/null 2>&1 || true; rm -rf "$tool"' EXIT
go build -o "$tool/estatectl" ./cmd/estatectl

head_label="${GITHUB_HEAD_REF:-$(git rev-parse --abbrev-ref HEAD)} @ $(git rev-parse --short HEAD)"
base_label="$base_ref @ $(git rev-parse --short "$base_ref")"
echo "--- head: synthesize $head_label"
log="$tool/synth.log"
node_modules/.bin/cdk synth --quiet -c "config=$config" -o "$out/head.out" >"$log" 2>&1 || { cat "$log"; exit 1; }

echo "--- base: synthesize $base_label"
git worktree add --detach "$tool/base" "$base_ref" >/dev/null 2>&1
# The base is built by its own code, with this checkout's pinned CLI.
(cd "$tool/base" && "$repo/node_modules/.bin/cdk" synth --quiet -c "config=$config" -o "$out/base.out") >"$log" 2>&1 || { cat "$log"; exit 1; }
base_config="$tool/base/$config"
# A base config this version no longer reads is compared without its names.
"$tool/estatectl" validate -c "$base_config" >/dev/null 2>&1 || base_config=""

echo "--- review: $out"
"$tool/estatectl" matrix -c "$config" -label "$head_label" "$out/head.out" >"$out/matrix.md"
"$tool/estatectl" matrix -c "$config" -label "$head_label" -json "$out/head.out" >"$out/matrix.json"
"$tool/estatectl" diagram -c "$config" "$out/head.out" >"$out/diagram.md"
labels=(-base-label "$base_label" -head-label "$head_label")
"$tool/estatectl" plan -json "${labels[@]}" -base "$out/base.out" -base-config "$base_config" -head "$out/head.out" -head-config "$config" >"$out/plan.json"
set +e
"$tool/estatectl" plan "${labels[@]}" -base "$out/base.out" -base-config "$base_config" -head "$out/head.out" -head-config "$config" ${FAIL_ON:+-fail-on "$FAIL_ON"} >"$out/plan.md"
code=$?
set -e
# One comment that GitHub accepts, written whatever the plan's verdict.
"$tool/estatectl" comment -o "$out/comment.md" -title "Access review of $head_label against $base_label" \
  "$out_name/plan.md" "$out_name/matrix.md" "$out_name/diagram.md"
head -3 "$out/plan.md" | tail -1
echo "comment: $out_name/comment.md ($(wc -c <"$out/comment.md") bytes)"
exit $code
