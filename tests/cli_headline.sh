#!/usr/bin/env bash
# cli_headline.sh - `resim run --summary` on the hand-worked case of
# tests/fixtures/hand (two importers, Dy at 10 t a month, 5 t each; 30 t of Dy
# in the national stockpile, at most 4 t a month): the headline's figures,
# worked out by hand, with and without the stockpile.
#
# Usage: bash tests/cli_headline.sh path/to/resim   (from the repository root)
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 path/to/resim" >&2
    exit 2
fi
bin=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/resim_cli_headline.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

# expect DESCRIPTION PATTERN: the summary in $work/out has a line matching PATTERN.
expect() {
    if grep -Eq -- "$2" "$work/out"; then
        pass=$((pass + 1))
    else
        echo "FAIL: $1: no line matching '$2' in:"
        sed 's/^/    /' "$work/out"
        fail=$((fail + 1))
    fi
}

run() {
    if ! "$bin" run tests/fixtures/hand/base.ini "$@" --summary -o "$work/x.csv" >"$work/out" 2>&1; then
        echo "FAIL: resim run $* --summary failed:"
        sed 's/^/    /' "$work/out"
        fail=$((fail + 1))
    fi
}

# Importer A (none) is approved in full; B is on the control list and gets
# nothing from China. From month 2 (2030-03) B has nothing left: its 5 t are
# unmet and availability before release is 5 / 10 = 50 %, below the 0.9
# trigger, so the stockpile releases min(30, 4, 5) = 4 t to B each month,
# months 2-8 (28 t; 2 t stay): B's availability 4 / 5 = 80 %, all 9 / 10 =
# 90 %, shortfall 1 t a month (7 t). Without the stockpile B gets 0 %, all
# 50 %, 5 t a month (35 t). A is never short.
run --set policy.controlled=Dy --set policy.approval.none=1 --set 2030-01.list.set=imp_b:control \
    --set stockpile.enabled=1
expect "header" '^ +with the national stockpile +without it +stockpile$'
expect "Dy, all importers" '^Dy +all +90\.0% +2030-03 +7\.00 t +50\.0% +2030-03 +35\.00 t +28\.00 t$'
expect "Dy, control list" '^ +control +80\.0% +2030-03 +7\.00 t +0\.0% +2030-03 +35\.00 t +28\.00 t$'
expect "Dy, others never short" '^ +others +100\.0% +- +0\.00 t +100\.0% +- +0\.00 t +0\.00 t$'
expect "Tb is not controlled" '^Tb +all +100\.0% +- +0\.00 t +100\.0% +- +0\.00 t +0\.00 t$'
expect "the stockpile is named" '^held up by the stockpile: Dy 40\.0 points'

# The stockpile is switched on by an event in 2030-04 (month 3): month 2 is
# short by 5 t at 50 %, then 4 t a month for months 3-8 (24 t) leaves 1 t a
# month short (6 t): 11 t in all. The run without the stockpile sets that
# event to 0 as well: 35 t.
run --set policy.controlled=Dy --set policy.approval.none=1 --set 2030-01.list.set=imp_b:control \
    --set stockpile.enabled=0 --set 2030-04.stockpile.enabled=1
expect "an event switches it on" '^Dy +all +50\.0% +2030-03 +11\.00 t +50\.0% +2030-03 +35\.00 t +24\.00 t$'
expect "same lowest: not held up" '^the stockpile does not raise any element'"'"'s lowest availability$'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
