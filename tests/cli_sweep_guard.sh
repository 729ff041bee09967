#!/usr/bin/env bash
# cli_sweep_guard.sh - what keeps a sweep's output from mixing: --resume
# refuses a partial file made with other settings (scenario, data, --set,
# --threshold, --window, --series, design, seed, measures), a second sweep
# to the same output is refused while the first runs (and the first ends
# with its own rows only), and a design with a value outside its key's range
# fails before any point is computed, leaving no partial file.
#
#   bash tests/cli_sweep_guard.sh /path/to/resim      (from the repository root)
set -u
resim=${1:?usage: bash tests/cli_sweep_guard.sh /path/to/resim}
case $resim in /*) ;; *) resim=$PWD/$resim ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

# A copy of a scenario and its data, to edit.
mkdir -p "$tmp/sc" "$tmp/data"
cp data/*.csv "$tmp/data/"
cp scenarios/japan-2026.ini "$tmp/sc/s.ini"
S=$tmp/sc/s.ini
base=(--set scenario.months=36 --design sobol --points 1500 --vary policy.approval.watch=0.2:1
      --vary alt.capacity_factor=0.5:1.5)

# partial OUT args...: starts a sweep, stops it once its partial file holds
# some rows, and kills it: OUT.partial is left as a killed sweep leaves it.
partial() {
    local out=$1
    shift
    rm -f "$out" "$out.partial" "$out.partial.inputs"
    "$resim" sweep "$S" "$@" -o "$out" 2>/dev/null &
    local pid=$! n=0
    while [ "$n" -lt 200 ]; do
        [ "$(cat "$out.partial" 2>/dev/null | wc -l)" -ge 5 ] && break
        sleep 0.05
        n=$((n + 1))
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    [ -e "$out.partial" ] && [ ! -e "$out" ]
}

# ---------------------------------------------------------------- resume checks
check "a killed sweep leaves a partial file" partial "$tmp/p.csv" "${base[@]}"
cp "$tmp/p.csv.partial" "$tmp/keep.partial"
cp "$tmp/p.csv.partial.inputs" "$tmp/keep.inputs"
restore() {
    cp "$tmp/keep.partial" "$tmp/p.csv.partial"
    cp "$tmp/keep.inputs" "$tmp/p.csv.partial.inputs"
}
refuses() { # name args...: resume with other settings is refused and the partial file kept
    local name=$1
    shift
    restore
    expect_exit 1 "resume refuses $name" "$resim" sweep "$S" "$@" --resume -o "$tmp/p.csv"
    grep -q 'other settings' "$tmp/err" || bad "... $name: the message does not say why"
    check "... $name: partial file untouched" cmp "$tmp/keep.partial" "$tmp/p.csv.partial"
}
refuses "another --set" "${base[@]}" --set policy.approval.none=0.9
refuses "another --threshold" "${base[@]}" --threshold 0.8
refuses "another --window" "${base[@]}" --window 2025-03:2027-12
refuses "another --series" "${base[@]}" --series availability:Dy:all
refuses "another seed" "${base[@]/sobol/lhs}" --seed 2
refuses "another --points" "${base[@]/1500/1501}"
refuses "another --warmup" "${base[@]}" --warmup 3
refuses "replicates (other measures)" "${base[@]}" --replicates 2
sed -i 's/^name = .*/name = edited/' "$S"
refuses "an edited scenario" "${base[@]}"
cp scenarios/japan-2026.ini "$S"
awk -F, 'NR == 2 { $0 = $0 " " } { print }' data/importers.csv >"$tmp/data/importers.csv"
sed -i '2s/ $//; 2s/,\([0-9.]*\)$/,\1/' "$tmp/data/importers.csv"
printf '\n' >>"$tmp/data/demand.csv"
refuses "an edited data file" "${base[@]}"
cp data/demand.csv data/importers.csv "$tmp/data/"
restore
rm "$tmp/p.csv.partial.inputs"
expect_exit 1 "resume refuses a partial file without its record of settings" \
    "$resim" sweep "$S" "${base[@]}" --resume -o "$tmp/p.csv"
# The same settings resume (threads are free to differ) to the uninterrupted bytes.
restore
"$resim" sweep "$S" "${base[@]}" --resume --threads 2 -o "$tmp/p.csv" 2>"$tmp/err" ||
    bad "resume with the same settings: $(cat "$tmp/err")"
"$resim" sweep "$S" "${base[@]}" -o "$tmp/full.csv" 2>/dev/null
check "resume with the same settings == uninterrupted" cmp "$tmp/full.csv" "$tmp/p.csv"
check "no record of settings left after the rename" test ! -e "$tmp/p.csv.partial.inputs"
# A torn last row of a killed sweep is cut.
partial "$tmp/t.csv" "${base[@]}"
size=$(stat -c %s "$tmp/t.csv.partial")
truncate -s $((size - 7)) "$tmp/t.csv.partial"
"$resim" sweep "$S" "${base[@]}" --resume -o "$tmp/t.csv" 2>/dev/null
check "resume from a torn partial file" cmp "$tmp/full.csv" "$tmp/t.csv"

# ---------------------------------------------------------------- lock
# The first sweep is held still (SIGSTOP) while a second tries the same output.
rm -f "$tmp/l.csv"*
"$resim" sweep "$S" "${base[@]}" -o "$tmp/l.csv" 2>/dev/null &
pid=$!
n=0
while [ "$n" -lt 200 ] && [ "$(cat "$tmp/l.csv.partial" 2>/dev/null | wc -l)" -lt 3 ]; do
    sleep 0.05
    n=$((n + 1))
done
kill -STOP $pid
expect_exit 1 "a second sweep to the same output is refused" \
    "$resim" sweep "$S" "${base[@]/0.2:1/0.3:1}" -o "$tmp/l.csv"
grep -q 'locked' "$tmp/err" || bad "... the message does not say it is locked"
expect_exit 1 "a second sweep resuming the same output is refused" \
    "$resim" sweep "$S" "${base[@]}" --resume -o "$tmp/l.csv"
kill -CONT $pid
wait $pid
check "the first sweep ends well" test $? = 0
check "... with its own rows only" cmp "$tmp/full.csv" "$tmp/l.csv"
# A link planted at FILE.partial is not followed.
ln -s "$tmp/victim" "$tmp/k.csv.partial"
expect_exit 1 "a symbolic link at FILE.partial is refused" \
    "$resim" sweep "$S" --set scenario.months=36 --vary policy.approval.watch=0:1:2 -o "$tmp/k.csv"
check "... and not followed" test ! -e "$tmp/victim"

# ---------------------------------------------------------------- design checked first
o=(--set scenario.months=36 -o "$tmp/e.csv")
expect_exit 1 "a grid's top outside the key's range fails before any point" \
    "$resim" sweep "$S" --vary policy.approval.watch=0:1.5:3 "${o[@]}"
grep -q 'approval.watch = 1.5' "$tmp/err" || bad "... the message does not name key and value"
check "... and leaves no partial file" test ! -e "$tmp/e.csv.partial"
expect_exit 1 "an lhs range below a key's range fails before any point" \
    "$resim" sweep "$S" --design lhs --points 50 --vary policy.approval.watch=0:1 \
    --vary alt.capacity_factor=-1:1 "${o[@]}"
check "... and leaves no partial file" test ! -e "$tmp/e.csv.partial"
expect_exit 1 "a whole-number key at fractional values fails before any point" \
    "$resim" sweep "$S" --design lhs --points 50 --vary scenario.transit_months=1:3 "${o[@]}"
check "... and leaves no partial file" test ! -e "$tmp/e.csv.partial"
printf 'policy.approval.watch,alt.capacity_factor\n0.3,1\n0.4,1\n0.5,1\n1.7,1\n0.6,1\n' >"$tmp/d.csv"
expect_exit 1 "a design file's out-of-range value on line 5 fails before any point" \
    "$resim" sweep "$S" --design "$tmp/d.csv" "${o[@]}"
grep -q 'd.csv:5' "$tmp/err" || bad "... the message does not name the line"
check "... and leaves no partial file" test ! -e "$tmp/e.csv.partial"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
