#!/usr/bin/env bash
# cli_window.sh - ensemble --window FIRST:LAST: the window columns recomputed
# with awk from the raw replicates (the probability that availability falls
# below the threshold in some month of the window, the mean and quantiles of
# the window's lowest availability and cumulative shortfall), the same bytes
# for any thread count or number of passes, and bad windows refused.
#
# Usage: bash tests/cli_window.sh path/to/resim   (from the repository root)
set -u

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
begin_test "$@"

S=scenarios/japan-2026.ini
U=(--set "2026-02.approval.watch=beta(0.4, 8)" --set "2026-02.approval.none=beta(0.5, 8)")
"$bin" run "$S" "${U[@]}" --replicates 40 --by status --threshold 0.92 --window 2026-06:2027-12 \
    --quantiles 0.1,0.5,0.9 -o "$tmp/e.csv" --raw "$tmp/raw.csv" 2>"$tmp/err" || bad "ensemble"
check_cmd grep -q '"window": "2026-06:2027-12"' "$tmp/e.csv.json"
check_cmd grep -q ',prob_availability_below,window_prob_below,window_min_availability_mean,window_min_availability_p10,window_min_availability_p50,window_min_availability_p90,window_cum_shortfall_mean,window_cum_shortfall_p10,window_cum_shortfall_p50,window_cum_shortfall_p90$' \
    <(head -1 "$tmp/e.csv")

# From the raw rows: per replicate, the window's lowest availability and
# cumulative shortfall of ELEMENT/GROUP; then the share below, the means and
# the quantiles (type 7), printed as the summary's columns would be.
from_raw() {
    awk -F, -v el="$1" -v g="$2" -v thr="${thr:-0.92}" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["element"] == el && $c["group"] == g && $c["date"] >= "2026-06" && $c["date"] <= "2027-12" {
            r = $c["replicate"]; a = $c["availability"] + 0
            if (!(r in lo) || a < lo[r]) lo[r] = a; cum[r] += $c["shortfall"]; seen[r] = 1 }
        function q(x, n, p,   h, f) { h = (n - 1) * p; f = int(h); return f + 1 < n ? x[f] + (h - f) * (x[f + 1] - x[f]) : x[f] }
        function sorted(src, dst,   n, k, i, j, t) { n = 0; for (k in src) dst[n++] = src[k]
            for (i = 1; i < n; i++) { t = dst[i]; for (j = i - 1; j >= 0 && dst[j] > t; j--) dst[j + 1] = dst[j]; dst[j + 1] = t }
            return n }
        END { n = sorted(lo, L); sorted(cum, C); below = 0; ml = 0; mc = 0
              for (i = 0; i < n; i++) { below += L[i] < thr; ml += L[i]; mc += C[i] }
              printf "%.12g %.12g %.12g %.12g %.12g %.12g %.12g %.12g %.12g\n", below / n, ml / n,
                  q(L, n, 0.1), q(L, n, 0.5), q(L, n, 0.9), mc / n, q(C, n, 0.1), q(C, n, 0.5), q(C, n, 0.9) }' "$tmp/raw.csv"
}
from_summary() {
    awk -F, -v el="$1" -v g="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["element"] == el && $c["group"] == g { printf "%.12g %.12g %.12g %.12g %.12g %.12g %.12g %.12g %.12g\n",
            $c["window_prob_below"], $c["window_min_availability_mean"], $c["window_min_availability_p10"],
            $c["window_min_availability_p50"], $c["window_min_availability_p90"], $c["window_cum_shortfall_mean"],
            $c["window_cum_shortfall_p10"], $c["window_cum_shortfall_p50"], $c["window_cum_shortfall_p90"] }' "$tmp/e.csv" | sort -u
}
close() { # two lines of 9 numbers, equal within 1e-9 (relative)
    awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); m = split(b, y, " "); if (n != 9 || m != 9) exit 1
        for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-9 * (1 + (x[i] < 0 ? -x[i] : x[i]))) exit 1 } }'
}
for eg in "Dy all" "Dy control" "Tb watch" "Y none"; do
    set -- $eg
    sum=$(from_summary "$1" "$2")
    raw=$(from_raw "$1" "$2")
    check_cmd test "$(wc -l <<<"$sum")" -eq 1 # the same in every month of the element and group
    if close "$sum" "$raw"; then ok "$eg"; else bad "$eg: summary '$sum' vs raw '$raw'"; fi
done
# At the median of the window's lowest Dy availability as threshold, some
# replicates dip below it and some do not: the probability is neither 0
# nor 1, so the comparison with the raw rows can tell them apart.
med=$(from_summary Dy all | cut -d' ' -f4)
"$bin" run "$S" "${U[@]}" --replicates 40 --threshold "$med" --window 2026-06:2027-12 \
    --quantiles 0.1,0.5,0.9 -o "$tmp/m.csv" 2>"$tmp/err" || bad "ensemble at the median"
p=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["element"] == "Dy" && $c["group"] == "all" { print $c["window_prob_below"]; exit }' "$tmp/m.csv")
want=$(thr=$med from_raw Dy all | cut -d' ' -f1)
check_cmd awk -v p="$p" -v w="$want" 'BEGIN { exit !(p > 0 && p < 1 && p == w) }'

# Same bytes for any thread count and for several passes over the months.
"$bin" run "$S" "${U[@]}" --replicates 40 --by status --threshold 0.92 --window 2026-06:2027-12 \
    --quantiles 0.1,0.5,0.9 --threads 2 --memory 1 -o "$tmp/e2.csv" 2>"$tmp/err" || bad "threads"
check_cmd cmp -s "$tmp/e.csv" "$tmp/e2.csv"
check_cmd grep -vq '"passes": 1,' "$tmp/e2.csv.json"

# Without --window the summary has no window columns.
"$bin" run "$S" --replicates 2 -o "$tmp/n.csv" 2>/dev/null
check_cmd test "$(head -1 "$tmp/n.csv" | grep -c window)" -eq 0

# Refused: outside the run, reversed, malformed, without --replicates.
for bad in 2024-12:2026-01 2027-05:2027-01 2027-1:2027-12 2027-01-2027-12; do
    "$bin" run "$S" --replicates 2 --window "$bad" >/dev/null 2>"$tmp/err"
    check_cmd test $? -eq 2
done
"$bin" run "$S" --window 2026-01:2026-12 >/dev/null 2>"$tmp/err"
check_cmd test $? -eq 2

finish cli_window
