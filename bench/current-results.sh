#!/usr/bin/env bash
# The runs behind bench/README.md's "Current results" table for one machine: every run.c comparison
# (decode fp32 and Q8_0, prefill, batched decode, whole process) at 1 and N threads, then memory,
# SAE training and steering. Each script's output (JSON lines, then its table) goes to
# OUT/<script>.txt; the machine is in each file's first JSON line.
#   bash bench/current-results.sh [OUT] [REPEATS]      (defaults: $TMPDIR/tinymorph-bench-<date>, 5)
# Run it on an otherwise idle machine: each script warns when other processes took CPU time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${TMPDIR:-/tmp}/tinymorph-bench-$(date +%Y-%m-%d)}
repeats=${2:-5}
mkdir -p "$out"
npx tsc -p tsconfig.json
run() {
  local name=$1
  shift
  echo "== $name: node $*" >&2
  node "$@" | tee "$out/$name.txt"
}
run decode dist/bench/decode.js --shape all --repeats "$repeats"
run decode-q8 dist/bench/decode.js --shape 110m --weights q8_0 --repeats "$repeats"
run prefill dist/bench/prefill.js --shape all --repeats "$repeats"
run batched-decode dist/bench/batched-decode.js --shape 15m --batches 1,16,64 --repeats "$repeats"
run whole-process dist/bench/whole-process.js --shape all --repeats "$repeats"
run memory dist/bench/memory.js
run sae-train dist/bench/sae-train.js
run steering dist/bench/steering.js --repeats 15 --max-tokens 200
echo "outputs in $out" >&2
