#!/usr/bin/env bash
# cli_summary.sh - `resim summary`: its measures recomputed with awk from the
# run CSVs (all importers, the control list, the none and watch groups
# summed), the differences from the first file, --threshold, --csv, and the
# files it refuses.
#
# Usage: bash tests/cli_summary.sh path/to/resim   (from the repository root)
set -u

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
begin_test "$@"

"$bin" run scenarios/japan-2026.ini --by status -o "$tmp/a.csv" 2>/dev/null || bad "run a"
"$bin" run scenarios/japan-2026.ini --by status --set 2026-02.approval.watch=0.2 \
    --set 2026-02.approval.none=0.2 -o "$tmp/b.csv" 2>/dev/null || bad "run b"
"$bin" run scenarios/baseline.ini -o "$tmp/plain.csv" 2>/dev/null || bad "run plain"

"$bin" summary --csv "$tmp/a.csv" "$tmp/b.csv" >"$tmp/s.csv" 2>"$tmp/err"
check_cmd test $? -eq 0
check_cmd test ! -s "$tmp/err"
check_cmd test "$(head -1 "$tmp/s.csv")" = \
    "file,scenario,element,group,min_availability,min_date,cum_shortfall,months_below,diff_min_availability,diff_cum_shortfall,diff_months_below"
# 2 files x 7 elements x 3 groups.
check_cmd test "$(($(wc -l <"$tmp/s.csv") - 1))" -eq 42

# The measures recomputed from the run CSV: availability from the summed
# consumption and demand of the group's rows, the first month of the lowest.
expect() { # FILE ELEMENT GROUP-REGEX LABEL THRESHOLD SUMMARY.csv
    awk -F, -v el="$2" -v gre="$3" -v label="$4" -v thr="$5" -v file="$1" '
        FNR == NR { if (FNR == 1) { for (i = 1; i <= NF; i++) c[$i] = i; next }
            if ($c["element"] == el && $c["group"] ~ ("^(" gre ")$")) {
                m = $c["month"] + 0; d[m] += $c["demand"]; u[m] += $c["shortfall"]
                k[m] += $c["consumption"]; if (m > last) last = m; date[m] = $c["date"] }
            next }
        FNR == 1 { for (i = 1; i <= NF; i++) s[$i] = i; next }
        $s["file"] == file && $s["element"] == el && $s["group"] == label {
            lo = 2; cum = 0; below = 0
            for (m = 0; m <= last; m++) { a = d[m] > 0 ? k[m] / d[m] : 1; cum += u[m]
                if (a < lo) { lo = a; when = date[m] } if (a < thr) below++ }
            if (lo >= 1) when = ""
            dl = lo - $s["min_availability"]; dc = cum - $s["cum_shortfall"]
            if (dl < 0) dl = -dl; if (dc < 0) dc = -dc
            found = 1
            exit !(dl < 1e-9 && dc < 1e-9 * (1 + cum) && when == $s["min_date"] &&
                   below == $s["months_below"]) }
        END { if (!found) exit 1 }' "$1" "$6"
}
for el in Dy Tb Y; do
    check_cmd expect "$tmp/a.csv" $el all all 0.9 "$tmp/s.csv"
    check_cmd expect "$tmp/a.csv" $el control control 0.9 "$tmp/s.csv"
    check_cmd expect "$tmp/a.csv" $el 'none|watch' none+watch 0.9 "$tmp/s.csv"
    check_cmd expect "$tmp/b.csv" $el 'none|watch' none+watch 0.9 "$tmp/s.csv"
done
"$bin" summary --csv --threshold 0.97 "$tmp/a.csv" >"$tmp/s97.csv" 2>"$tmp/err"
check_cmd expect "$tmp/a.csv" Dy all all 0.97 "$tmp/s97.csv"
check_cmd expect "$tmp/a.csv" Dy 'none|watch' none+watch 0.97 "$tmp/s97.csv"
# A higher threshold never counts fewer months.
check_cmd awk -F, -v a="$tmp/a.csv" 'FNR == 1 { next } FNR == NR { n[$3 $4] = $8; next }
    $1 == a && $8 > n[$3 $4] { bad = 1 } $1 == a { seen++ } END { exit bad || seen != 21 }' \
    "$tmp/s97.csv" "$tmp/s.csv"

# Differences: zero for the first file, second minus first for the others;
# lower approvals lower the lowest Dy availability of everyone else.
check_cmd awk -F, -v a="$tmp/a.csv" 'NR == 1 { next } $1 == a && ($9 != 0 || $10 != 0 || $11 != 0) { bad = 1 }
    { key = $3 "," $4 } $1 == a { lo[key] = $5; cu[key] = $7; mb[key] = $8; next }
    { d = $5 - lo[key] - $9; e = $7 - cu[key] - $10; if (d < 0) d = -d; if (e < 0) e = -e
      if (d > 1e-12 || e > 1e-9 || $8 - mb[key] != $11) bad = 1 }
    $3 == "Dy" && $4 == "none+watch" && $9 >= 0 { bad = 1 }
    END { exit bad }' "$tmp/s.csv"

# The text form: one block per file, one line per element and group.
"$bin" summary "$tmp/a.csv" "$tmp/b.csv" >"$tmp/s.txt" 2>"$tmp/err"
check_cmd test "$(grep -c '^Dy ' "$tmp/s.txt")" -eq 6
check_cmd grep -q '^Dy   control list ' "$tmp/s.txt"
check_cmd grep -q '^Dy   everyone else .* pp ' "$tmp/s.txt"
check_cmd grep -q 'months < 90%' "$tmp/s.txt"

# A run without status groups: a note on stderr, the `all` lines only.
"$bin" summary "$tmp/plain.csv" >"$tmp/p.txt" 2>"$tmp/err"
check_cmd test $? -eq 0
check_cmd grep -q "$tmp/plain.csv has no status groups (run it with --by status)" "$tmp/err"
check_cmd test "$(grep -c 'all importers' "$tmp/p.txt")" -eq 7
check_cmd test "$(grep -c 'control list' "$tmp/p.txt")" -eq 0

# Refused: an ensemble summary, a missing file, a bad threshold, no file.
"$bin" run scenarios/japan-2026.ini --replicates 3 -o "$tmp/ens.csv" 2>/dev/null
"$bin" summary "$tmp/ens.csv" >/dev/null 2>"$tmp/err"
check_cmd test $? -eq 1
check_cmd grep -q "^resim: $tmp/ens.csv:1: not a run CSV of resim (no column demand" "$tmp/err"
check_cmd test "$(wc -l <"$tmp/err")" -eq 1
"$bin" summary "$tmp/nothing.csv" >/dev/null 2>"$tmp/err"
check_cmd test $? -eq 1
"$bin" summary --threshold 2 "$tmp/a.csv" >/dev/null 2>"$tmp/err"
check_cmd test $? -eq 2
"$bin" summary >/dev/null 2>"$tmp/err"
check_cmd test $? -eq 2

finish cli_summary
