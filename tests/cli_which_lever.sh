#!/usr/bin/env bash
# cli_which_lever.sh - the README's worked answer ("Which lever matters"):
# scripts/which-lever with N = 16 base samples, checked for structure.
#
#   bash tests/cli_which_lever.sh /path/to/resim      (from the repository root)
#
# The sweep has N x (8 + 2) rows with their matrices, the window's 36 monthly
# Tb shortfall columns and the date columns; the Sobol output has S1 and ST
# with ordered intervals for every key, overall and for every month that
# varies; the PRIM output has a trajectory and, if a box is chosen, limits
# inside the keys' ranges; the three charts are PNG files.
set -u
resim=${1:?usage: bash tests/cli_which_lever.sh /path/to/resim}
case $resim in /*) ;; *) resim=$PWD/$resim ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
[ -x "$py" ] || py=python3

if ! scripts/which-lever --resim "$resim" --points 16 --bootstrap 50 --threads 2 -o "$tmp" \
    >"$tmp/log" 2>&1; then
    echo "FAIL scripts/which-lever:"
    sed 's/^/    /' "$tmp/log"
    exit 1
fi
"$py" - "$tmp" <<'PY'
import csv, os, sys
d = sys.argv[1]
fails = []
def check(name, cond):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        fails.append(name)

keys = ["2026-02.approval.none", "2026-03.approval.watch", "2026-02.delay_mean_days.none",
        "2026-03.delay_mean_days.watch", "2026-03.list.add.control", "2026-03.list.add.watch",
        "alt.lynas_my2_tb.delay_months", "alt.lynas_my2_dy.delay_months"]
ranges = {"2026-02.approval.none": (0.5, 1), "2026-03.approval.watch": (0.1, 0.9),
          "2026-02.delay_mean_days.none": (90, 240), "2026-03.delay_mean_days.watch": (120, 365),
          "2026-03.list.add.control": (0, 40), "2026-03.list.add.watch": (0, 40),
          "alt.lynas_my2_tb.delay_months": (0, 24), "alt.lynas_my2_dy.delay_months": (0, 24)}
months = ["%d-%02d" % (y, m) for y in (2026, 2027, 2028) for m in range(1, 13)]

with open(os.path.join(d, "which-lever.csv")) as f:
    rows = list(csv.reader(f))
head, body = rows[0], rows[1:]
check("sweep: 16 x (8 + 2) rows", len(body) == 160)
check("sweep: point, matrix, then the eight keys", head[:10] == ["point", "matrix"] + keys)
mats = ["A"] + ["AB%d" % i for i in range(1, 9)] + ["B"]
check("sweep: matrices A AB1..AB8 B per base sample",
      [r[1] for r in body] == mats * 16)
series = [c for c in head if c.startswith("Tb_all_shortfall@")]
check("sweep: one Tb shortfall column per month 2026-01..2028-12",
      series == ["Tb_all_shortfall@" + m for m in months] and head[-36:] == series)
check("sweep: date columns", "Tb_control_peak_date" in head and "Tb_control_min_date" in head)
c = head.index("Tb_all_min_date")
check("sweep: dates inside the window", all(r[c] == "" or "2026-01" <= r[c] <= "2028-12" for r in body))
for k in keys:
    lo, hi = ranges[k]
    col = head.index(k)
    if not all(lo <= float(r[col]) <= hi for r in body):
        check("sweep: %s inside its range" % k, False)
# Cumulative shortfall over the window is the sum of the monthly series.
cum = head.index("Tb_all_cum_shortfall")
idx = [head.index(s) for s in series]
check("sweep: Tb_all_cum_shortfall == sum of its 36 months",
      all(abs(float(r[cum]) - sum(float(r[i]) for i in idx)) <= 1e-9 * max(1, float(r[cum])) for r in body))

with open(os.path.join(d, "which-lever-sobol.csv")) as f:
    sob = list(csv.DictReader(f))
scal = [r for r in sob if r["measure"] == "Tb_all_cum_shortfall"]
check("sobol: S1 and ST for each key of Tb_all_cum_shortfall",
      [(r["index"], r["key"]) for r in scal] == [(i, k) for k in keys for i in ("S1", "ST")])
check("sobol: every interval holds lo <= hi",
      all(r["lo"] == "" or float(r["lo"]) <= float(r["hi"]) for r in sob))
check("sobol: the Dy line's Lynas delay does not move Tb (ST 0)",
      all(float(r["value"]) == 0 for r in scal if r["key"] == "alt.lynas_my2_dy.delay_months"))
ts = [r for r in sob if r["measure"] == "Tb_all_shortfall"]
check("sobol: S1 and ST per key for every month of the series",
      sorted(set(r["date"] for r in ts)) == months and len(ts) == 36 * 8 * 2)

with open(os.path.join(d, "which-lever-prim.csv")) as f:
    prim = list(csv.DictReader(f))
check("prim: a peeling trajectory from the whole sweep",
      prim[0]["phase"] == "start" and prim[0]["inside"] == "160" and
      any(r["phase"] == "peel" for r in prim))
box = [r for r in prim if r["phase"] == "box"]
for r in box:
    for k in keys:
        for side in ("lo:", "hi:"):
            v = r[side + k]
            if v != "" and not ranges[k][0] <= float(v) <= ranges[k][1]:
                check("prim: box limit %s%s inside the range" % (side, k), False)
for png in ("which-lever-sobol_Tb_all_cum_shortfall_sobol.png",
            "which-lever-sobol_Tb_all_shortfall_ST_over_time.png", "which-lever-prim_prim.png"):
    p = os.path.join(d, png)
    check("chart " + png, os.path.exists(p) and open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n")
print("%d failed" % len(fails))
sys.exit(1 if fails else 0)
PY
