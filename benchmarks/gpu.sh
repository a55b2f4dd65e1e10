#!/usr/bin/env bash
# The GPU benchmark (docs/scale.md): throughput of the paper's shapes and the projected
# GPU-hours of config.yaml's DAG. <= 8 minutes on one GPU; `--tiny` runs tiny shapes on
# a CPU in seconds (tests/test_gpu_path.py) and plans configs/digits.yaml instead.
#   benchmarks/gpu.sh            # on a GPU machine
#   benchmarks/gpu.sh --tiny     # anywhere
# Extra arguments go to benchmarks/bench_gpu.py (e.g. --device cuda:1, --workers 16).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
config=config.yaml
for arg in "$@"; do [[ $arg == --tiny ]] && config=configs/digits.yaml; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The DAG's jobs, from a dry run in an empty directory (nothing exists: every job is listed).
if ! timeout 300 snakemake -n --configfile "$PWD/$config" --cores 1 -d "$work/dag" \
    -s "$PWD/Snakefile" >"$work/dry-run.txt" 2>&1; then
    echo "snakemake -n failed (no projection):" >&2
    tail -5 "$work/dry-run.txt" >&2
    exec python benchmarks/bench_gpu.py --config "$config" "$@"
fi
exec python benchmarks/bench_gpu.py --config "$config" --dry-run "$work/dry-run.txt" "$@"
