#!/usr/bin/env bash
# cli_sweep_analysis.sh - the sweep designs for analysis (Saltelli, Morris),
# --window, the date columns and --series, as resim analyze reads them.
#
#   bash tests/cli_sweep_analysis.sh /path/to/resim      (from the repository root)
#
# Saltelli and Morris sweeps give the same bytes in one process, as shards
# merged, on threads, under mpirun -n 2 and after a kill and --resume; the
# measures over a window, the dates and the series are checked against
# `resim run --by status` of the same point; analyze refuses the wrong design.
set -u
resim=${1:?usage: bash tests/cli_sweep_analysis.sh /path/to/resim}
case $resim in /*) ;; *) resim=$PWD/$resim ;; esac
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LSAN_OPTIONS="suppressions=$here/lsan-mpi.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export OMPI_MCA_rmaps_base_oversubscribe=1
py=/usr/bin/python3
[ -x "$py" ] || py=python3

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
mpi=0
command -v mpirun >/dev/null && "$resim" sweep --help | grep -q 'built with MPI: yes' && mpi=1

S=scenarios/japan-2026.ini
keys=(--vary 2026-03.approval.watch=0.1:0.9 --vary 2026-03.delay_mean_days.watch=120:365
      --vary 2026-03.list.add.control=0:40)
win=(--window 2026-07:2027-12 --series availability:Tb:control --series shortfall:Dy:all)

# same_bytes NAME ARGS...: one process == shards 1/3..3/3 merged == --threads 3
# == mpirun -n 2, and a sweep killed with SIGKILL then resumed.
same_bytes() {
    local name=$1
    shift
    "$resim" sweep "$S" "$@" -o "$tmp/$name.csv" 2>"$tmp/err" || bad "$name sweep: $(cat "$tmp/err")"
    for k in 1 2 3; do
        "$resim" sweep "$S" "$@" --shard $k/3 -o "$tmp/$name.s$k.csv" 2>/dev/null
    done
    "$resim" merge "$tmp/$name.s2.csv" "$tmp/$name.s3.csv" "$tmp/$name.s1.csv" -o "$tmp/$name.m.csv"
    check "$name: shards 1/3 2/3 3/3 merged == one process" cmp "$tmp/$name.csv" "$tmp/$name.m.csv"
    "$resim" sweep "$S" "$@" --threads 3 -o "$tmp/$name.t.csv" 2>/dev/null
    check "$name: --threads 3 == one process" cmp "$tmp/$name.csv" "$tmp/$name.t.csv"
    if [ $mpi = 1 ]; then
        mpirun --allow-run-as-root --oversubscribe -n 2 "$resim" sweep "$S" "$@" \
            -o "$tmp/$name.mpi.csv" >/dev/null 2>&1
        check "$name: mpirun -n 2 == one process" cmp "$tmp/$name.csv" "$tmp/$name.mpi.csv"
        mpirun --allow-run-as-root --oversubscribe -n 2 "$resim" sweep "$S" "$@" --shard 2/3 \
            --threads 2 -o "$tmp/$name.mpi2.csv" >/dev/null 2>&1
        check "$name: mpirun -n 2 --shard 2/3 --threads 2 == --shard 2/3" \
            cmp "$tmp/$name.s2.csv" "$tmp/$name.mpi2.csv"
    else
        echo "skip mpirun (no mpirun or not an MPI build)"
    fi
    rm -f "$tmp/$name.r.csv"
    "$resim" sweep "$S" "$@" --threads 2 -o "$tmp/$name.r.csv" 2>/dev/null &
    local pid=$!
    sleep "0.$((RANDOM % 5 + 1))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    local rows
    rows=$(cat "$tmp/$name.r.csv.partial" 2>/dev/null | wc -l)
    "$resim" sweep "$S" "$@" --resume -o "$tmp/$name.r.csv" 2>/dev/null
    check "$name: killed at $rows lines and resumed == uninterrupted" cmp "$tmp/$name.csv" "$tmp/$name.r.csv"
}

# ---------------------------------------------------------------- Saltelli
same_bytes saltelli --design saltelli --points 48 "${keys[@]}" "${win[@]}"
check "saltelli: N (k + 2) = 48 x 5 rows" test "$(wc -l <"$tmp/saltelli.csv")" = 241
check "saltelli: header point,matrix,keys" \
    grep -q '^point,matrix,2026-03.approval.watch,2026-03.delay_mean_days.watch,2026-03.list.add.control,Sm_all_cum_shortfall,' \
    "$tmp/saltelli.csv"
check "saltelli: matrices A AB1 AB2 AB3 B per base sample" \
    test "$(sed -n '2,11p' "$tmp/saltelli.csv" | cut -d, -f2 | tr '\n' ' ')" = "A AB1 AB2 AB3 B A AB1 AB2 AB3 B "
check "saltelli: sidecar names the design" grep -q '"method": "saltelli".*"base_samples": 48' "$tmp/saltelli.csv.json"
"$resim" sweep "$S" --set scenario.months=30 --design saltelli --points 3 --second-order \
    --vary 2026-03.approval.watch=0.1:0.9 --vary alt.capacity_factor=0.5:1.5 -o "$tmp/so.csv" 2>/dev/null
check "saltelli --second-order: N (2k + 2) rows with BA matrices" \
    test "$(sed -n '2,7p' "$tmp/so.csv" | cut -d, -f2 | tr '\n' ' ')" = "A AB1 AB2 BA1 BA2 B "

# ---------------------------------------------------------------- Morris
same_bytes morris --design morris --trajectories 12 --levels 6 --seed 3 "${keys[@]}" "${win[@]}"
check "morris: R (k + 1) = 12 x 4 rows" test "$(wc -l <"$tmp/morris.csv")" = 49
check "morris: sidecar names trajectories, levels and delta" \
    grep -q '"method": "morris".*"seed": 3, "trajectories": 12, "levels": 6, "delta": 0.6,' "$tmp/morris.csv.json"
"$resim" sweep "$S" --set scenario.months=24 --design morris --trajectories 2 "${keys[@]}" -o "$tmp/m4.csv" 2>/dev/null
check "morris: --levels defaults to 4 (delta 2/3)" \
    grep -q '"trajectories": 2, "levels": 4, "delta": 0.6666666666666666' "$tmp/m4.csv.json"
check "morris: header point,trajectory,step,keys" \
    grep -q '^point,trajectory,step,2026-03.approval.watch,' "$tmp/morris.csv"
check "morris: each step moves exactly one key" awk -F, '
  NR > 1 { if ($3 > 0) { n = 0; for (i = 4; i <= 6; i++) if ($i != prev[i]) n++; if (n != 1) exit 1 }
           for (i = 4; i <= 6; i++) prev[i] = $i }' "$tmp/morris.csv"
"$resim" sweep "$S" --design morris --trajectories 12 --levels 6 --seed 4 "${keys[@]}" "${win[@]}" \
    -o "$tmp/morris4.csv" 2>/dev/null
if cmp -s "$tmp/morris.csv" "$tmp/morris4.csv"; then bad "morris: --seed 4 gave the bytes of --seed 3"; else ok "morris: --seed changes the trajectories"; fi

# ---------------------------------------------------------------- analyze reads them
"$resim" analyze "$tmp/saltelli.csv" --method sobol --measure Tb_control_cum_shortfall \
    --measure Tb_control_availability --bootstrap 50 -o "$tmp/sobol.csv" 2>"$tmp/err"
check "analyze sobol reads the Saltelli sweep (scalar and series)" \
    test "$(grep -c '^Tb_control_availability,2027-06,S1,' "$tmp/sobol.csv")" = 3
check "analyze sobol: one row per month of the window, S1 and ST per key" \
    test "$(grep -c '^Tb_control_availability,' "$tmp/sobol.csv")" = $((18 * 2 * 3))
"$resim" analyze "$tmp/saltelli.csv" --method sobol --bootstrap 0 -o "$tmp/sobol_all.csv" 2>/dev/null
check "analyze sobol on every measure skips the date columns" test -s "$tmp/sobol_all.csv"
check "... and no date column is a measure" test "$(grep -c '_date,' "$tmp/sobol_all.csv")" = 0
"$resim" analyze "$tmp/morris.csv" --method morris --levels 6 --measure Tb_control_cum_shortfall \
    --bootstrap 50 -o "$tmp/mm.csv" 2>/dev/null
check "analyze morris reads the Morris sweep" test "$(wc -l <"$tmp/mm.csv")" = 4
expect_exit 1 "analyze sobol on a Morris sweep names the design needed" \
    "$resim" analyze "$tmp/morris.csv" --method sobol -o "$tmp/x.csv"
grep -q "design saltelli" "$tmp/err" || bad "sobol error does not name --design saltelli"
expect_exit 1 "analyze morris on a Saltelli sweep names the design needed" \
    "$resim" analyze "$tmp/saltelli.csv" --method morris -o "$tmp/x.csv"
grep -q "design morris" "$tmp/err" || bad "morris error does not name --design morris"
"$resim" sweep "$S" --set scenario.months=24 --vary 2026-03.approval.watch=0.1:0.9:3 -o "$tmp/grid.csv" 2>/dev/null
expect_exit 1 "analyze sobol on a grid names the design needed" \
    "$resim" analyze "$tmp/grid.csv" --method sobol -o "$tmp/x.csv"
expect_exit 1 "analyze refuses a date column as --measure" \
    "$resim" analyze "$tmp/saltelli.csv" --method sobol --measure Tb_all_peak_date -o "$tmp/x.csv"
"$resim" analyze "$tmp/saltelli.csv" --method prim --condition 'Tb_control_min_availability < 0.5' \
    --density 0.5 -o "$tmp/prim.csv" 2>/dev/null
check "analyze prim runs on the Saltelli sweep" grep -q '^0,start,' "$tmp/prim.csv"

# ---------------------------------------------------------------- window, dates, series
# Point 7 of the Saltelli sweep, run alone: the window's measures, dates and
# series must be what the run's monthly rows say.
row=$(sed -n 9p "$tmp/saltelli.csv")
IFS=, read -r _ _ v1 v2 v3 _ <<<"$row"
"$resim" run "$S" --by status --set 2026-03.approval.watch="$v1" \
    --set 2026-03.delay_mean_days.watch="$v2" --set 2026-03.list.add.control="$v3" >"$tmp/run7.csv"
check "window measures, dates and series == resim run of the same point" "$py" - "$tmp/saltelli.csv" "$tmp/run7.csv" <<'PY'
import csv, sys
sw = list(csv.DictReader(open(sys.argv[1])))[7]
run = list(csv.DictReader(open(sys.argv[2])))
months = ["%d-%02d" % (y, m) for y in (2026, 2027) for m in range(1, 13)][6:]
bad = []
def rows(el, g):
    return [r for r in run if r["element"] == el and r["group"] == g and r["date"] in months]
for el, g in [(e, g) for e in ("Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y")
              for g in ("all", "none", "watch", "control")]:
    rs = rows(el, g)
    assert len(rs) == 18, len(rs)
    p = "%s_%s_" % (el, g)
    cum = sum(float(r["shortfall"]) for r in rs)
    if abs(cum - float(sw[p + "cum_shortfall"])) > 1e-9 * max(1, cum):
        bad.append((p + "cum_shortfall", cum, sw[p + "cum_shortfall"]))
    av = [float(r["availability"]) for r in rs]
    lo = min(av)
    if abs(lo - float(sw[p + "min_availability"])) > 1e-12:
        bad.append((p + "min_availability", lo, sw[p + "min_availability"]))
    first = rs[av.index(lo)]
    if sw[p + "min_month"] != first["month"] or sw[p + "min_date"] != first["date"]:
        bad.append((p + "min_month/date", first["month"], first["date"], sw[p + "min_month"], sw[p + "min_date"]))
    below = [r for r, a in zip(rs, av) if a < 0.9]
    if int(sw[p + "months_below"]) != len(below):
        bad.append((p + "months_below", len(below), sw[p + "months_below"]))
    want = below[0]["date"] if below else ""
    if sw[p + "first_below_date"] != want:
        bad.append((p + "first_below_date", want, sw[p + "first_below_date"]))
for el, g, col in (("Tb", "control", "availability"), ("Dy", "all", "shortfall")):
    for r in rows(el, g):
        name = "%s_%s_%s@%s" % (el, g, col, r["date"])
        if float(sw[name]) != float(r[col]):
            bad.append((name, r[col], sw[name]))
series = [c for c in sw if "@" in c]
if len(series) != 36 or any(c.split("@")[1] not in months for c in series):
    bad.append(("series columns", len(series)))
# Month numbers count from the scenario's start (2025-01), whatever the window.
if sw["Tb_control_min_month"] and int(sw["Tb_control_min_month"]) < 18:
    bad.append(("min_month before the window", sw["Tb_control_min_month"]))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
# Without --window the measures cover the whole horizon and the date of a
# month is the start plus the month.
check "dates are the scenario start plus the month number" awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { m = $c["Dy_all_min_month"]; d = $c["Dy_all_min_date"]
    if (sprintf("%04d-%02d", 2025 + int(m / 12), m % 12 + 1) != d) exit 1
    m = $c["Tb_control_peak_month"]; d = $c["Tb_control_peak_date"]
    if ((m == "") != (d == "")) exit 1 }' "$tmp/grid.csv"
"$resim" sweep "$S" --set scenario.months=24 --vary 2026-03.approval.watch=0.1:0.9:3 \
    --window 2025-01:2026-12 -o "$tmp/gridw.csv" 2>/dev/null
check "a window over the whole horizon gives the same bytes as none" cmp "$tmp/grid.csv" "$tmp/gridw.csv"
"$resim" sweep "$S" --set scenario.months=24 --vary 2026-03.approval.watch=0.1:0.9:3 \
    --window 2025-01:2026-06 -o "$tmp/gridw2.csv" 2>/dev/null
if cmp -s "$tmp/grid.csv" "$tmp/gridw2.csv"; then bad "a shorter window changed nothing"; else ok "a shorter window changes the measures"; fi
check "sidecar records the window" grep -q '"window": {"from": "2025-01", "to": "2026-06", "first_month": 0, "last_month": 17, "given": true}' "$tmp/gridw2.csv.json"

# ---------------------------------------------------------------- bad options
o=(-o "$tmp/e.csv")
v=(--vary 2026-03.approval.watch=0.1:0.9)
expect_exit 2 "saltelli without --points" "$resim" sweep "$S" --design saltelli "${v[@]}" "${o[@]}"
expect_exit 2 "saltelli with 1 base sample" "$resim" sweep "$S" --design saltelli --points 1 "${v[@]}" "${o[@]}"
expect_exit 2 "saltelli with grid levels" "$resim" sweep "$S" --design saltelli --points 4 \
    --vary 2026-03.approval.watch=0.1:0.9:3 "${o[@]}"
expect_exit 2 "morris without --trajectories" "$resim" sweep "$S" --design morris "${v[@]}" "${o[@]}"
expect_exit 2 "morris with --points" "$resim" sweep "$S" --design morris --trajectories 2 --points 4 "${v[@]}" "${o[@]}"
expect_exit 2 "morris with odd --levels" "$resim" sweep "$S" --design morris --trajectories 2 --levels 5 "${v[@]}" "${o[@]}"
expect_exit 2 "--trajectories with lhs" "$resim" sweep "$S" --design lhs --points 4 --trajectories 2 "${v[@]}" "${o[@]}"
expect_exit 2 "--second-order with sobol" "$resim" sweep "$S" --design sobol --points 4 --second-order "${v[@]}" "${o[@]}"
expect_exit 2 "--window malformed" "$resim" sweep "$S" "${v[@]}" --window 2026-01 "${o[@]}"
expect_exit 2 "--window reversed" "$resim" sweep "$S" "${v[@]}" --window 2027-01:2026-01 "${o[@]}"
expect_exit 2 "--window outside the horizon" "$resim" sweep "$S" "${v[@]}" --window 2024-06:2026-01 "${o[@]}"
expect_exit 2 "--series unknown column" "$resim" sweep "$S" "${v[@]}" --series nosuch:Tb:all "${o[@]}"
expect_exit 2 "--series unknown element" "$resim" sweep "$S" "${v[@]}" --series availability:Xx:all "${o[@]}"
expect_exit 2 "--series unknown group" "$resim" sweep "$S" "${v[@]}" --series availability:Tb:some "${o[@]}"
expect_exit 2 "--series malformed" "$resim" sweep "$S" "${v[@]}" --series availability:Tb "${o[@]}"
expect_exit 1 "a point whose horizon ends before the window" "$resim" sweep "$S" \
    --vary scenario.months=12:48:2 --window 2026-01:2026-12 "${o[@]}"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
