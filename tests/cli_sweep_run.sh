#!/usr/bin/env bash
# cli_sweep_run.sh - a sweep row is what `resim run --set` gives for the
# same values: for each point of a small sweep, the run with the point's
# values set on the command line (--by status) is read back, its outcome
# measures are computed here from the monthly rows, and they must equal the
# sweep's columns <El>_<group>_<measure>.
#
# Usage: bash tests/cli_sweep_run.sh path/to/resim   (from the repository root)
set -u
resim=${1:?usage: bash tests/cli_sweep_run.sh path/to/resim}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/resim_sweep_run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
S=scenarios/japan-2026.ini
if ! "$resim" sweep "$S" --vary policy.approval.watch=0.2:0.8:2 \
        --vary 2026-02.list.add.control=10:30:2 --vary stockpile.trigger=0.85:0.95:2 \
        --threshold 0.92 -o "$tmp/sweep.csv" 2>"$tmp/err"; then
    echo "FAIL: the sweep failed:"; cat "$tmp/err"; exit 1
fi
/usr/bin/python3 - "$resim" "$S" "$tmp" <<'PY'
import csv, math, os, subprocess, sys

resim, scenario, tmp = sys.argv[1:4]
THRESHOLD = 0.92
MEASURES = ["cum_shortfall", "peak_shortfall", "peak_month", "min_availability", "min_month",
            "months_below", "first_below", "stock_out", "recovered"]

def measures(rows):
    """The outcome of one (element, group) series, worked out from its rows."""
    cum, peak, peak_m, low, low_m = 0.0, 0.0, -1, 2.0, -1
    below, first, last, stock_out = 0, -1, -1, -1
    for t, r in enumerate(rows):
        u, a = float(r["shortfall"]), float(r["availability"])
        cum += u
        if u > peak:
            peak, peak_m = u, t
        if a < low:
            low, low_m = a, t
        if a < THRESHOLD:
            below += 1
            first = t if first < 0 else first
            last = t
        if stock_out < 0 and float(r["stockpile_release"]) > 0 and float(r["national_stockpile"]) <= 0:
            stock_out = t
    recovered = last + 1 if last >= 0 and last + 1 < len(rows) else -1
    return [cum, peak, peak_m, low, low_m, below, first, stock_out, recovered]

with open(os.path.join(tmp, "sweep.csv"), newline="") as f:
    sweep = list(csv.DictReader(f))
keys = [k for k in sweep[0] if "." in k]
bad = checked = 0
for point in sweep:
    sets = []
    for k in keys:
        sets += ["--set", "%s=%s" % (k, point[k])]
    out = os.path.join(tmp, "run%s.csv" % point["point"])
    subprocess.run([resim, "run", scenario, "--by", "status", "-o", out] + sets, check=True)
    series = {}
    with open(out, newline="") as f:
        for r in csv.DictReader(f):
            series.setdefault((r["element"], r["group"]), []).append(r)
    for (el, group), rows in series.items():
        want = measures(rows)
        for name, w in zip(MEASURES, want):
            col = "%s_%s_%s" % (el, group, name)
            got = point[col]
            checked += 1
            if isinstance(w, int):
                ok = got == ("" if w < 0 else str(w))
            else:
                ok = got != "" and abs(float(got) - w) <= 1e-12 * max(1.0, abs(w))
            if not ok:
                bad += 1
                if bad <= 10:
                    print("FAIL: point %s %s: sweep %r, run gives %r" % (point["point"], col, got, w))
print("%d points, %d measures compared, %d differ" % (len(sweep), checked, bad))
sys.exit(1 if bad or checked == 0 else 0)
PY
