#!/usr/bin/env bash
# resim run --replicates: the same bytes for any thread count, memory budget
# and replicate range; seeds; option errors; sidecar and draws files.
set -u
resim=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if "$@"; then ok; else no "$*"; fi; }

sc=scenarios/japan-2026.ini
common=(--set scenario.months=18 --set "policy.approval.none=beta(0.6, 15)"
        --set "2026-02.list.add.control=uniform(10, 30)" --set stochastic.lot_tonnes=0.5
        --set list_process.add.watch.rate=4 --set list_process.add.watch.batch=2)

run() { "$resim" run "$sc" "${common[@]}" "$@"; }

run --replicates 24 --seed 11 --threads 1 -o "$tmp/t1.csv" --raw "$tmp/r1.csv" 2>"$tmp/err" || no "ensemble run failed: $(cat "$tmp/err")"
run --replicates 24 --seed 11 --threads 2 -o "$tmp/t2.csv" --raw "$tmp/r2.csv" || no "2 threads failed"
run --replicates 24 --seed 11 --threads 3 -o "$tmp/t3.csv" --raw "$tmp/r3.csv" || no "3 threads failed"
check cmp -s "$tmp/t1.csv" "$tmp/t2.csv"
check cmp -s "$tmp/t1.csv" "$tmp/t3.csv"
check cmp -s "$tmp/r1.csv" "$tmp/r2.csv"
check cmp -s "$tmp/r1.csv" "$tmp/r3.csv"
check cmp -s "$tmp/t1.csv.draws.csv" "$tmp/t3.csv.draws.csv"

# A tiny memory budget forces several passes over month blocks: same bytes.
run --replicates 24 --seed 11 --memory 1 --threads 2 -o "$tmp/tm.csv" || no "memory-bounded run failed"
check cmp -s "$tmp/t1.csv" "$tmp/tm.csv"
check grep -q '"passes": 1,' "$tmp/t1.csv.json"

# Replicates 10..23 alone reproduce their rows of the full run.
run --replicates 14 --first-replicate 10 --seed 11 --raw "$tmp/rb.csv" >/dev/null || no "replicate range failed"
awk -F, 'NR == 1 || $2 >= 10' "$tmp/r1.csv" >"$tmp/r1b.csv"
check cmp -s "$tmp/r1b.csv" "$tmp/rb.csv"

# Same seed, same bytes; another seed, other numbers.
run --replicates 24 --seed 11 >"$tmp/s1.csv" && run --replicates 24 --seed 12 >"$tmp/s2.csv"
check cmp -s "$tmp/t1.csv" "$tmp/s1.csv"
if cmp -s "$tmp/s1.csv" "$tmp/s2.csv"; then no "another seed gave the same bytes"; else ok; fi

# Summary columns: mean and every quantile for every metric, then the probability.
header=$(head -1 "$tmp/t1.csv")
check grep -q 'shortfall_mean,shortfall_p05,shortfall_p25,shortfall_p50,shortfall_p75,shortfall_p95' <<<"$header"
check grep -q ',prob_availability_below$' <<<"$header"
run --replicates 4 --quantiles 0.025,0.5,0.975 --threshold 0.8 >"$tmp/q.csv" || no "custom quantiles failed"
check grep -q 'availability_p2.5,availability_p50,availability_p97.5' <(head -1 "$tmp/q.csv")
# Quantiles are ordered in every row (p05 <= p50 <= p95 of availability).
check awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { if ($c["availability_p05"] > $c["availability_p50"] || $c["availability_p50"] > $c["availability_p95"]) exit 1 }' "$tmp/t1.csv"
# Raw rows: 24 replicates x 18 months x 7 elements, plus the header.
check test "$(wc -l <"$tmp/r1.csv")" -eq $((24 * 18 * 7 + 1))
# Drawn levers: one row per replicate, values inside their ranges.
check test "$(wc -l <"$tmp/t1.csv.draws.csv")" -eq 25
check awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { a = $c["policy.approval.none"]; n = $c["2026-02.list.add.control"]
    if (a == "" || n == "" || a < 0 || a > 1 || n < 10 || n > 30) exit 1 }' "$tmp/t1.csv.draws.csv"
check grep -q '"generator": "philox4x32-10' "$tmp/t1.csv.json"

# --summary: each element's lowest availability, central run and the band of
# the replicates' lowest availability (p05 <= median <= p95, all in [0, 100] %),
# the same for any thread count.
run --replicates 24 --seed 11 --threads 1 --summary -o "$tmp/b1.csv" >"$tmp/band1" || no "--summary failed"
run --replicates 24 --seed 11 --threads 2 --summary -o "$tmp/b2.csv" >"$tmp/band2" || no "--summary, 2 threads failed"
check cmp -s "$tmp/band1" "$tmp/band2"
check cmp -s "$tmp/b1.csv" "$tmp/t1.csv"
check grep -q '^element  *central  *p05  *median  *p95$' "$tmp/band1"
check awk '/^(Sm|Gd|Tb|Dy|Lu|Sc|Y) / { n++; for (i = 2; i <= 5; i++) { v[i] = $i + 0; if (v[i] < 0 || v[i] > 100) exit 1 }
  if (!(v[3] <= v[4] && v[4] <= v[5])) exit 1 } END { exit n != 7 }' "$tmp/band1"
# The central column is the single run's lowest availability (its --summary headline).
"$resim" run "$sc" "${common[@]}" --summary -o "$tmp/c.csv" >"$tmp/head" || no "single --summary failed"
check test "$(awk '$1 == "Dy" { print $2 }' "$tmp/band1")" = "$(awk '$1 == "Dy" && $2 == "all" { print $3 }' "$tmp/head")"

# Errors: exit 2 for the command line, 1 for bad values, one line, no files.
expect() {
  local code=$1; shift
  "$resim" run "$sc" "$@" -o "$tmp/bad.csv" 2>"$tmp/err" >/dev/null
  local rc=$?
  if [ "$rc" -ne "$code" ] || [ "$(wc -l <"$tmp/err")" -lt 1 ] || ls "$tmp"/bad.csv* >/dev/null 2>&1; then
    no "expected exit $code for: $* (got $rc: $(cat "$tmp/err"))"
  else ok; fi
}
expect 2 --replicates 0
expect 2 --replicates x
expect 2 --threads 2
expect 2 --replicates 3 --threads 0
expect 2 --replicates 3 --quantiles 0.5,0.2
expect 2 --replicates 3 --quantiles 1.5
expect 2 --replicates 3 --threshold 2
expect 1 --replicates 3 --set "policy.approval.none=beta(1.5, 3)"
expect 1 --replicates 3 --set "policy.approval.none=uniform(2, 3)"
expect 1 --replicates 3 --set "policy.military_ban=uniform(0, 1)"
expect 1 --replicates 3 --set "policy.approval.none=wiggle(1, 2)"
check grep -q 'approval.none' "$tmp/err"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
