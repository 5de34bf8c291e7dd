#!/bin/sh
# Every benchmark once, one after another (they must not overlap: 2 cores), output into DIR.
# Usage: sh bench/run_all.sh [DIR]   (~10 min on 2 cores)
set -u
out=${1:-/tmp/bench-results}
mkdir -p "$out"
cd "$(dirname "$0")/.."
python -m bench.relay_overhead > "$out/relay_overhead.txt" 2>&1
python -m bench.v1_overhead > "$out/v1_overhead.txt" 2>&1
python -m bench.sdk_costs > "$out/sdk_costs.txt" 2>&1
python -m bench.memory > "$out/memory.txt" 2>&1
python -m bench.startup > "$out/startup.txt" 2>&1
python -m bench.local_model > "$out/local_model.txt" 2>&1
echo done > "$out/DONE"
