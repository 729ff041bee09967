#!/usr/bin/env bash
# cli_questions.sh - runs every command of docs/questions.md (its ```sh
# blocks, in order, with build/resim replaced by the binary under test) in a
# scratch folder, and checks what the answers say: relations that hold
# whatever the data (without the stockpile never better than with it; the
# probability over a window at least that of any one month of it), not fixed
# numbers. Charts are drawn when scripts/plot compares several files.
#
# Usage: bash tests/cli_questions.sh path/to/resim   (from the repository root)
set -u

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
begin_test "$@"

# The commands, one per line (continuations joined), numbered by question.
awk '/^## [0-9]\./ { q = $2 + 0 } /^```sh$/ { on = 1; next } /^```$/ { on = 0; next }
     on { line = line $0; if (sub(/\\$/, "", line)) next; print q "\t" line; line = "" }' \
    "$root/docs/questions.md" >"$tmp/commands"
check_cmd test "$(cut -f1 "$tmp/commands" | sort -u | tr '\n' ' ')" = "1 2 3 4 5 6 "
check_cmd test "$(grep -c $'\tbuild/resim ' "$tmp/commands")" -ge 10
# Charts need scripts/plot's comparison of several files.
charts=0
if grep -q 'nargs="+"' "$root/scripts/plot_resim.py" 2>/dev/null; then charts=1; fi

cd "$tmp" || exit 2
for d in scenarios data docs scripts; do ln -s "$root/$d" "$d"; done
mkdir out
while IFS=$'\t' read -r q cmd; do
    case $cmd in
    build/resim\ *) run=("$bin"); eval "args=(${cmd#build/resim })" ;;
    awk\ *) run=(); eval "args=($cmd)" ;;
    scripts/plot\ *)
        if [ $charts -eq 0 ]; then echo "skipped (scripts/plot compares one file): $cmd"; continue; fi
        run=(); eval "args=($cmd)" ;;
    *) bad "question $q: a command this test does not know: $cmd"; continue ;;
    esac
    "${run[@]}" "${args[@]}" >"out/q$q.stdout.tmp" 2>"out/q$q.stderr"
    rc=$?
    # What resim and awk print is the answer; scripts/plot prints chart paths.
    if [ "${#run[@]}" -gt 0 ] || [[ $cmd == awk* ]]; then out=stdout; else out=charts; fi
    cat "out/q$q.stdout.tmp" >>"out/q$q.$out"
    if [ $rc -eq 0 ]; then ok "question $q"; else bad "question $q: exit $rc: $cmd"; sed 's/^/    /' "out/q$q.stderr" | head -3; fi
done <"$tmp/commands"

# A column of a `resim summary --csv` row: FILE ELEMENT GROUP COLUMN.
summary_csv() { "$bin" summary --csv "${@:5}" "$1" >"$tmp/s.csv" 2>/dev/null
    awk -F, -v el="$2" -v g="$3" -v col="$4" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["element"] == el && $c["group"] == g { print $c[col]; exit }' "$tmp/s.csv"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 1e-12) }'; }

# 1. The shortest element; the control list is at least as short of it.
check_cmd test "$(grep -c 'control list' out/q1.stdout)" -eq 7
"$bin" summary --csv out/japan-2026.csv >"$tmp/s1.csv"
short=$(awk -F, 'NR > 1 && $4 == "all" && (lo == "" || $5 < lo) { lo = $5; el = $3 } END { print el }' "$tmp/s1.csv")
check_cmd test -n "$short"
check_cmd le "$(summary_csv out/japan-2026.csv "$short" control min_availability)" \
    "$(summary_csv out/japan-2026.csv "$short" all min_availability)"

# 2. Without the stockpile never better than with it, for every element;
#    30 % watch-list approvals never better than japan-2026 for Dy.
check_cmd grep -q 'change from the first file' out/q2.stdout
for el in Sm Gd Tb Dy Lu Sc Y; do
    check_cmd le "$(summary_csv out/watch30-nostock.csv $el all min_availability)" \
        "$(summary_csv out/watch30.csv $el all min_availability)"
    check_cmd le "$(summary_csv out/watch30.csv $el all cum_shortfall)" \
        "$(summary_csv out/watch30-nostock.csv $el all cum_shortfall)"
done
check_cmd le "$(summary_csv out/japan-2026.csv Dy all cum_shortfall)" \
    "$(summary_csv out/watch30.csv Dy all cum_shortfall)"
check_cmd test -n "$(cmp out/watch30.csv out/japan-2026.csv 2>&1)"

# 3. The answer printed is the first delay with a month below 85 %, and a
#    month below 85 % is a lowest availability below 85 %, point by point.
check_cmd test "$(wc -l <out/q3.stdout)" -eq 1
check_cmd test "$(wc -l <out/lynas-delay.csv)" -eq 26
first=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["Dy_all_min_availability"] < 0.85 { print $c["alt.lynas_my2_dy.delay_months"] + 0; exit }' out/lynas-delay.csv)
if [ -n "$first" ]; then
    check_cmd grep -q "^below 85 % from a delay of $first\(\.0\)\? months$" out/q3.stdout
else
    check_cmd grep -q "^never below 85 % up to 24 months$" out/q3.stdout
fi
check_cmd awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    ($c["Dy_all_months_below"] > 0) != ($c["Dy_all_min_availability"] < 0.85) { exit 1 }' out/lynas-delay.csv

# 4. A probability, at least that of any one month of 2027, and ordered
#    quantiles of the window's lowest availability.
p=$(sed -n 's/^P(Dy below 90 % in some month of 2027) = //p' out/q4.stdout)
check_cmd awk -v p="$p" 'BEGIN { exit !(p != "" && p >= 0 && p <= 1) }'
check_cmd awk -F, -v p="$p" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["element"] == "Dy" && $c["group"] == "all" && $c["date"] ~ /^2027-/ {
        n++; if ($c["prob_availability_below"] > p + 1e-12) bad = 1
        if (!($c["window_min_availability_p05"] <= $c["window_min_availability_p50"] &&
              $c["window_min_availability_p50"] <= $c["window_min_availability_p95"])) bad = 1 }
    END { exit bad || n != 12 }' out/japan-2026-ensemble.csv

# 5. check names the new file for its event and the base for the rest; the
#    stress case is never better for Dy than japan-2026.
check_cmd grep -q 'list.add.control = 40 .*(docs/questions/embargo-2027.ini:11)' out/q5.stdout
check_cmd grep -q 'policy.approval.none .*(docs/questions/../../scenarios/japan-2026.ini:' out/q5.stdout
check_cmd le "$(summary_csv out/japan-2026.csv Dy all cum_shortfall)" \
    "$(summary_csv out/embargo-2027.csv Dy all cum_shortfall)"

# 6. Three blocks, one per file, the later two with their change from the first.
check_cmd test "$(grep -c '^japan-2026 (out/japan-2026.csv)$\|^whatif-approvals-20 (\|^embargo-2027 (' out/q6.stdout)" -eq 3
check_cmd test "$(grep -c 'change from the first file' out/q6.stdout)" -eq 2

if [ $charts -eq 1 ]; then
    for png in out/japan-2026_status_Dy.png out/embargo-2027_status_Dy.png; do
        check_cmd test -s "$png"
    done
    check_cmd test "$(ls out/*.png | wc -l)" -ge 10
fi

finish cli_questions
