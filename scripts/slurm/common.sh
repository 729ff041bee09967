# common.sh - shared by the Slurm scripts (sourced): finds the checkout and
# the resim binary, and builds the sweep's command line from the environment.
#
# Slurm runs a copy of a batch script from its spool directory, so the
# checkout is found from RESIM_ROOT (submit-sweep sets it), else from the
# script's own path, else from the submit directory.

resim_find_root() {
    local d
    for d in "${RESIM_ROOT:-}" "$(cd "$(dirname "${BASH_SOURCE[1]:-$0}")/../.." 2>/dev/null && pwd)" \
             "${SLURM_SUBMIT_DIR:-}" "$PWD"; do
        if [ -n "$d" ] && [ -f "$d/scripts/slurm/common.sh" ] && [ -f "$d/CMakeLists.txt" ]; then
            RESIM_ROOT=$(cd "$d" && pwd)
            export RESIM_ROOT
            return 0
        fi
    done
    echo "resim slurm: cannot find the resim checkout; set RESIM_ROOT=/path/to/resim" >&2
    return 1
}

# The shard file of task K of N (one name per design split, never reused by
# a split into another number of shards).
resim_shard_file() { printf '%s.shard-%05d-of-%05d.csv' "$OUT" "$1" "$2"; }

# The sweep's arguments: design and keys, then RESIM_ARGS (any resim sweep
# options, split at white space, e.g. "--replicates 50 --threshold 0.8").
resim_sweep_args() {
    args=(sweep "$SCENARIO" --design "${DESIGN:-grid}"
          --threads "${THREADS:-${SLURM_CPUS_PER_TASK:-1}}")
    local v
    set -f
    for v in ${VARY:-}; do args+=(--vary "$v"); done
    for v in ${SETS:-}; do args+=(--set "$v"); done
    [ -n "${POINTS:-}" ] && args+=(--points "$POINTS")
    [ -n "${SEED:-}" ] && args+=(--seed "$SEED")
    for v in ${RESIM_ARGS:-} ${OPTS:-}; do args+=("$v"); done
    set +f
}
