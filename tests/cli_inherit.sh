#!/usr/bin/env bash
# cli_inherit.sh - scenarios built on a base file ([scenario] base = ...):
# what a child inherits and overrides (events included), relative paths,
# cycles and missing bases, where `resim check` says each value came from,
# and the misspelled-key, source and list-size hints of `check`.
#
# Usage: bash tests/cli_inherit.sh path/to/resim   (from the repository root)
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 path/to/resim" >&2
    exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(pwd)
[ -x "$bin" ] || { echo "not executable: $bin" >&2; exit 2; }
[ -f "$root/scenarios/japan-2026.ini" ] || { echo "run from the repository root" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/resim_cli_inherit.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL: $*"; [ -s "$work/err" ] && sed 's/^/    stderr: /' "$work/err" | head -5; }
check() { if "$@"; then ok; else no "$*"; fi; }
J=$root/scenarios/japan-2026.ini

# A child in another folder, base given relative to the child: without
# overrides it is the base, byte for byte (the base's data = ../data is
# relative to the base, not to the child).
mkdir -p "$work/elsewhere/deeper"
rel=$(realpath --relative-to="$work/elsewhere/deeper" "$J")
printf '[scenario]\nbase = %s\n' "$rel" >"$work/elsewhere/deeper/same.ini"
"$bin" run "$J" -o "$work/base.csv" 2>"$work/err" || no "base run"
"$bin" run "$work/elsewhere/deeper/same.ini" -o "$work/same.csv" 2>"$work/err" || no "child run"
check cmp -s "$work/base.csv" "$work/same.csv"

# An event section in the child replaces keys of the base's month of the
# same name and adds new ones; a new month adds an event: each is the same
# run as the same keys given with --set on the base.
c=$work/elsewhere/child.ini
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
"$bin" run "$c" -o "$work/child.csv" 2>"$work/err" || no "child with events"
"$bin" run "$J" --set 2026-02.approval.watch=0.3 --set 2026-02.approval.control=0.05 \
    --set 2027-01.approval.none=0.2 -o "$work/set.csv" 2>"$work/err" || no "base with --set"
check cmp -s "$work/child.csv" "$work/set.csv"
check test -n "$(cmp "$work/child.csv" "$work/base.csv" 2>&1)"

# The base's other keys of that month stay, from the base's file.
"$bin" check "$c" >"$work/check.txt" 2>"$work/err" || no "check child"
"$bin" check "$J" >"$work/check-base.txt" 2>"$work/err" || no "check base"
kept=$(grep -E '^  2026-02 ' "$work/check-base.txt" | grep -vE ' approval\.(watch|control) = ' |
    sed -E 's/^  2026-02 +month +[0-9]+ +([^ ]+ = [^ ]+) .*/\1/' | head -1)
check test -n "$kept"
check grep -qF "$kept" "$work/check.txt"
check grep -q "2026-02 .*${kept%% *} = .*(${J}:" "$work/check.txt"
# check names the file and line each value and event came from.
line=$(grep -n 'approval.watch = 0.3' "$c" | cut -d: -f1)
check grep -q "2026-02 .*approval.watch = 0.3 .*(${c}:${line})" "$work/check.txt"
check grep -q "policy.approval.none .*(${J}:" "$work/check.txt"
check grep -q "stockpile.release_max_tpm.Dy .*(data tables)" "$work/check.txt"
check grep -q "policy.delay_cv.none .*(default)" "$work/check.txt"
"$bin" check "$c" --set policy.approval.none=0.7 >"$work/check2.txt" 2>"$work/err"
check grep -q "policy.approval.none .*0.7 .*(--set)" "$work/check2.txt"
# The child's event source is text, never a distribution ("Nikkei (B)").
check grep -q "2027-01 .*approval.none = 0.2 .*\[Nikkei (B)\]" "$work/check.txt"

# Uncertain keys inherited from the base name the base's file and line.
"$bin" check "$root/scenarios/whatif-lynas-late.ini" >"$work/lynas.txt" 2>"$work/err"
first=$(grep -n '= triangular(\|= beta(\|= gamma(\|= uniform(\|= lognormal(\|= normal(' "$J" | head -1 | cut -d: -f1)
check grep -q "(central .*)   (.*scenarios/japan-2026.ini:$first)\$" "$work/lynas.txt"
check test "$(grep -c 'lynas_my2_dy.delay_months = ' "$work/lynas.txt")" -eq 0

# Bases chain: a grandchild of japan-2026 changes one more key.
g=$work/grand.ini
printf '[scenario]\nbase = elsewhere/child.ini\nname = grand\n\n[stockpile]\nenabled = 0\n' >"$g"
"$bin" run "$g" -o "$work/grand.csv" 2>"$work/err" || no "grandchild run"
"$bin" run "$c" --set scenario.name=grand --set stockpile.enabled=0 -o "$work/grand-set.csv" \
    2>"$work/err" || no "child with --set"
check cmp -s "$work/grand.csv" "$work/grand-set.csv"

# The sidecar lists every base with its SHA-256, deepest first, even a base
# whose keys are all replaced.
"$bin" run "$g" -o "$work/g.csv" 2>/dev/null
check /usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
b = [x["path"] for x in d["bases"]]
assert b == [sys.argv[2], sys.argv[3]], b
assert all(len(x["sha256"]) == 64 for x in d["bases"])' "$work/g.csv.json" "$J" "$work/elsewhere/child.ini"
printf '[scenario]\nname = only\n' >"$work/only-name.ini"
printf '[scenario]\nbase = only-name.ini\nname = over\nstart = 2025-01\nmonths = 2\ndata = %s\n' \
    "$root/data" >"$work/over.ini"
"$bin" run "$work/over.ini" -o "$work/over.csv" 2>/dev/null
check grep -q "\"bases\": \[\$" "$work/over.csv.json"
check grep -q "{\"path\": \"$work/only-name.ini\"" "$work/over.csv.json"
"$bin" run "$J" -o "$work/plain.csv" 2>/dev/null
check test "$(grep -c '"bases"' "$work/plain.csv.json")" -eq 0
# Ensembles and sweeps copy the entries of a scenario built on a base.
"$bin" run "$c" --replicates 3 -o "$work/ce.csv" 2>"$work/err"
check test $? -eq 0
"$bin" sweep "$c" --vary 2026-02.approval.watch=0.2:0.4:2 -o "$work/cs.csv" 2>"$work/err"
check test $? -eq 0

# A data folder stated by the child is relative to the child.
mkdir -p "$work/own"
cp -r "$root/data" "$work/own/tables"
printf '[scenario]\nbase = %s\ndata = tables\n' "$J" >"$work/own/own.ini"
"$bin" check "$work/own/own.ini" >"$work/own.txt" 2>"$work/err" || no "own data"
check grep -q "^data: $work/own/tables " "$work/own.txt"

# The shipped what-ifs are a few lines on top of japan-2026 and give the
# same bytes as their answers in tests/golden (plain and --by status).
for w in "$root"/scenarios/whatif-*.ini; do
    name=$(basename "$w" .ini)
    check grep -q '^base = japan-2026.ini$' "$w"
    check test "$(grep -cv '^;\|^$' "$w")" -le 20
    "$bin" run "$w" >"$work/w.csv" 2>/dev/null
    check cmp -s "$work/w.csv" "$root/tests/golden/$name.csv"
    "$bin" run "$w" --by status >"$work/w.csv" 2>/dev/null
    check cmp -s "$work/w.csv" "$root/tests/golden/$name.by-status.csv"
done

# expect_fail NAME FILE LINE PATTERN INI: run and check exit 1 with one line
# naming FILE:LINE: and matching PATTERN.
expect_fail() {
    local name=$1 where=$2 pattern=$3 ini=$4 cmd
    for cmd in run check; do
        "$bin" "$cmd" "$ini" >/dev/null 2>"$work/err"
        local rc=$?
        if [ $rc -ne 1 ]; then no "$name ($cmd): exit $rc, expected 1"
        elif [ "$(wc -l <"$work/err")" -ne 1 ]; then no "$name ($cmd): not one line"
        elif ! grep -qF -- "$where" "$work/err"; then no "$name ($cmd): does not name $where"
        elif ! grep -q -- "$pattern" "$work/err"; then no "$name ($cmd): no '$pattern'"
        else ok; fi
    done
}
printf '[scenario]\nname = a\nbase = b.ini\n' >"$work/a.ini"
printf '; b\n[scenario]\nbase = ./a.ini\n' >"$work/b.ini"
expect_fail "cycle" "$work/b.ini:3:" "cycle" "$work/a.ini"
printf '[scenario]\nbase = self.ini\n' >"$work/self.ini"
expect_fail "self base" "$work/self.ini:2:" "cycle" "$work/self.ini"
printf '[scenario]\n\nbase = nowhere.ini\n' >"$work/missing.ini"
expect_fail "missing base" "$work/missing.ini:3:" "cannot open" "$work/missing.ini"
printf '[scenario]\nbase =\n' >"$work/empty.ini"
expect_fail "empty base" "$work/empty.ini:2:" "base" "$work/empty.ini"
# An error in a base names the base's file and line.
printf '[scenario]\nbase = %s\n\n[policy]\napproval.watch = 2\n' "$J" >"$work/badv.ini"
printf '[scenario]\nbase = badv.ini\n' >"$work/badc.ini"
expect_fail "bad value in a base" "$work/badv.ini:5:" "approval.watch" "$work/badc.ini"

# A misspelled key gets the closest key of the table as a hint.
hint() { # NAME INI-LINES... : the last line of the file is the misspelled key
    printf '[scenario]\nbase = %s\n' "$J" >"$work/typo.ini"
    printf '%s\n' "${@:3}" >>"$work/typo.ini"
    local n
    n=$(wc -l <"$work/typo.ini")
    expect_fail "$1" "$work/typo.ini:$n:" "did you mean $2?" "$work/typo.ini"
}
hint "policy typo" approval.watch '[policy]' 'aproval.watch = 0.5'
hint "event typo" approval.control '[2026-02]' 'source = x' 'approval.controll = 0.5'
hint "event key with section" alt.lynas_my2_dy.delay_months '[2026-02]' 'source = x' \
    'alt.lynas_my2_dy.delay_month = 3'
hint "element key" base_tpy.Dy '[demand]' 'base_tpi.Dy = 300'
printf '[scenario]\nbase = %s\n[policy]\nzzzz = 1\n' "$J" >"$work/far.ini"
"$bin" check "$work/far.ini" >/dev/null 2>"$work/err"
check grep -q "unknown key\$" "$work/err"

# check warns about an event without a source and a list move that asks for
# more importers than the list holds, naming file and line; run warns of the
# move too.
printf '[scenario]\nbase = %s\n\n[2027-03]\nlist.add.control = 5000\n' "$J" >"$work/warn.ini"
"$bin" check "$work/warn.ini" >/dev/null 2>"$work/err" || no "check with warnings"
check grep -q "warning: $work/warn.ini:5: \[2027-03\] has no source" "$work/err"
check grep -q "warning: $work/warn.ini:5: .*list.add.control = 5000: only [0-9]* importers could move" "$work/err"
check test "$(grep -c 'has no source' "$work/err")" -eq 1
"$bin" check "$J" --set 2027-03.list.add.control=5000 >/dev/null 2>"$work/err"
check grep -q "^resim: warning: --set: \[2027-03\] list.add.control = 5000: only" "$work/err"
"$bin" run "$work/warn.ini" >/dev/null 2>"$work/err" || no "run with warnings"
check grep -q "only [0-9]* importers could move" "$work/err"
"$bin" check "$J" >/dev/null 2>"$work/err"
check test ! -s "$work/err"

echo "cli_inherit: $pass passed, $fail failed"
[ $fail -eq 0 ]
