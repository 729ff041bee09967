#!/usr/bin/env bash
# cli_inherit.sh - scenarios built on a base file ([scenario] base = ...):
# what a child inherits and overrides (events included), relative paths,
# cycles and missing bases, where `resim check` says each value came from,
# and the misspelled-key, source and list-size hints of `check`.
#
# Usage: bash tests/cli_inherit.sh path/to/resim   (from the repository root)
set -u

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
begin_test "$@"
J=$root/scenarios/japan-2026.ini

# A child in another folder, base given relative to the child: without
# overrides it is the base, byte for byte (the base's data = ../data is
# relative to the base, not to the child).
mkdir -p "$tmp/elsewhere/deeper"
rel=$(realpath --relative-to="$tmp/elsewhere/deeper" "$J")
printf '[scenario]\nbase = %s\n' "$rel" >"$tmp/elsewhere/deeper/same.ini"
"$bin" run "$J" -o "$tmp/base.csv" 2>"$tmp/err" || bad "base run"
"$bin" run "$tmp/elsewhere/deeper/same.ini" -o "$tmp/same.csv" 2>"$tmp/err" || bad "child run"
check_cmd cmp -s "$tmp/base.csv" "$tmp/same.csv"

# An event section in the child replaces keys of the base's month of the
# same name and adds new ones; a new month adds an event: each is the same
# run as the same keys given with --set on the base.
c=$tmp/elsewhere/child.ini
cat >"$c" <<INI
[scenario]
base = $J

[2026-02]
approval.watch = 0.3
approval.control = 0.05

[2027-01]
approval.none = 0.2
source = Nikkei (B)
INI
"$bin" run "$c" -o "$tmp/child.csv" 2>"$tmp/err" || bad "child with events"
"$bin" run "$J" --set 2026-02.approval.watch=0.3 --set 2026-02.approval.control=0.05 \
    --set 2027-01.approval.none=0.2 -o "$tmp/set.csv" 2>"$tmp/err" || bad "base with --set"
check_cmd cmp -s "$tmp/child.csv" "$tmp/set.csv"
check_cmd test -n "$(cmp "$tmp/child.csv" "$tmp/base.csv" 2>&1)"

# The base's other keys of that month stay, from the base's file.
"$bin" check "$c" >"$tmp/check.txt" 2>"$tmp/err" || bad "check child"
"$bin" check "$J" >"$tmp/check-base.txt" 2>"$tmp/err" || bad "check base"
kept=$(grep -E '^  2026-02 ' "$tmp/check-base.txt" | grep -vE ' approval\.(watch|control) = ' |
    sed -E 's/^  2026-02 +month +[0-9]+ +([^ ]+ = [^ ]+) .*/\1/' | head -1)
check_cmd test -n "$kept"
check_cmd grep -qF "$kept" "$tmp/check.txt"
check_cmd grep -q "2026-02 .*${kept%% *} = .*(${J}:" "$tmp/check.txt"
# check names the file and line each value and event came from.
line=$(grep -n 'approval.watch = 0.3' "$c" | cut -d: -f1)
check_cmd grep -q "2026-02 .*approval.watch = 0.3 .*(${c}:${line})" "$tmp/check.txt"
check_cmd grep -q "policy.approval.none .*(${J}:" "$tmp/check.txt"
check_cmd grep -q "stockpile.release_max_tpm.Dy .*(data tables)" "$tmp/check.txt"
check_cmd grep -q "policy.delay_cv.none .*(default)" "$tmp/check.txt"
"$bin" check "$c" --set policy.approval.none=0.7 >"$tmp/check2.txt" 2>"$tmp/err"
check_cmd grep -q "policy.approval.none .*0.7 .*(--set)" "$tmp/check2.txt"
# The child's event source is text, never a distribution ("Nikkei (B)").
check_cmd grep -q "2027-01 .*approval.none = 0.2 .*\[Nikkei (B)\]" "$tmp/check.txt"

# Uncertain keys inherited from the base name the base's file and line.
"$bin" check "$root/scenarios/whatif-lynas-late.ini" >"$tmp/lynas.txt" 2>"$tmp/err"
first=$(grep -n '= triangular(\|= beta(\|= gamma(\|= uniform(\|= lognormal(\|= normal(' "$J" | head -1 | cut -d: -f1)
check_cmd grep -q "(central .*)   (.*scenarios/japan-2026.ini:$first)\$" "$tmp/lynas.txt"
check_cmd test "$(grep -c 'lynas_my2_dy.delay_months = ' "$tmp/lynas.txt")" -eq 0

# Bases chain: a grandchild of japan-2026 changes one more key.
g=$tmp/grand.ini
printf '[scenario]\nbase = elsewhere/child.ini\nname = grand\n\n[stockpile]\nenabled = 0\n' >"$g"
"$bin" run "$g" -o "$tmp/grand.csv" 2>"$tmp/err" || bad "grandchild run"
"$bin" run "$c" --set scenario.name=grand --set stockpile.enabled=0 -o "$tmp/grand-set.csv" \
    2>"$tmp/err" || bad "child with --set"
check_cmd cmp -s "$tmp/grand.csv" "$tmp/grand-set.csv"

# The sidecar lists every base with its SHA-256, deepest first, even a base
# whose keys are all replaced.
"$bin" run "$g" -o "$tmp/g.csv" 2>/dev/null
check_cmd /usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
b = [x["path"] for x in d["bases"]]
assert b == [sys.argv[2], sys.argv[3]], b
assert all(len(x["sha256"]) == 64 for x in d["bases"])' "$tmp/g.csv.json" "$J" "$tmp/elsewhere/child.ini"
printf '[scenario]\nname = only\n' >"$tmp/only-name.ini"
printf '[scenario]\nbase = only-name.ini\nname = over\nstart = 2025-01\nmonths = 2\ndata = %s\n' \
    "$root/data" >"$tmp/over.ini"
"$bin" run "$tmp/over.ini" -o "$tmp/over.csv" 2>/dev/null
check_cmd grep -q "\"bases\": \[\$" "$tmp/over.csv.json"
check_cmd grep -q "{\"path\": \"$tmp/only-name.ini\"" "$tmp/over.csv.json"
"$bin" run "$J" -o "$tmp/plain.csv" 2>/dev/null
check_cmd test "$(grep -c '"bases"' "$tmp/plain.csv.json")" -eq 0
# Ensembles and sweeps copy the entries of a scenario built on a base.
"$bin" run "$c" --replicates 3 -o "$tmp/ce.csv" 2>"$tmp/err"
check_cmd test $? -eq 0
"$bin" sweep "$c" --vary 2026-02.approval.watch=0.2:0.4:2 -o "$tmp/cs.csv" 2>"$tmp/err"
check_cmd test $? -eq 0

# A data folder stated by the child is relative to the child.
mkdir -p "$tmp/own"
cp -r "$root/data" "$tmp/own/tables"
printf '[scenario]\nbase = %s\ndata = tables\n' "$J" >"$tmp/own/own.ini"
"$bin" check "$tmp/own/own.ini" >"$tmp/own.txt" 2>"$tmp/err" || bad "own data"
check_cmd grep -q "^data: $tmp/own/tables " "$tmp/own.txt"

# The shipped what-ifs are a few lines on top of japan-2026 and give the
# same bytes as their answers in tests/golden (plain and --by status).
for w in "$root"/scenarios/whatif-*.ini; do
    name=$(basename "$w" .ini)
    check_cmd grep -q '^base = japan-2026.ini$' "$w"
    check_cmd test "$(grep -cv '^;\|^$' "$w")" -le 20
    "$bin" run "$w" >"$tmp/w.csv" 2>/dev/null
    check_cmd cmp -s "$tmp/w.csv" "$root/tests/golden/$name.csv"
    "$bin" run "$w" --by status >"$tmp/w.csv" 2>/dev/null
    check_cmd cmp -s "$tmp/w.csv" "$root/tests/golden/$name.by-status.csv"
done

# expect_fail NAME FILE LINE PATTERN INI: run and check exit 1 with one line
# naming FILE:LINE: and matching PATTERN.
expect_fail() {
    local name=$1 where=$2 pattern=$3 ini=$4 cmd
    for cmd in run check; do
        "$bin" "$cmd" "$ini" >/dev/null 2>"$tmp/err"
        local rc=$?
        if [ $rc -ne 1 ]; then bad "$name ($cmd): exit $rc, expected 1"
        elif [ "$(wc -l <"$tmp/err")" -ne 1 ]; then bad "$name ($cmd): not one line"
        elif ! grep -qF -- "$where" "$tmp/err"; then bad "$name ($cmd): does not name $where"
        elif ! grep -q -- "$pattern" "$tmp/err"; then bad "$name ($cmd): no '$pattern'"
        else ok "$name"; fi
    done
}
printf '[scenario]\nname = a\nbase = b.ini\n' >"$tmp/a.ini"
printf '; b\n[scenario]\nbase = ./a.ini\n' >"$tmp/b.ini"
expect_fail "cycle" "$tmp/b.ini:3:" "cycle" "$tmp/a.ini"
printf '[scenario]\nbase = self.ini\n' >"$tmp/self.ini"
expect_fail "self base" "$tmp/self.ini:2:" "cycle" "$tmp/self.ini"
printf '[scenario]\n\nbase = nowhere.ini\n' >"$tmp/missing.ini"
expect_fail "missing base" "$tmp/missing.ini:3:" "cannot open" "$tmp/missing.ini"
printf '[scenario]\nbase =\n' >"$tmp/empty.ini"
expect_fail "empty base" "$tmp/empty.ini:2:" "base" "$tmp/empty.ini"
# An error in a base names the base's file and line.
printf '[scenario]\nbase = %s\n\n[policy]\napproval.watch = 2\n' "$J" >"$tmp/badv.ini"
printf '[scenario]\nbase = badv.ini\n' >"$tmp/badc.ini"
expect_fail "bad value in a base" "$tmp/badv.ini:5:" "approval.watch" "$tmp/badc.ini"

# A misspelled key gets the closest key of the table as a hint.
hint() { # NAME INI-LINES... : the last line of the file is the misspelled key
    printf '[scenario]\nbase = %s\n' "$J" >"$tmp/typo.ini"
    printf '%s\n' "${@:3}" >>"$tmp/typo.ini"
    local n
    n=$(wc -l <"$tmp/typo.ini")
    expect_fail "$1" "$tmp/typo.ini:$n:" "did you mean $2?" "$tmp/typo.ini"
}
hint "policy typo" approval.watch '[policy]' 'aproval.watch = 0.5'
hint "event typo" approval.control '[2026-02]' 'source = x' 'approval.controll = 0.5'
hint "event key with section" alt.lynas_my2_dy.delay_months '[2026-02]' 'source = x' \
    'alt.lynas_my2_dy.delay_month = 3'
hint "element key" base_tpy.Dy '[demand]' 'base_tpi.Dy = 300'
printf '[scenario]\nbase = %s\n[policy]\nzzzz = 1\n' "$J" >"$tmp/far.ini"
"$bin" check "$tmp/far.ini" >/dev/null 2>"$tmp/err"
check_cmd grep -q "unknown key\$" "$tmp/err"

# check warns about an event without a source and a list move that asks for
# more importers than the list holds, naming file and line; run warns of the
# move too.
printf '[scenario]\nbase = %s\n\n[2027-03]\nlist.add.control = 5000\n' "$J" >"$tmp/warn.ini"
"$bin" check "$tmp/warn.ini" >/dev/null 2>"$tmp/err" || bad "check with warnings"
check_cmd grep -q "warning: $tmp/warn.ini:5: \[2027-03\] has no source" "$tmp/err"
check_cmd grep -q "warning: $tmp/warn.ini:5: .*list.add.control = 5000: only [0-9]* importers could move" "$tmp/err"
check_cmd test "$(grep -c 'has no source' "$tmp/err")" -eq 1
"$bin" check "$J" --set 2027-03.list.add.control=5000 >/dev/null 2>"$tmp/err"
check_cmd grep -q "^resim: warning: --set: \[2027-03\] list.add.control = 5000: only" "$tmp/err"
"$bin" run "$tmp/warn.ini" >/dev/null 2>"$tmp/err" || bad "run with warnings"
check_cmd grep -q "only [0-9]* importers could move" "$tmp/err"
"$bin" check "$J" >/dev/null 2>"$tmp/err"
check_cmd test ! -s "$tmp/err"

finish cli_inherit
