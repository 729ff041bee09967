#!/usr/bin/env bash
# cli_sweep_scale.sh - a shard's memory does not grow with the whole design:
# one shard of a 20-million-point Latin hypercube computes its few points
# with a small resident set (the hypercube is computed point by point, not
# stored), and its rows are those of the same points in other shardings.
#
#   bash tests/cli_sweep_scale.sh /path/to/resim      (from the repository root)
set -u
resim=${1:?usage: bash tests/cli_sweep_scale.sh /path/to/resim}
case $resim in /*) ;; *) resim=$PWD/$resim ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

if [ ! -x /usr/bin/time ]; then
    echo "skip: /usr/bin/time (Debian package time) is missing"
    exit 0
fi
S=scenarios/japan-2026.ini
lhs=(--set scenario.months=12 --design lhs --points 20000000 --seed 11
     --vary policy.approval.watch=0:1 --vary alt.capacity_factor=0.5:1.5)
# 20 million points x 2 keys held in memory would take 640 MB and more; a
# shard of 10 points needs a few MB (the bound leaves room for sanitizers).
/usr/bin/time -f "%M" -o "$tmp/rss" "$resim" sweep "$S" "${lhs[@]}" --shard 7/2000000 \
    -o "$tmp/a.csv" 2>"$tmp/err" || bad "shard 7/2000000: $(tail -1 "$tmp/err")"
rss=$(tail -1 "$tmp/rss")
check "a shard of a 20-million-point lhs: 10 rows" test "$(wc -l <"$tmp/a.csv")" = 11
check "... in at most 200 MB (max RSS ${rss} KB)" test "$rss" -lt 204800
# The same points computed by another sharding have the same values.
"$resim" sweep "$S" "${lhs[@]}" --shard 7/4000000 -o "$tmp/b.csv" 2>/dev/null
check "point 4000006 of shard 7/2000000 == the same point of shard 7/4000000" \
    test "$(sed -n 4p "$tmp/a.csv")" = "$(sed -n 3p "$tmp/b.csv")"
# Values stay inside their ranges.
check "values inside the ranges" awk -F, 'NR > 1 && ($2 < 0 || $2 > 1 || $3 < 0.5 || $3 > 1.5) { exit 1 }' "$tmp/a.csv"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
