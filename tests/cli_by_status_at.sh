#!/usr/bin/env bash
# cli_by_status_at.sh - `resim run --by status@YYYY-MM`: the status groups hold
# the importers of that month in every month of the run (their share of the
# demand is constant), the month itself matches `--by status`, the groups sum
# to `all`, and months outside the run or ensembles are refused.
#
# Usage: bash tests/cli_by_status_at.sh path/to/resim   (from the repository root)
set -u

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
begin_test "$@"

# The control list doubles every six months from 2026-02 in this scenario.
S=scenarios/whatif-control-doubles.ini
"$bin" run "$S" --by status@2026-08 -o "$tmp/at.csv" 2>"$tmp/err" || bad "run status@"
"$bin" run "$S" --by status -o "$tmp/now.csv" 2>"$tmp/err" || bad "run status"
check_cmd grep -q '"groups": "status@2026-08"' "$tmp/at.csv.json"
check_cmd test "$(wc -l <"$tmp/at.csv")" -eq "$(wc -l <"$tmp/now.csv")"

# share GROUP FILE: the spread (max - min) over months of the group's share
# of Dy potential demand (demand plus what substitution took off it, which
# only the importers' own shares decide), and its value in 2026-08.
share() {
    awk -F, -v g="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["element"] != "Dy" { next }
        { p = $c["demand"] + $c["substituted"] }
        $c["group"] == "all" { d[$c["month"]] = p }
        $c["group"] == g { s[$c["month"]] = p; date[$c["month"]] = $c["date"] }
        END { lo = 2; hi = -1
              for (m in s) { r = s[m] / d[m]; if (r < lo) lo = r; if (r > hi) hi = r
                             if (date[m] == "2026-08") at = r }
              printf "%.12f %.12f\n", hi - lo, at }' "$2"
}
read -r spread_at share_at <<<"$(share control "$tmp/at.csv")"
read -r spread_now share_now <<<"$(share control "$tmp/now.csv")"
# The same importers in every month: the control list's share stays put.
check_cmd awk -v s="$spread_at" 'BEGIN { exit !(s < 1e-9) }'
# Grouping by the status of each month moves the share (the list grows).
check_cmd awk -v s="$spread_now" 'BEGIN { exit !(s > 0.05) }'
# In 2026-08 itself both groupings agree, row for row.
check_cmd cmp -s <(grep ',2026-08,' "$tmp/at.csv") <(grep ',2026-08,' "$tmp/now.csv")
check_cmd test "$share_at" = "$share_now"
# And the `all` rows never change.
check_cmd cmp -s <(grep ',all,' "$tmp/at.csv") <(grep ',all,' "$tmp/now.csv")
# Groups sum to all (demand, shortfall) in every month.
check_cmd awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { k = $c["month"] "," $c["element"] }
    $c["group"] == "all" { d[k] = $c["demand"]; u[k] = $c["shortfall"]; next }
    { sd[k] += $c["demand"]; su[k] += $c["shortfall"] }
    END { for (k in d) { x = d[k] - sd[k]; y = u[k] - su[k]; if (x < 0) x = -x; if (y < 0) y = -y
          if (x > 1e-9 * (1 + d[k]) || y > 1e-9 * (1 + u[k])) exit 1 } }' "$tmp/at.csv"
# Firms listed by 2026-08 never leave the control line: it has demand in
# all 48 months (by the status of each month it is empty before 2026-02).
positive() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["element"] == "Dy" && $c["group"] == "control" && $c["demand"] > 0 { n++ }
        END { print n + 0 }' "$1"
}
check_cmd test "$(positive "$tmp/at.csv")" -eq 48
check_cmd test "$(positive "$tmp/now.csv")" -lt 48

# Refused: a month outside the run, not a month, with an ensemble.
"$bin" run "$S" --by status@2030-01 >/dev/null 2>"$tmp/err"
check_cmd test $? -eq 2
check_cmd grep -q 'status@2030-01: not a month of the run (2025-01 to 2028-12)' "$tmp/err"
"$bin" run "$S" --by status@2026-13 >/dev/null 2>"$tmp/err"
check_cmd test $? -eq 2
"$bin" run "$S" --by status@2026-08 --replicates 2 >/dev/null 2>"$tmp/err"
check_cmd test $? -eq 2

finish cli_by_status_at
