#!/usr/bin/env bash
# cli_sweep.sh - resim sweep and resim merge from the command line.
#
#   bash tests/cli_sweep.sh /path/to/resim      (from the repository root)
#
# One process, shards 1/3 2/3 3/3 merged, --threads 2 and mpirun -n 2 must
# give the same bytes; merge refuses overlaps and gaps; a sweep killed with
# SIGKILL at a random moment and resumed gives the uninterrupted bytes; bad
# --vary, design files and shard specs are refused with the right exit code.
set -u
resim=${1:?usage: bash tests/cli_sweep.sh /path/to/resim}
case $resim in /*) ;; *) resim=$PWD/$resim ;; esac
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Open MPI leaks a little inside its own libraries at exit; suppress only those.
export LSAN_OPTIONS="suppressions=$here/lsan-mpi.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export OMPI_MCA_rmaps_base_oversubscribe=1

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

S=scenarios/japan-2026.ini
short=(--set scenario.months=24)
vary=(--vary policy.approval.watch=0.2:1:3 --vary 2026-02.list.add.control=0:40:3
      --vary alt.capacity_factor=0.5:1.5:2)

# ---------------------------------------------------------------- same bytes
"$resim" sweep "$S" "${short[@]}" "${vary[@]}" -o "$tmp/one.csv" 2>/dev/null
check "one process writes 18 points" test "$(wc -l <"$tmp/one.csv")" = 19
check "sidecar written" grep -q '"kind": "sweep"' "$tmp/one.csv.json"
check "no partial file left" test ! -e "$tmp/one.csv.partial"
check "header names the measures" grep -q '^point,policy.approval.watch,2026-02.list.add.control,alt.capacity_factor,Sm_all_cum_shortfall,' "$tmp/one.csv"
check "grid: last key fastest" test "$(sed -n '2,3p' "$tmp/one.csv" | cut -d, -f1-4 | tr '\n' ' ')" = "0,0.2,0.0,0.5 1,0.2,0.0,1.5 "

for k in 1 2 3; do
    "$resim" sweep "$S" "${short[@]}" "${vary[@]}" --shard $k/3 -o "$tmp/s$k.csv" 2>/dev/null
done
"$resim" merge "$tmp/s3.csv" "$tmp/s1.csv" "$tmp/s2.csv" -o "$tmp/merged.csv"
check "shards 1/3 2/3 3/3 merged == one process" cmp "$tmp/one.csv" "$tmp/merged.csv"

SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_COUNT=3 \
    "$resim" sweep "$S" "${short[@]}" "${vary[@]}" -o "$tmp/slurm2.csv" 2>/dev/null
check "Slurm array task 5 of 4..6 == --shard 2/3" cmp "$tmp/s2.csv" "$tmp/slurm2.csv"

"$resim" sweep "$S" "${short[@]}" "${vary[@]}" --threads 2 -o "$tmp/t2.csv" 2>/dev/null
check "--threads 2 == one process" cmp "$tmp/one.csv" "$tmp/t2.csv"
"$resim" sweep "$S" "${short[@]}" "${vary[@]}" --threads 5 -o "$tmp/t5.csv" 2>/dev/null
check "--threads 5 == one process" cmp "$tmp/one.csv" "$tmp/t5.csv"

if command -v mpirun >/dev/null && "$resim" sweep --help | grep -q 'built with MPI: yes'; then
    mpirun --allow-run-as-root --oversubscribe -n 2 "$resim" sweep "$S" "${short[@]}" "${vary[@]}" \
        -o "$tmp/mpi.csv" >/dev/null 2>"$tmp/mpi.err"
    check "mpirun -n 2 == one process" cmp "$tmp/one.csv" "$tmp/mpi.csv"
    mpirun --allow-run-as-root --oversubscribe -n 2 "$resim" sweep "$S" "${short[@]}" "${vary[@]}" \
        --shard 2/3 --threads 2 -o "$tmp/mpi2.csv" >/dev/null 2>>"$tmp/mpi.err"
    check "mpirun -n 2 --shard 2/3 --threads 2 == --shard 2/3" cmp "$tmp/s2.csv" "$tmp/mpi2.csv"
else
    echo "skip mpirun (no mpirun or not an MPI build)"
fi

# ---------------------------------------------------------------- merge refuses
expect_exit 1 "merge refuses overlapping shards" \
    "$resim" merge "$tmp/s1.csv" "$tmp/s2.csv" "$tmp/s2.csv" "$tmp/s3.csv" -o "$tmp/m.csv"
expect_exit 1 "merge refuses a missing shard" \
    "$resim" merge "$tmp/s1.csv" "$tmp/s3.csv" -o "$tmp/m.csv"
head -n 10 "$tmp/one.csv" >"$tmp/head.csv"
cp "$tmp/one.csv.json" "$tmp/head.csv.json"
expect_exit 1 "merge refuses missing points at the end (total from the sidecar)" \
    "$resim" merge "$tmp/head.csv" -o "$tmp/m.csv"
"$resim" sweep "$S" "${short[@]}" --vary policy.approval.watch=0.2:1:3 --shard 3/3 \
    -o "$tmp/other.csv" 2>/dev/null
expect_exit 1 "merge refuses mismatched headers" \
    "$resim" merge "$tmp/s1.csv" "$tmp/s2.csv" "$tmp/other.csv" -o "$tmp/m.csv"
check "a refused merge leaves no output" test ! -e "$tmp/m.csv"
expect_exit 1 "merge: missing file" "$resim" merge "$tmp/nope.csv" -o "$tmp/m.csv"
expect_exit 2 "merge without -o" "$resim" merge "$tmp/s1.csv"

# ---------------------------------------------------------------- designs
lhs=(--design lhs --points 40 --seed 7 --vary policy.approval.watch=0.1:0.9
     --vary alt.capacity_factor=0.5:1.5)
"$resim" sweep "$S" "${short[@]}" "${lhs[@]}" -o "$tmp/lhs1.csv" 2>/dev/null
"$resim" sweep "$S" "${short[@]}" "${lhs[@]}" --threads 3 -o "$tmp/lhs2.csv" 2>/dev/null
check "lhs: same seed, same bytes across threads" cmp "$tmp/lhs1.csv" "$tmp/lhs2.csv"
check "lhs: 40 points" test "$(wc -l <"$tmp/lhs1.csv")" = 41
"$resim" sweep "$S" "${short[@]}" --design sobol --points 16 --vary policy.approval.watch=0:1 \
    --vary alt.capacity_factor=0:2 -o "$tmp/sobol.csv" 2>/dev/null
check "sobol: first point is the centre" test "$(sed -n 2p "$tmp/sobol.csv" | cut -d, -f1-3)" = "0,0.5,1.0"

# A SALib-style sample (pandas index column unnamed) works as is.
printf ',policy.approval.watch,2026-02.list.add.control\n0,0.25,10\n1,0.5,20\n2,0.75,30\n' >"$tmp/salib.csv"
"$resim" sweep "$S" "${short[@]}" --design "$tmp/salib.csv" -o "$tmp/salib.out.csv" 2>/dev/null
check "SALib-style design file" test "$(cut -d, -f1-3 "$tmp/salib.out.csv" | tr '\n' ' ')" = \
    "point,policy.approval.watch,2026-02.list.add.control 0,0.25,10 1,0.5,20 2,0.75,30 "
# The same values by grid give the same measures.
"$resim" sweep "$S" "${short[@]}" --vary policy.approval.watch=0.25:0.75:3 \
    --vary 2026-02.list.add.control=10:30:3 -o "$tmp/g9.csv" 2>/dev/null
check "design file row == same grid point" test "$(sed -n 3p "$tmp/salib.out.csv" | cut -d, -f4-)" = \
    "$(sed -n 6p "$tmp/g9.csv" | cut -d, -f4-)"
# EMA Workbench experiments: a point column and bookkeeping columns.
printf 'point,policy.approval.watch,scenario,policy,model\n0,0.3,0,0,m\n1,0.6,1,0,m\n' >"$tmp/ema.csv"
"$resim" sweep "$S" "${short[@]}" --design "$tmp/ema.csv" -o "$tmp/ema.out.csv" 2>/dev/null
check "EMA-style design file" test "$(wc -l <"$tmp/ema.out.csv")" = 3

# ---------------------------------------------------------------- resume after kill -9
big=(--set scenario.months=24 --design sobol --points 400 --vary policy.approval.watch=0.2:1
     --vary alt.capacity_factor=0.5:1.5 --vary 2026-02.list.add.control=0:40)
"$resim" sweep "$S" "${big[@]}" -o "$tmp/full.csv" 2>/dev/null
for round in 1 2 3 4; do
    rm -f "$tmp/r.csv" "$tmp/r.csv.partial"
    "$resim" sweep "$S" "${big[@]}" --threads 2 -o "$tmp/r.csv" 2>/dev/null &
    pid=$!
    sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    rows=$(cat "$tmp/r.csv.partial" 2>/dev/null | wc -l)
    [ -e "$tmp/r.csv" ] && [ ! -e "$tmp/r.csv.partial" ] && rows=done
    "$resim" sweep "$S" "${big[@]}" --resume -o "$tmp/r.csv" 2>/dev/null
    check "resume after kill -9 (round $round, killed at $rows lines) == uninterrupted" \
        cmp "$tmp/full.csv" "$tmp/r.csv"
done
# A partial file without the record of the settings that made it is refused
# (cli_sweep_guard.sh covers torn rows and other settings).
head -c 20000 "$tmp/full.csv" >"$tmp/foreign.csv.partial"
expect_exit 1 "resume refuses a partial file it cannot vouch for" \
    "$resim" sweep "$S" "${big[@]/0.2:1/0.3:1}" --resume -o "$tmp/foreign.csv"

# ---------------------------------------------------------------- bad input
o=(-o "$tmp/e.csv")
expect_exit 2 "--vary without =" "$resim" sweep "$S" --vary policy.approval.watch "${o[@]}"
expect_exit 2 "--vary without :" "$resim" sweep "$S" --vary policy.approval.watch=0.5 "${o[@]}"
expect_exit 2 "--vary LO > HI" "$resim" sweep "$S" --vary policy.approval.watch=1:0 "${o[@]}"
expect_exit 2 "--vary N < 1" "$resim" sweep "$S" --vary policy.approval.watch=0:1:0 "${o[@]}"
expect_exit 2 "--vary non-numeric" "$resim" sweep "$S" --vary policy.approval.watch=a:1 "${o[@]}"
expect_exit 2 "--vary unknown key" "$resim" sweep "$S" --vary policy.no_such_key=0:1 "${o[@]}"
expect_exit 2 "--vary unknown section" "$resim" sweep "$S" --vary nosuch.key=0:1 "${o[@]}"
expect_exit 2 "--vary text key" "$resim" sweep "$S" --vary policy.controlled=0:1 "${o[@]}"
expect_exit 1 "a value the resolver rejects names key and value" \
    "$resim" sweep "$S" --vary policy.approval.watch=0:1.5:3 "${o[@]}"
grep -q 'approval.watch = 1.5 .*rate outside' "$tmp/err" && ok "... it names the key and value" ||
    bad "rejected value message: $(cat "$tmp/err")"
expect_exit 2 "sobol over 40 keys" "$resim" sweep "$S" --design sobol --points 4 \
    $(for k in $(seq 41); do echo --vary policy.approval.watch=0:1; done) "${o[@]}"
expect_exit 2 "lhs without --points" "$resim" sweep "$S" --design lhs --vary policy.approval.watch=0:1 "${o[@]}"
expect_exit 2 "--replicates 0" \
    "$resim" sweep "$S" --vary policy.approval.watch=0:1 --replicates 0 "${o[@]}"
expect_exit 2 "--quantiles decreasing" \
    "$resim" sweep "$S" --vary policy.approval.watch=0:1 --replicates 2 --quantiles 0.9,0.1 "${o[@]}"
expect_exit 2 "no -o" "$resim" sweep "$S" --vary policy.approval.watch=0:1
expect_exit 1 "missing design file" "$resim" sweep "$S" --design "$tmp/none.csv" "${o[@]}"
printf 'policy.approval.watch,policy.nokey\n0.3,1\n' >"$tmp/badkey.csv"
expect_exit 1 "design file with an unknown key" "$resim" sweep "$S" --design "$tmp/badkey.csv" "${o[@]}"
printf 'policy.approval.watch,alt.capacity_factor\n0.3,1\n0.4,x\n' >"$tmp/badcell.csv"
expect_exit 1 "design file with a non-numeric cell" "$resim" sweep "$S" --design "$tmp/badcell.csv" "${o[@]}"
grep -q 'badcell.csv:3: column 2' "$tmp/err" && ok "... it names line 3 and column 2" ||
    bad "non-numeric cell message: $(cat "$tmp/err")"
for spec in 0/3 4/3 1/0 junk 2 1/3x; do
    expect_exit 2 "--shard $spec" "$resim" sweep "$S" --vary policy.approval.watch=0:1 --shard "$spec" "${o[@]}"
done
SLURM_ARRAY_TASK_ID=x SLURM_ARRAY_TASK_COUNT=3 expect_exit 2 "bad SLURM_ARRAY_TASK_ID" \
    "$resim" sweep "$S" --vary policy.approval.watch=0:1 "${o[@]}"

# ---------------------------------------------------------------- replicates
# Each point runs R replicates (the same streams at every point); the row has
# each measure's mean and quantiles. Same bytes however the work is split.
rep=(--set scenario.months=18 --vary 2026-03.approval.watch=0.2:0.8:3 --replicates 6
     --set "policy.approval.none=beta(0.7, 20)" --set stochastic.lot_tonnes=0.5)
"$resim" sweep "$S" "${rep[@]}" -o "$tmp/rep1.csv" 2>"$tmp/err" || bad "replicate sweep: $(cat "$tmp/err")"
"$resim" sweep "$S" "${rep[@]}" --threads 2 -o "$tmp/rep2.csv" 2>/dev/null
check "replicates: --threads 2 == one thread" cmp "$tmp/rep1.csv" "$tmp/rep2.csv"
"$resim" sweep "$S" "${rep[@]}" --shard 1/2 -o "$tmp/repa.csv" 2>/dev/null
"$resim" sweep "$S" "${rep[@]}" --shard 2/2 -o "$tmp/repb.csv" 2>/dev/null
"$resim" merge "$tmp/repa.csv" "$tmp/repb.csv" -o "$tmp/repm.csv" 2>/dev/null
check "replicates: shards merged == one process" cmp "$tmp/rep1.csv" "$tmp/repm.csv"
check "replicates: mean and quantile columns" \
    grep -q '^point,2026-03.approval.watch,Sm_all_cum_shortfall_mean,Sm_all_cum_shortfall_p05,Sm_all_cum_shortfall_p50,Sm_all_cum_shortfall_p95,' "$tmp/rep1.csv"
# The varied key reaches the model: the first and last points' rows differ.
check "replicates: the points' measures differ" \
    test "$(sed -n 2p "$tmp/rep1.csv" | cut -d, -f3-)" != "$(sed -n 4p "$tmp/rep1.csv" | cut -d, -f3-)"
check "replicates: every row as wide as the header" \
    test "$(awk -F, '{print NF}' "$tmp/rep1.csv" | sort -u | wc -l)" = 1
# Quantiles are ordered, and the mean lies between the extreme quantiles.
check "replicates: p05 <= p50 <= p95 for Dy's cumulative shortfall" awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { a = $c["Dy_all_cum_shortfall_p05"]; m = $c["Dy_all_cum_shortfall_p50"]; z = $c["Dy_all_cum_shortfall_p95"]
    if (a > m || m > z) exit 1 }' "$tmp/rep1.csv"
"$resim" sweep "$S" "${rep[@]}" --seed 2 -o "$tmp/rep3.csv" 2>/dev/null
if cmp -s "$tmp/rep1.csv" "$tmp/rep3.csv"; then bad "--seed 2 gave the bytes of --seed 1"; else ok "--seed 2 differs from --seed 1"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
