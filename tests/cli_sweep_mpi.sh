#!/usr/bin/env bash
# cli_sweep_mpi.sh - a sweep under MPI: each rank computes a contiguous block
# of points into its own part (FILE.rank-R-of-N.partial) and rank 0 joins
# the parts in order at the end, so no row passes through rank 0. The output
# must be the one-process bytes for 2 and 3 ranks, with threads and shards,
# after a kill of every rank and a resume (with the same or another rank
# count), and no part may be left behind.
#
#   bash tests/cli_sweep_mpi.sh /path/to/resim      (from the repository root)
set -u
resim=${1:?usage: bash tests/cli_sweep_mpi.sh /path/to/resim}
case $resim in /*) ;; *) resim=$PWD/$resim ;; esac
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v mpirun >/dev/null || ! "$resim" sweep --help | grep -q 'built with MPI: yes'; then
    echo "skip: no mpirun or not an MPI build"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Open MPI leaks a little inside its own libraries at exit; suppress only those.
export LSAN_OPTIONS="suppressions=$here/lsan-mpi.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export OMPI_MCA_rmaps_base_oversubscribe=1
# Open MPI unloads its components before LeakSanitizer runs, so what they keep
# shows as leaks of an unknown module that no suppression can name (even
# `mpirun -n 2 resim sweep --help` reports them): leak checks stay on for the
# one-process runs here and in every other test, off under mpirun.
mpi_asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mpi() { ASAN_OPTIONS=$mpi_asan mpirun --allow-run-as-root --oversubscribe "$@"; }

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
no_parts() { # FILE: no part, partial file or record of inputs left beside it
    ! ls "$1".rank-* "$1".partial "$1".partial.* >/dev/null 2>&1
}

S=scenarios/japan-2026.ini
d=(--set scenario.months=24 --design sobol --points 301 --vary policy.approval.watch=0.2:1
   --vary alt.capacity_factor=0.5:1.5 --vary 2026-02.list.add.control=0:40)
"$resim" sweep "$S" "${d[@]}" -o "$tmp/one.csv" 2>/dev/null
for n in 2 3; do
    mpi -n $n "$resim" sweep "$S" "${d[@]}" -o "$tmp/m$n.csv" >/dev/null 2>"$tmp/err"
    check "mpirun -n $n == one process" cmp "$tmp/one.csv" "$tmp/m$n.csv"
    check "... no part left" no_parts "$tmp/m$n.csv"
done
mpi -n 3 "$resim" sweep "$S" "${d[@]}" --threads 2 -o "$tmp/t.csv" >/dev/null 2>&1
check "mpirun -n 3 --threads 2 == one process" cmp "$tmp/one.csv" "$tmp/t.csv"
"$resim" sweep "$S" "${d[@]}" --shard 2/3 -o "$tmp/s2.csv" 2>/dev/null
mpi -n 2 "$resim" sweep "$S" "${d[@]}" --shard 2/3 -o "$tmp/ms2.csv" >/dev/null 2>&1
check "mpirun -n 2 --shard 2/3 == --shard 2/3" cmp "$tmp/s2.csv" "$tmp/ms2.csv"
# More ranks than points: some blocks are empty.
"$resim" sweep "$S" --set scenario.months=12 --vary policy.approval.watch=0:1:2 -o "$tmp/few1.csv" 2>/dev/null
mpi -n 3 "$resim" sweep "$S" --set scenario.months=12 --vary policy.approval.watch=0:1:2 \
    -o "$tmp/few3.csv" >/dev/null 2>&1
check "mpirun -n 3 over 2 points == one process" cmp "$tmp/few1.csv" "$tmp/few3.csv"
check "the sidecar names 3 ranks" grep -q '"mpi_ranks": 3' "$tmp/few3.csv.json"

# ---------------------------------------------------------------- kill and resume
big=(--set scenario.months=24 --design sobol --points 1200 --vary policy.approval.watch=0.2:1
     --vary alt.capacity_factor=0.5:1.5)
"$resim" sweep "$S" "${big[@]}" -o "$tmp/full.csv" 2>/dev/null
# killed N M: runs mpirun -n N, kills every process of it (found by this
# test's own output path) once every rank has created its part, and leaves
# the parts as a kill would after M rows of each block and a torn row: the
# rows copied from the one-process output (rank r's block of the P points is
# r q + min(r, P mod N) .. with q = P div N).
killed() {
    local n=$1 m=$2 k=0 pid
    rm -f "$tmp/r.csv"*
    ASAN_OPTIONS=$mpi_asan mpirun --allow-run-as-root --oversubscribe -n "$n" "$resim" sweep \
        "$S" "${big[@]}" -o "$tmp/r.csv" >/dev/null 2>&1 &
    pid=$!
    while [ $k -lt 1000 ] && [ "$(ls "$tmp"/r.csv.rank-*-of-"$n".partial 2>/dev/null | wc -l)" -lt "$n" ]; do
        sleep 0.02
        k=$((k + 1))
    done
    for p in /proc/[0-9]*; do
        grep -qaF -- "$tmp/r.csv" "$p/cmdline" 2>/dev/null && kill -KILL "${p#/proc/}" 2>/dev/null
    done
    { wait "$pid"; } 2>/dev/null
    # The ranks' locks go with them: wait until they are gone.
    /usr/bin/python3 - "$tmp"/r.csv.partial "$tmp"/r.csv.rank-*.partial <<'PY'
import fcntl, sys, time
for path in sys.argv[1:]:
    for _ in range(400):
        try:
            with open(path, "r+") as f:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            time.sleep(0.05)
        except OSError:
            break
PY
    [ -e "$tmp/r.csv.partial" ] && [ ! -e "$tmp/r.csv" ] || return 1
    local total q extra r j0
    total=$(($(wc -l <"$tmp/full.csv") - 1))
    q=$((total / n))
    extra=$((total % n))
    for r in $(seq 0 $((n - 1))); do
        j0=$((r * q + (r < extra ? r : extra)))
        { sed -n "$((j0 + 2)),$((j0 + 1 + m))p" "$tmp/full.csv"
          sed -n "$((j0 + 2 + m))p" "$tmp/full.csv" | head -c 25; } >"$tmp/r.csv.rank-$r-of-$n.partial"
    done
}
check "mpirun -n 3 killed: parts left" killed 3 40
mpi -n 3 "$resim" sweep "$S" "${big[@]}" --resume -o "$tmp/r.csv" >/dev/null 2>"$tmp/err" ||
    bad "resume under mpirun -n 3: $(grep -v warning "$tmp/err" | head -3)"
check "killed after 40 rows a rank, resumed by -n 3 == one process" cmp "$tmp/full.csv" "$tmp/r.csv"
check "... no part left" no_parts "$tmp/r.csv"
check "mpirun -n 2 killed: parts left" killed 2 7
mpi -n 3 "$resim" sweep "$S" "${big[@]}" --resume -o "$tmp/r.csv" >/dev/null 2>&1
check "killed under -n 2, resumed by -n 3 == one process" cmp "$tmp/full.csv" "$tmp/r.csv"
check "... no part left" no_parts "$tmp/r.csv"
check "mpirun -n 3 killed again: parts left" killed 3 11
"$resim" sweep "$S" "${big[@]}" --resume -o "$tmp/r.csv" 2>/dev/null
check "killed under -n 3, resumed by one process == one process" cmp "$tmp/full.csv" "$tmp/r.csv"
check "... no part left" no_parts "$tmp/r.csv"
# A part whose rows are not its block's points is refused, naming it.
check "mpirun -n 2 killed again: parts left" killed 2 5
sed -i '1s/^[0-9]*,/999999,/' "$tmp/r.csv.rank-1-of-2.partial"
mpi -n 2 "$resim" sweep "$S" "${big[@]}" --resume -o "$tmp/r.csv" >/dev/null 2>"$tmp/err"
check "a foreign row in a part is refused" test $? -ne 0
check "... the message names the part" grep -q 'rank-1-of-2.partial:1: row is not design point' "$tmp/err"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
