#!/usr/bin/env bash
# cli_resolve_limits.sh - values the resolver must cap or refuse rather than
# silently misbehave on: a list move or a random-list batch far above the
# importer count (capped: every importer that can move, moves), a random
# list rate too high for the Poisson sampler, growth or capacities that
# would write inf or NaN, whole numbers written in hexadecimal, and a
# horizon ending after 9999-12.
#
#   bash tests/cli_resolve_limits.sh /path/to/resim      (from the repository root)
set -u
resim=${1:?usage: bash tests/cli_resolve_limits.sh /path/to/resim}
case $resim in /*) ;; *) resim=$PWD/$resim ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
# refused NAME PATTERN args...: `resim run` exits 1 with one error line
# (warnings aside) matching PATTERN, and writes no output.
refused() {
    local name=$1 pat=$2
    shift 2
    rm -f "$tmp/o.csv"
    # A bounded wait: an unbounded Poisson mean once made the sampler run on.
    timeout 120 "$resim" run "$S" "$@" -o "$tmp/o.csv" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    grep -v ': warning: ' "$tmp/err" >"$tmp/errs"
    if [ $rc = 1 ] && [ "$(wc -l <"$tmp/errs")" = 1 ] && grep -q -- "$pat" "$tmp/errs" &&
        [ ! -e "$tmp/o.csv" ]; then
        ok "$name ($(cat "$tmp/errs"))"
    else
        bad "$name: exit $rc: $(head -c 300 "$tmp/errs")"
    fi
}
S=scenarios/japan-2026.ini
run() { "$resim" run "$S" "$@" 2>/dev/null; }

# ---------------------------------------------------------------- list moves capped
run --set 2026-02.list.add.control=1e20 -o "$tmp/a20.csv"
run --set 2026-02.list.add.control=1000000 -o "$tmp/a6.csv"
run --set 2026-02.list.add.control=0 -o "$tmp/a0.csv"
check "list.add.control = 1e20 moves what 1000000 moves (every importer it can)" \
    cmp "$tmp/a20.csv" "$tmp/a6.csv"
if cmp -s "$tmp/a6.csv" "$tmp/a0.csv"; then bad "list.add.control = 1000000 moved nobody"; else
    ok "... which is not nobody"; fi
lp=(--replicates 3 --set scenario.months=24 --set list_process.add.watch.rate=6)
run "${lp[@]}" --set list_process.add.watch.batch=1e20 -o "$tmp/b20.csv"
run "${lp[@]}" --set list_process.add.watch.batch=1000000 -o "$tmp/b6.csv"
run "${lp[@]}" --set list_process.add.watch.batch=0 -o "$tmp/b0.csv"
check "a [list_process] batch of 1e20 moves what 1000000 moves" cmp "$tmp/b20.csv" "$tmp/b6.csv"
if cmp -s "$tmp/b6.csv" "$tmp/b0.csv"; then bad "a batch of 1000000 moved nobody"; else
    ok "... which is not nobody"; fi
refused "a [list_process] rate of 1e12 a year is refused" 'add.watch.rate: 1e12 is above' \
    "${lp[@]}" --set list_process.add.watch.rate=1e12
run "${lp[@]}" --set list_process.add.watch.rate=1000000 --set list_process.add.watch.batch=1 \
    -o "$tmp/r6.csv"
check "... and 1e6 a year, the largest allowed, runs" test -s "$tmp/r6.csv"

# ---------------------------------------------------------------- no inf or NaN
refused "growth 1e300 is refused, naming the key" '\[demand\] growth.Dy = 1e300' \
    --set demand.growth.Dy=1e300
refused "growth 1e300 from an event is refused" '\[2026-03\] growth.Dy = 1e300' \
    --set 2026-03.growth.Dy=1e300
refused "growth just above -1 over a long warm-up is refused" 'growth.Tb' \
    --set demand.growth.Tb=-0.9999999 --warmup 600
refused "a source's growth of 1e300 is refused" 'lynas_my_dy.growth = 1e300' \
    --set alt.lynas_my_dy.growth=1e300
refused "capacity_factor 1e300 is refused" '\[alt\] capacity_factor = 1e300' \
    --set alt.capacity_factor=1e300
refused "base_tpy 1e300 is refused" 'base_tpy.Dy = 1e300' --set demand.base_tpy.Dy=1e300
run --set demand.growth.Dy=2 -o "$tmp/g.csv"
check "growth 2 a year runs, every number finite" \
    awk -F, 'NR > 1 { for (i = 1; i <= NF; i++) if ($i ~ /inf|nan/) exit 1 }' "$tmp/g.csv"

# ---------------------------------------------------------------- whole numbers, dates
refused "months = 0x12 is not 18" 'months: not a whole number: 0x12' --set scenario.months=0x12
refused "months = 1e1 is not 10" 'not a whole number' --set scenario.months=1e1
refused "a hexadecimal number is not a number" 'not a number' --set policy.approval.watch=0x0.8p0
run --set scenario.months=18.0 -o "$tmp/m18.csv"
run --set scenario.months=18 -o "$tmp/m18b.csv"
check "months = 18.0 is 18" cmp "$tmp/m18.csv" "$tmp/m18b.csv"
refused "a horizon past 9999-12 is refused" 'after 9999-12' --set scenario.start=9999-06
run --set scenario.start=9995-01 -o "$tmp/y.csv"
check "a horizon ending 9998-12 runs and writes its years" grep -q '^[^,]*,9998-12,' "$tmp/y.csv"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
