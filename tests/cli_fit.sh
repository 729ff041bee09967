#!/usr/bin/env bash
# cli_fit.sh - resim fit end to end on tests/fixtures/replay.ini.
#
#   bash tests/cli_fit.sh /path/to/resim      (from the repository root)
#
# Data made by resim itself with known values of four keys is fitted back
# to 1e-6; with noise, the intervals of two keys cover the truth in at least
# 45 of 50 seeded trials; a key with no effect is "not identified"; the same
# seed gives the same bytes; the fitted scenario reproduces the fitted
# series; bad input exits 1 and bad usage 2, each with one line on stderr.
set -u
resim=${1:?usage: bash tests/cli_fit.sh /path/to/resim}
case $resim in /*) ;; *) resim=$PWD/$resim ;; esac
py=/usr/bin/python3
[ -x $py ] || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

S=tests/fixtures/replay.ini
# The truth: four keys away from the scenario's own values.
truth=(scenario.adjust_months=3.1 2010-09.approval.none=0.27 2010-09.delay_mean_days.none=88
       2011-01.approval.none=0.74)
sets=()
for kv in "${truth[@]}"; do sets+=(--set "$kv"); done
free4=(--free scenario.adjust_months=1:6 --free 2010-09.approval.none=0:1
       --free 2010-09.delay_mean_days.none=20:150 --free 2011-01.approval.none=0:1)

# observed CSV from a run CSV: column $2 of the `all` rows, times $3 (default 1).
observed() { # run.csv column [scale]
    $py - "$@" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["group"] == "all"]
scale = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
print("date,value")
for r in rows:
    print("%s,%r" % (r["date"], float(r[sys.argv[2]]) * scale))
EOF
}
# The sidecar's estimates against the truth: every |estimate - truth| <= tol.
recovered() { # sidecar.json tol key=value...
    $py - "$@" <<'EOF'
import json, sys
fit = {f["key"]: f for f in json.load(open(sys.argv[1]))["free"]}
tol = float(sys.argv[2])
worst = 0.0
for kv in sys.argv[3:]:
    k, v = kv.split("=")
    worst = max(worst, abs(fit[k]["estimate"] - float(v)))
print("    largest error %.3g" % worst)
sys.exit(0 if worst <= tol else 1)
EOF
}

"$resim" run "$S" "${sets[@]}" -o "$tmp/truth.csv"
observed "$tmp/truth.csv" china_arrivals >"$tmp/obs.csv"

# ---------------------------------------------------------------- recovery
mkdir -p "$tmp/res"
"$resim" fit "$S" --observed "$tmp/obs.csv" --measure china_arrivals "${free4[@]}" \
    -o "$tmp/res/fitted.ini" >"$tmp/table1" 2>"$tmp/err1"
check "fit exits 0" test $? = 0 -a ! -s "$tmp/err1"
check "four keys recovered to 1e-6 without noise" recovered "$tmp/res/fitted.ini.json" 1e-6 "${truth[@]}"
check "table names every key" test "$(grep -c -E '^(scenario|2010-09|2011-01)\.' "$tmp/table1")" = 4
check "table reports RMSE and model runs" test "$(grep -c -E '^RMSE [0-9.e+-]+ over 30 fitted months|^best of 16 starts \(seed 1\), [0-9]+ model runs$' "$tmp/table1")" = 2
check "table lists the residual of every month" test "$(sed -n '/^residual/,/^RMSE/p' "$tmp/table1" | grep -o -E '20[0-9]{2}-[0-9]{2} +[-+][0-9.e+-]+' | wc -l)" = 30
check "sidecar: kind fit, observed SHA-256" $py -c "
import hashlib, json, sys
d = json.load(open('$tmp/res/fitted.ini.json'))
assert d['kind'] == 'fit'
assert d['observed']['sha256'] == hashlib.sha256(open('$tmp/obs.csv', 'rb').read()).hexdigest()
assert d['model_runs'] > 100 and d['residuals'] == 30 and len(d['free']) == 4
assert all(len(f['profile']['x']) == 21 for f in d['free'])
"
check "series CSV next to the scenario" test "$(head -1 "$tmp/res/fitted.csv")" = "date,observed,fitted,residual,weight"
check "series CSV has every month" test "$(wc -l <"$tmp/res/fitted.csv")" = 31
check "fitted scenario comments name the observed file" test "$(grep -c "^; fitted by resim fit to $tmp/obs.csv" "$tmp/res/fitted.ini")" = 4

# The fitted scenario, run again, gives the fitted series exactly.
"$resim" run "$tmp/res/fitted.ini" -o "$tmp/rerun.csv"
check "fitted scenario reproduces the fitted series" test \
    "$(observed "$tmp/rerun.csv" china_arrivals | tail -n +2 | cut -d, -f2 | $py -c 'import sys; print([float(x) for x in sys.stdin])')" = \
    "$(tail -n +2 "$tmp/res/fitted.csv" | cut -d, -f3 | $py -c 'import sys; print([float(x) for x in sys.stdin])')"

# ---------------------------------------------------------------- same seed, same bytes
"$resim" fit "$S" --observed "$tmp/obs.csv" --measure china_arrivals "${free4[@]}" \
    -o "$tmp/res/again.ini" >"$tmp/table2" 2>/dev/null
check "same seed: same table" cmp -s "$tmp/table1" "$tmp/table2"
check "same seed: same fitted scenario" cmp -s <(tail -n +3 "$tmp/res/fitted.ini") <(tail -n +3 "$tmp/res/again.ini")
check "same seed: same series" cmp -s "$tmp/res/fitted.csv" "$tmp/res/again.csv"
"$resim" fit "$S" --observed "$tmp/obs.csv" --measure china_arrivals "${free4[@]}" \
    --seed 987654321 --fitted-csv "$tmp/seed.csv" >"$tmp/table3" 2>/dev/null
runs() { $py -c "import json, sys; print(json.load(open(sys.argv[1]))['model_runs'])" "$1"; }
check "another seed: other starts (other run counts)" test "$(runs "$tmp/res/fitted.ini.json")" != "$(runs "$tmp/seed.csv.json")"
check "another seed: same estimates" recovered "$tmp/seed.csv.json" 1e-6 "${truth[@]}"
check "--fitted-csv alone writes no scenario" test -s "$tmp/seed.csv" -a ! -e "$tmp/seed.ini"

# ---------------------------------------------------------------- not identified
"$resim" fit "$S" --observed "$tmp/obs.csv" --measure china_arrivals \
    --free 2010-09.approval.none=0:1 --free alt.capacity_factor=0.5:1.5 --starts 4 \
    --fitted-csv "$tmp/ni.csv" >"$tmp/table4" 2>/dev/null
check "a key with no effect: not identified" grep -q -E '^alt\.capacity_factor +[0-9.e+-]+ +not identified' "$tmp/table4"
check "the other key still identified" grep -q -E '^2010-09\.approval\.none +[0-9.e+-]+ +\[' "$tmp/table4"
check "sidecar says identified false" $py -c "
import json
f = {x['key']: x for x in json.load(open('$tmp/ni.csv.json'))['free']}
assert f['alt.capacity_factor']['identified'] is False and f['alt.capacity_factor']['lower'] is None
assert f['2010-09.approval.none']['identified'] is True
"

# ---------------------------------------------------------------- normalise, weights, --set
observed "$tmp/truth.csv" china_arrivals 3.7 >"$tmp/scaled.csv"
"$resim" fit "$S" --observed "$tmp/scaled.csv" --measure china_arrivals:Dy:all "${free4[@]}" \
    --normalise 2010-03 --starts 4 --fitted-csv "$tmp/norm.csv" >/dev/null 2>&1
check "--normalise: observed in other units, keys recovered" recovered "$tmp/norm.csv.json" 1e-6 "${truth[@]}"
check "--normalise: the month itself is not a residual" $py -c "
import json; assert json.load(open('$tmp/norm.csv.json'))['residuals'] == 29"
check "--normalise: both series are 1 in that month" grep -q '^2010-03,1.0,1.0,0.0,1.0$' "$tmp/norm.csv"

# A weight of 0 leaves a month out; --set values go into the fitted scenario.
$py - "$tmp/obs.csv" >"$tmp/weighted.csv" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split()
print(lines[0] + ",weight")
for i, l in enumerate(lines[1:]):
    d, v = l.split(",")
    print("%s,%s,%s" % (d, v if i != 4 else "999", "0" if i == 4 else "1.5"))
EOF
"$resim" fit "$S" --observed "$tmp/weighted.csv" --measure china_arrivals "${free4[@]}" \
    --starts 4 --set policy.delay_cv.watch=0.5 --set 2012-01.approval.watch=0.7 \
    -o "$tmp/w.ini" >"$tmp/wtable" 2>&1
check "weight 0: the month is left out, the rest recovered" recovered "$tmp/w.ini.json" 1e-6 "${truth[@]}"
check "weight 0: marked in the table" grep -q -E '2010-05 +[-+][0-9.e+-]+\*' "$tmp/wtable"
check "weight 0: 29 residuals" $py -c "
import json; assert json.load(open('$tmp/w.ini.json'))['residuals'] == 29"
# With noise, the objective is the weighted sum of squares of the series CSV's residuals.
$py - "$tmp/obs.csv" >"$tmp/wnoisy.csv" <<'EOF'
import random, sys
rng = random.Random(7)
lines = open(sys.argv[1]).read().split()
print(lines[0] + ",weight")
for i, l in enumerate(lines[1:]):
    d, v = l.split(",")
    print("%s,%r,%s" % (d, float(v) + rng.gauss(0, 0.5), [0.25, 1, 4][i % 3]))
EOF
"$resim" fit "$S" --observed "$tmp/wnoisy.csv" --measure china_arrivals "${free4[@]}" \
    --starts 4 --fitted-csv "$tmp/wn.csv" >/dev/null 2>&1
check "weights: sse and RMSE are weighted as documented" $py -c "
import csv, json, math
d = json.load(open('$tmp/wn.csv.json'))
rows = list(csv.DictReader(open('$tmp/wn.csv')))
sse = sum(float(r['weight']) * float(r['residual']) ** 2 for r in rows)
w = sum(float(r['weight']) for r in rows)
assert abs(d['sse'] - sse) < 1e-9 * sse, (d['sse'], sse)
assert abs(d['rmse'] - math.sqrt(sse / w)) < 1e-9 * d['rmse']
assert d['sse'] > 1
"
check "--set carried into the fitted scenario" grep -q -x 'approval.watch = 0.7' "$tmp/w.ini"
check "fitted scenario still valid" "$resim" check "$tmp/w.ini" >/dev/null

# ---------------------------------------------------------------- coverage with noise
# 50 seeded trials of resim's own series plus Gaussian noise (sd 0.4 t); two keys.
cov_truth=(2010-09.approval.none=0.27 2011-01.approval.none=0.74)
$py - "$tmp/obs.csv" "$tmp" <<'EOF'
import random, sys
lines = open(sys.argv[1]).read().split()[1:]
for trial in range(50):
    rng = random.Random(2385 + trial)
    with open("%s/noisy%d.csv" % (sys.argv[2], trial), "w") as f:
        f.write("date,value\n")
        for l in lines:
            d, v = l.split(",")
            f.write("%s,%r\n" % (d, float(v) + rng.gauss(0, 0.4)))
EOF
for trial in $(seq 0 49); do
    "$resim" fit "$S" "${sets[@]:0:2}" "${sets[@]:4:2}" --observed "$tmp/noisy$trial.csv" \
        --measure china_arrivals --free 2010-09.approval.none=0:1 \
        --free 2011-01.approval.none=0:1 --starts 2 --profile-points 11 \
        --fitted-csv "$tmp/cov$trial.csv" >/dev/null 2>&1 || echo "trial $trial failed"
done
check "intervals cover the truth in >= 45 of 50 noisy trials" $py - "$tmp" "${cov_truth[@]}" <<'EOF'
import json, sys
truth = dict(kv.split("=") for kv in sys.argv[2:])
covered = {k: 0 for k in truth}
width = {k: 0.0 for k in truth}
for t in range(50):
    for f in json.load(open("%s/cov%d.csv.json" % (sys.argv[1], t)))["free"]:
        assert f["identified"]
        covered[f["key"]] += f["lower"] <= float(truth[f["key"]]) <= f["upper"]
        width[f["key"]] += (f["upper"] - f["lower"]) / 50
for k in truth:
    print("    %s: %d of 50 covered, mean width %.4f" % (k, covered[k], width[k]))
sys.exit(0 if all(c >= 45 for c in covered.values()) and all(w < 0.2 for w in width.values()) else 1)
EOF

# ---------------------------------------------------------------- bad input: exit 1
fit=("$resim" fit "$S" --observed "$tmp/obs.csv" --measure china_arrivals)
printf 'date,value\n2009-12,1\n2010-01,2\n' >"$tmp/early.csv"
printf 'date,value\n2010-01,1\n2010-02,2\n2010-04,3\n' >"$tmp/gap.csv"
printf 'date,value\n2010-01,1\n2010-02,2\n2010-02,3\n' >"$tmp/dup.csv"
printf 'date,value\n2010-02,1\n2010-01,2\n' >"$tmp/order.csv"
printf 'date,value\n2010-01,1\n2010-2,2\n' >"$tmp/baddate.csv"
printf 'date,value\n2010-01,1\n2010-02,x\n' >"$tmp/badvalue.csv"
printf 'date,value,weight\n2010-01,1,1\n2010-02,2,-1\n' >"$tmp/badweight.csv"
printf 'date,amount\n2010-01,1\n' >"$tmp/nocol.csv"
printf 'date,value\n2010-01,1\n2010-02,2\n' >"$tmp/short.csv"
f1=(--free 2010-09.approval.none=0:1)
expect_exit 1 "date before the horizon" "$resim" fit "$S" --observed "$tmp/early.csv" --measure china_arrivals "${f1[@]}"
expect_exit 1 "observed file with a gap" "$resim" fit "$S" --observed "$tmp/gap.csv" --measure china_arrivals "${f1[@]}"
check "the gap's message names file, line and month" grep -q "gap.csv:4: .*months missing from 2010-03" "$tmp/err"
expect_exit 1 "observed file with a duplicate" "$resim" fit "$S" --observed "$tmp/dup.csv" --measure china_arrivals "${f1[@]}"
expect_exit 1 "observed file out of order" "$resim" fit "$S" --observed "$tmp/order.csv" --measure china_arrivals "${f1[@]}"
expect_exit 1 "observed date malformed" "$resim" fit "$S" --observed "$tmp/baddate.csv" --measure china_arrivals "${f1[@]}"
expect_exit 1 "observed value not a number" "$resim" fit "$S" --observed "$tmp/badvalue.csv" --measure china_arrivals "${f1[@]}"
expect_exit 1 "negative weight" "$resim" fit "$S" --observed "$tmp/badweight.csv" --measure china_arrivals "${f1[@]}"
expect_exit 1 "observed file without value" "$resim" fit "$S" --observed "$tmp/nocol.csv" --measure china_arrivals "${f1[@]}"
expect_exit 1 "observed file missing" "$resim" fit "$S" --observed "$tmp/none.csv" --measure china_arrivals "${f1[@]}"
expect_exit 1 "fewer months than keys + 1" "$resim" fit "$S" --observed "$tmp/short.csv" --measure china_arrivals "${f1[@]}" --free 2011-01.approval.none=0:1
expect_exit 1 "unknown measure column" "${fit[@]/china_arrivals/china_exports}" "${f1[@]}"
expect_exit 1 "unknown measure element" "${fit[@]/china_arrivals/china_arrivals:Dy,Xx}" "${f1[@]}"
expect_exit 1 "measure element not in the scenario" "${fit[@]/china_arrivals/china_arrivals:Tb}" "${f1[@]}"
expect_exit 1 "unknown measure group" "${fit[@]/china_arrivals/china_arrivals:all:military}" "${f1[@]}"
expect_exit 1 "LO >= HI" "${fit[@]}" --free 2010-09.approval.none=0.5:0.5
# Which keys may be free, and their ranges, come from the lever table; the
# message says why a key may not.
expect_exit 1 "bounds outside the key's range" "${fit[@]}" --free 2010-09.approval.none=0:1.5
check "  ... the range is the lever table's [0, 1]" grep -q "valid range \[0, 1\]" "$tmp/err"
expect_exit 1 "unknown key" "${fit[@]}" --free policy.approval.nobody=0:1
check "  ... says unknown key" grep -q "policy.approval.nobody: unknown key" "$tmp/err"
expect_exit 1 "unknown section" "${fit[@]}" --free politics.approval.none=0:1
check "  ... names the section and lists the known ones" grep -q "unknown section \[politics\] (sections: scenario, policy" "$tmp/err"
expect_exit 1 "unknown element in a key" "${fit[@]}" --free demand.base_tpy.Xx=0:10
check "  ... says so" grep -q "unknown element or source" "$tmp/err"
expect_exit 1 "a switch cannot be fitted" "${fit[@]}" --free stockpile.enabled=0:1
check "  ... says it is a switch" grep -q "stockpile.enabled: a switch (0 or 1) cannot be fitted" "$tmp/err"
expect_exit 1 "a list of statuses cannot be fitted" "${fit[@]}" --free stockpile.eligible=0:1
check "  ... says it is not a number" grep -q "stockpile.eligible: not a number" "$tmp/err"
expect_exit 1 "list moves cannot be fitted" "${fit[@]}" --free 2010-09.list.add.control=0:3
check "  ... says they count whole importers" grep -q "count whole importers" "$tmp/err"
expect_exit 1 "[scenario] months cannot be fitted" "${fit[@]}" --free scenario.months=10:20
check "  ... says it takes whole numbers" grep -q "scenario.months: takes whole numbers" "$tmp/err"
expect_exit 1 "a source's start month cannot be fitted" "${fit[@]}" --free alt.src_dy.start=0:3
check "  ... points to delay_months" grep -q "calendar month cannot be fitted (a source's delay_months can)" "$tmp/err"
expect_exit 1 "an event cannot set adjust_months" "${fit[@]}" --free 2010-09.adjust_months=1:3
check "  ... names the section that takes it" grep -q "an event cannot set this key (only \[scenario\] takes it)" "$tmp/err"
expect_exit 1 "[stochastic] keys do nothing in a fit" "${fit[@]}" --free stochastic.lot_tonnes.Dy=1:2
check "  ... says so" grep -q "\[stochastic\] has no effect on a deterministic run" "$tmp/err"
expect_exit 1 "event after the horizon" "${fit[@]}" --free 2030-01.approval.none=0:1
check "  ... says so" grep -q "after the scenario's horizon" "$tmp/err"
expect_exit 1 "--normalise month not observed" "${fit[@]}" "${f1[@]}" --normalise 2013-01
sed 's/^2010-05,.*/2010-05,0/' "$tmp/obs.csv" >"$tmp/zero.csv"
expect_exit 1 "--normalise to an observed 0" "$resim" fit "$S" --observed "$tmp/zero.csv" --measure china_arrivals "${f1[@]}" --normalise 2010-05

# ---------------------------------------------------------------- bad usage: exit 2
expect_exit 2 "no --observed" "$resim" fit "$S" --measure china_arrivals "${f1[@]}"
expect_exit 2 "no --measure" "$resim" fit "$S" --observed "$tmp/obs.csv" "${f1[@]}"
expect_exit 2 "no --free" "${fit[@]}"
expect_exit 2 "--free without bounds" "${fit[@]}" --free 2010-09.approval.none
expect_exit 2 "--free with text bounds" "${fit[@]}" --free 2010-09.approval.none=a:b
expect_exit 2 "--free given twice" "${fit[@]}" "${f1[@]}" "${f1[@]}"
expect_exit 2 "--starts 0" "${fit[@]}" "${f1[@]}" --starts 0
expect_exit 2 "unknown option" "${fit[@]}" "${f1[@]}" --frobnicate
expect_exit 2 "--normalise not a month" "${fit[@]}" "${f1[@]}" --normalise 2010
"$resim" fit --help >"$tmp/help" 2>&1
check "--help exits 0 on stdout" test $? = 0 -a "$(head -c 15 "$tmp/help")" = "usage: resim fi"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
