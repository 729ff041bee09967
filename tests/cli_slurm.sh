#!/usr/bin/env bash
# cli_slurm.sh - the Slurm scripts of scripts/slurm under a fake sbatch/srun.
#
# Usage: bash tests/cli_slurm.sh path/to/resim   (from the repository root)
#
# The fake sbatch copies the batch script to a spool directory (as Slurm
# does), runs array tasks one after another, names logs from --output or
# #SBATCH --output (%A, %a, %j; %a of a job that is not an array is
# 4294967294, as in Slurm) and records each job's dependency. Checked: a
# sweep submitted from another directory with extra resim options gives the
# bytes of one process; logs are named sensibly; the merge job depends with
# afterany and names missing shards; one task resubmitted by its index
# redoes shard K of SHARDS; leftovers of an earlier sweep are refused or
# cleared; the MPI script runs (or says how to build an MPI resim).
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 path/to/resim" >&2
    exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(pwd)
[ -f "$root/scripts/slurm/submit-sweep" ] || { echo "run from the repository root" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/resim_cli_slurm.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { # name command...
    local name=$1
    shift
    if "$@"; then ok "$name"; else no "$name"; fi
}

# ---------------------------------------------------------------- the fake Slurm
mkdir -p "$work/bin" "$work/slurm/spool" "$work/elsewhere"
echo 100 >"$work/slurm/next"
cat >"$work/bin/sbatch" <<'SHIM'
#!/usr/bin/env bash
# A sequential stand-in for sbatch: runs the job (or each array task) now.
set -u
state=${FAKE_SLURM_STATE:?}
parsable=0 array= dep= output= exports=ALL
while [ $# -gt 0 ]; do
    case $1 in
        --parsable) parsable=1 ;;
        --array=*) array=${1#--array=} ;;
        --dependency=*) dep=${1#--dependency=} ;;
        --output=*) output=${1#--output=} ;;
        --export=*) exports=${1#--export=} ;;
        -*) ;;
        *) break ;;
    esac
    shift
done
script=$1
shift
id=$(cat "$state/next")
echo $((id + 1)) >"$state/next"
[ -n "$output" ] || output=$(sed -n 's/^#SBATCH --output=//p' "$script" | head -1)
[ -n "$output" ] || output=slurm-%j.out
cp "$script" "$state/spool/job$id.sh"
envs=()
IFS=, read -ra parts <<<"$exports"
for p in "${parts[@]}"; do
    case $p in ALL | NONE | "") ;; *) envs+=("$p") ;; esac
done
run() { # task-id log
    local t=$1 log=${output//%A/$id}
    log=${log//%j/$((id + ${t:-0}))}
    log=${log//%a/${t:-4294967294}}
    echo "job $id script=$(basename "$script") array=${array:-none} task=${t:-none} dependency=${dep:-none} log=$(basename "$log")" >>"$state/jobs"
    if [ -n "$t" ] && [[ ",${FAKE_SLURM_SKIP:-}," == *",$t,"* ]]; then
        echo "job $id task $t: node failure (not run)" >>"$state/jobs"
        return
    fi
    local extra=(SLURM_JOB_ID=$((id + ${t:-0})) SLURM_SUBMIT_DIR="$PWD")
    if [ -n "$t" ]; then
        extra+=(SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$t SLURM_ARRAY_TASK_COUNT=$count
                SLURM_ARRAY_TASK_MIN=$min SLURM_ARRAY_TASK_MAX=$max)
    fi
    env "${envs[@]}" "${extra[@]}" bash "$state/spool/job$id.sh" "$@" >"$log" 2>&1
    echo "job $id task ${t:-none} exit $?" >>"$state/jobs"
}
if [ -n "$array" ]; then
    tasks=()
    IFS=, read -ra ranges <<<"${array%%\%*}"
    for r in "${ranges[@]}"; do
        if [[ $r == *-* ]]; then tasks+=($(seq "${r%-*}" "${r#*-}")); else tasks+=("$r"); fi
    done
    count=${#tasks[@]} min=${tasks[0]} max=${tasks[-1]}
    for t in "${tasks[@]}"; do run "$t" "$@"; done
else
    run "" "$@"
fi
[ $parsable = 1 ] && echo "$id" || echo "Submitted batch job $id"
SHIM
cat >"$work/bin/srun" <<'SHIM'
#!/usr/bin/env bash
# One rank: drops srun's options and runs the command.
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
exec "$@"
SHIM
chmod +x "$work/bin/sbatch" "$work/bin/srun"
export PATH="$work/bin:$PATH" FAKE_SLURM_STATE="$work/slurm"

# ---------------------------------------------------------------- the sweep
S=$root/tests/fixtures/flat.ini
export SCENARIO=$S VARY="policy.approval.watch=0:1:7 alt.capacity_factor=0.5:1.5:2" RESIM=$bin
export RESIM_ARGS="--set scenario.months=6 --threshold 0.8"
"$bin" sweep "$S" --vary policy.approval.watch=0:1:7 --vary alt.capacity_factor=0.5:1.5:2 \
    --set scenario.months=6 --threshold 0.8 -o "$work/ref.csv" 2>/dev/null

cd "$work/elsewhere"
SHARDS=3 OUT=out/sweep.csv "$root/scripts/slurm/submit-sweep" >"$work/submit.out" 2>&1
check "submit-sweep from another directory: exit 0" test $? = 0
check "array of 3 shards + merge == one process (with RESIM_ARGS)" cmp -s "$work/ref.csv" out/sweep.csv
check "RESIM_ARGS reach resim (threshold in the shard's sidecar)" \
    grep -q '"threshold": 0.8' out/sweep.csv.shard-00002-of-00003.csv.json
check "the jobs ran from a spool copy (the checkout found without the script's path)" \
    test -n "$(ls "$work/slurm/spool")"
check "array logs named JOB_TASK" \
    test "$(ls out/sweep.csv.logs | grep -c '^resim-sweep-[0-9]*_[123]\.log$')" = 3
check "merge log named by its job id" test "$(ls out/sweep.csv.logs | grep -c '^resim-merge-[0-9]*\.log$')" = 1
check "no log named ..._4294967294" test -z "$(grep 4294967294 "$work/slurm/jobs")"
check "the merge job waits with afterany" grep -q 'script=sweep-merge.sbatch .*dependency=afterany:' "$work/slurm/jobs"
check "array indices are shard numbers 1..SHARDS" grep -q 'script=sweep-array.sbatch array=1-3 ' "$work/slurm/jobs"

# Start clean: the same OUT again is refused, or cleared with CLEAN=1.
SHARDS=3 OUT=out/sweep.csv "$root/scripts/slurm/submit-sweep" >"$work/again.out" 2>&1
check "a second sweep to the same OUT is refused (leftover shards)" \
    test $? = 1 -a "$(grep -c 'earlier sweep' "$work/again.out")" = 1
touch out/sweep.csv.shard-00009-of-00012.csv
CLEAN=1 SHARDS=3 OUT=out/sweep.csv "$root/scripts/slurm/submit-sweep" >"$work/clean.out" 2>&1
check "CLEAN=1 clears leftovers and sweeps again" \
    test $? = 0 -a ! -e out/sweep.csv.shard-00009-of-00012.csv
check "CLEAN=1 sweep == one process" cmp -s "$work/ref.csv" out/sweep.csv

# A lost task: the merge names it; resubmitting its index redoes shard 2 of 3.
FAKE_SLURM_SKIP=2 SHARDS=3 OUT=out/lost.csv "$root/scripts/slurm/submit-sweep" >"$work/lost.out" 2>&1
mergelog=$(ls -t out/lost.csv.logs/resim-merge-*.log | head -1)
check "merge after a lost task: no output" test ! -e out/lost.csv
check "merge after a lost task: names the missing shard" grep -q 'missing or unfinished: 2$' "$mergelog"
check "merge after a lost task: the merge job failed" grep -q 'task none exit 1' "$work/slurm/jobs"
sbatch --array=2 --export=ALL,SHARDS=3,OUT="$PWD/out/lost.csv",RESIM_ROOT="$root" \
    "$root/scripts/slurm/sweep-array.sbatch" >/dev/null
check "sbatch --array=2 redoes shard 2 of 3" test -s out/lost.csv.shard-00002-of-00003.csv
check "the redone shard says 2 of 3" grep -q '"k": 2, "n": 3' out/lost.csv.shard-00002-of-00003.csv.json
SHARDS=3 OUT=$PWD/out/lost.csv RESIM_ROOT=$root sbatch "$root/scripts/slurm/sweep-merge.sbatch" >/dev/null
check "merge after the resubmission == one process" cmp -s "$work/ref.csv" out/lost.csv

# Submitted by hand from the checkout without RESIM_ROOT: found from the submit directory.
cd "$root"
SHARDS=2 OUT=$work/hand.csv sbatch --array=1-2 scripts/slurm/sweep-array.sbatch >/dev/null
SHARDS=2 OUT=$work/hand.csv sbatch scripts/slurm/sweep-merge.sbatch >/dev/null
check "by hand from the checkout, RESIM_ROOT unset: merged == one process" cmp -s "$work/ref.csv" "$work/hand.csv"
rm -f resim-sweep-*_[12].log resim-merge-*.log
cd "$work/elsewhere"
SHARDS=2 OUT=$work/lost2.csv sbatch --array=1 "$root/scripts/slurm/sweep-array.sbatch" >/dev/null
log=$(ls -t resim-sweep-*_1.log | head -1)
check "from elsewhere without RESIM_ROOT: one clear line" grep -q 'set RESIM_ROOT' "$log"

# ---------------------------------------------------------------- MPI
if "$bin" sweep --help | grep -q 'built with MPI: yes'; then
    OUT=$work/mpi.csv RESIM_ROOT=$root sbatch "$root/scripts/slurm/sweep-mpi.sbatch" >/dev/null
    check "sweep-mpi.sbatch (one rank under srun) == one process" cmp -s "$work/ref.csv" "$work/mpi.csv"
else
    OUT=$work/mpi.csv RESIM_ROOT=$root sbatch --output="$work/mpi.log" "$root/scripts/slurm/sweep-mpi.sbatch" >/dev/null
    check "sweep-mpi.sbatch without an MPI resim says how to build one" grep -q 'scripts/build-mpi' "$work/mpi.log"
fi

echo "cli_slurm: $pass passed, $fail failed"
[ $fail -eq 0 ]
