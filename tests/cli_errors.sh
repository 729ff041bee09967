#!/usr/bin/env bash
# cli_errors.sh - exit codes and error messages of the resim command.
#
# Usage: bash tests/cli_errors.sh path/to/resim   (from the repository root)
#
# Bad input exits 1 with exactly one line on stderr naming the file (and the
# line where there is one) and writes nothing; a bad command line exits 2.
# Works on copies of tests/fixtures in a temporary directory.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 path/to/resim" >&2
    exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(pwd)
fx=$root/tests/fixtures
[ -x "$bin" ] || { echo "not executable: $bin" >&2; exit 2; }
[ -d "$fx/data" ] || { echo "run from the repository root (no $fx/data)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/resim_cli_errors.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
no() {
    fail=$((fail + 1))
    echo "FAIL: $*"
    if [ -s "$work/err" ]; then sed 's/^/    stderr: /' "$work/err" | head -5; fi
}

# A fresh scenario s.ini (the flat fixture) with its own copy of the data.
fresh() {
    rm -rf "$work/s" "$work/out"
    mkdir -p "$work/s" "$work/out"
    cp -r "$fx/data" "$work/s/data"
    cp "$fx/flat.ini" "$work/s/s.ini"
}
S=$work/s/s.ini
D=$work/s/data

# Appends lines to s.ini and prints the number of the first one appended.
append() {
    local first=$(($(wc -l <"$S") + 1))
    printf '%s\n' "$@" >>"$S"
    echo "$first"
}

# Line number of the first line of FILE matching PATTERN.
line_of() { grep -n -m1 -- "$2" "$1" | cut -d: -f1; }

# expect_input NAME FILE LINE [ARGS...]: `run` and `check` both exit 1 with
# one line on stderr naming FILE (and :LINE: when LINE is not 0); `run -o`
# leaves no output, sidecar or temporary file behind.
expect_input() {
    local name=$1 file=$2 line=$3
    shift 3
    local cmd
    for cmd in run check; do
        local extra=()
        [ "$cmd" = run ] && extra=(-o "$work/out/o.csv")
        "$bin" "$cmd" "$@" "${extra[@]}" >"$work/outp" 2>"$work/err"
        local rc=$? lines
        lines=$(wc -l <"$work/err")
        local where=$file
        [ "$line" != 0 ] && where="$file:$line:"
        if [ $rc -ne 1 ]; then
            no "$name ($cmd): exit $rc, expected 1"
        elif [ "$lines" -ne 1 ]; then
            no "$name ($cmd): $lines lines on stderr, expected 1"
        elif ! grep -qF -- "$where" "$work/err"; then
            no "$name ($cmd): stderr does not name '$where'"
        elif [ -n "$(ls -A "$work/out")" ]; then
            no "$name ($cmd): left files behind: $(ls -A "$work/out" | tr '\n' ' ')"
        elif [ "$cmd" = run ] && [ -s "$work/outp" ]; then
            no "$name ($cmd): wrote to stdout"
        else
            ok
        fi
    done
}

# expect_usage NAME ARGS...: exit 2, a message on stderr, nothing on stdout, no output.
expect_usage() {
    local name=$1
    shift
    rm -rf "$work/out"
    mkdir -p "$work/out"
    "$bin" "$@" >"$work/outp" 2>"$work/err"
    local rc=$?
    if [ $rc -ne 2 ]; then
        no "$name: exit $rc, expected 2"
    elif ! grep -q '^resim: ' "$work/err"; then
        no "$name: no 'resim: ' message on stderr"
    elif [ -s "$work/outp" ]; then
        no "$name: wrote to stdout"
    elif [ -n "$(ls -A "$work/out")" ]; then
        no "$name: left files behind"
    else
        ok
    fi
}

# ------------------------------------------------------------ scenario errors

fresh; n=$(append '[polcy]' 'approval.none = 0.5')
expect_input "unknown section" "$S" $((n + 1)) "$S"

fresh; n=$(append '[policy]' 'approval.nonee = 0.5')
expect_input "unknown key" "$S" $((n + 1)) "$S"

fresh; n=$(append '[2025-04]' 'controlled.add = Dy Xq')
expect_input "unknown element" "$S" $((n + 1)) "$S"

fresh; n=$(append '[2025-04]' 'list.set = imp_a:control,imp_zz:watch')
expect_input "unknown importer in list.set" "$S" $((n + 1)) "$S"

fresh; n=$(append '[2025-02]' 'approval.watch = 1.25')
expect_input "rate outside [0, 1]" "$S" $((n + 1)) "$S"

fresh; n=$(append '[2025-03]' 'delay_mean_days.none = -4.5')
expect_input "negative delay" "$S" $((n + 1)) "$S"

fresh; sed -i 's/^src_tb.start = 2023-01$/src_tb.start = 2023-01\nsrc_tb.capacity_tpy = -12.5/' "$S"
expect_input "negative capacity" "$S" "$(line_of "$S" capacity_tpy)" "$S"

fresh; n=$(append '[2026-13]' 'approval.none = 0.5')
expect_input "malformed month section" "$S" $((n + 1)) "$S"

fresh; sed -i 's|^start = 2025-01$|start = 2025/01|' "$S"
expect_input "malformed start date" "$S" "$(line_of "$S" '^start')" "$S"

fresh; n=$(append '[2025-05]' 'approval.none = 0.5x')
expect_input "bad number" "$S" $((n + 1)) "$S"

fresh; n=$(append '[2025-05]' 'approval.none = 0.5' 'approval.none = 0.6')
expect_input "duplicate key" "$S" $((n + 2)) "$S"

fresh; n=$(append 'this is not an ini line')
expect_input "not an INI line" "$S" "$n" "$S"

fresh
expect_input "missing scenario file" "$work/s/absent.ini" 0 "$work/s/absent.ini"

fresh
expect_input "bad --set value" "--set" 0 "$S" --set policy.approval.none=3

fresh
expect_input "bad --warmup" "--warmup" 0 "$S" --warmup -2

# ------------------------------------------------------------ data errors

fresh; rm "$D/stockpile.csv"
expect_input "missing data file" "$D/stockpile.csv" 0 "$S"

fresh; printf 'element,base_tpy,growth\nDy,238.5,0.027\nTb,"87.3,0.041\n' >"$D/demand.csv"
expect_input "unterminated quote" "$D/demand.csv" 3 "$S"

fresh; printf 'element,base_tpy,growth\nDy,238.5,0.027\nTb,87.3,0.041,9\nY,152.6,0\n' >"$D/demand.csv"
expect_input "wrong column count" "$D/demand.csv" 3 "$S"

fresh; printf 'element,base_tpy\nDy,238.5\nTb,87.3\nY,152.6\n' >"$D/demand.csv"
expect_input "missing column" "$D/demand.csv" 1 "$S"
grep -q growth "$work/err" && ok || no "missing column: message does not name 'growth'"

fresh; sed -i 's/^imp_b,Importer B,none,0.87,0.40,3.1,0.187,/imp_b,Importer B,none,0.87,0.40,3.1,0.1873,/' "$D/importers.csv"
expect_input "shares not summing to 1" "$D/importers.csv" 0 "$S"
grep -q 'share_Dy' "$work/err" && grep -q 'tolerance' "$work/err" && ok ||
    no "shares: message does not name share_Dy and the tolerance"

fresh; printf 'Xx,12.5,0\n' >>"$D/demand.csv"
expect_input "unknown element in demand.csv" "$D/demand.csv" 5 "$S"

fresh; sed -i 's/^src_tb,Tb,13.9,2025-03,/src_tb,Tb,13.9,2025-3,/' "$D/alt_sources.csv"
expect_input "bad source start date" "$D/alt_sources.csv" 3 "$S"

# ------------------------------------------------------------ output errors

fresh
"$bin" run "$S" -o "$work/no/such/dir/o.csv" >"$work/outp" 2>"$work/err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -qF "$work/no/such/dir/o.csv" "$work/err"; then
    ok
else
    no "output in a missing directory: exit $rc"
fi

# ------------------------------------------------------------ command-line errors

fresh
expect_usage "no command"
expect_usage "unknown command" frobnicate "$S"
expect_usage "unknown option" run "$S" --frobnicate
expect_usage "unknown option (check)" check "$S" -x
expect_usage "missing scenario" run
expect_usage "missing scenario (check)" check --set policy.approval.none=0.5
expect_usage "two scenarios" run "$S" "$S"
expect_usage "--by foo" run "$S" --by foo -o "$work/out/o.csv"
expect_usage "--by without value" run "$S" --by
expect_usage "--set noequals" run "$S" --set noequals -o "$work/out/o.csv"
expect_usage "--set without a dot" run "$S" --set policy_approval=0.3
expect_usage "-o without value" run "$S" -o
expect_usage "--output in check" check "$S" -o "$work/out/o.csv"

# ------------------------------------------------------------ what works

"$bin" help >"$work/outp" 2>"$work/err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^usage: resim' "$work/outp" && grep -q 'exit codes' "$work/outp" &&
    [ ! -s "$work/err" ]; then ok; else no "help: exit $rc or not on stdout"; fi

"$bin" --version >"$work/outp" 2>"$work/err"
rc=$?
if [ $rc -eq 0 ] && grep -Eq '^resim [0-9]+\.[0-9]+\.[0-9]+' "$work/outp"; then ok; else
    no "--version: exit $rc, '$(cat "$work/outp")'"; fi

fresh
"$bin" check "$fx/licensing.ini" >"$work/outp" 2>"$work/err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^timeline (8 events)' "$work/outp" &&
    grep -Eq '^ +2025-09 +month +8 +list.add.control = 2' "$work/outp" &&
    grep -q 'fixture event' "$work/outp" && [ -z "$(grep -v 'has no source = line' "$work/err")" ]; then ok; else
    no "check: exit $rc or no timeline"; fi

fresh
"$bin" run "$S" -o "$work/out/o.csv" >"$work/outp" 2>"$work/err"
rc=$?
files=$(ls -A "$work/out" | tr '\n' ' ')
if [ $rc -eq 0 ] && [ "$files" = "o.csv o.csv.json " ] && [ ! -s "$work/err" ] &&
    [ "$(wc -l <"$work/out/o.csv")" -eq $((1 + 18 * 3)) ] &&
    head -1 "$work/out/o.csv" | grep -q '^scenario,date,month,element,group,demand,' &&
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/out/o.csv.json"; then ok; else
    no "run -o: exit $rc, files '$files'"; fi

# stdout by default; the same rows as the file.
"$bin" run "$S" >"$work/outp" 2>"$work/err"
rc=$?
if [ $rc -eq 0 ] && cmp -s "$work/outp" "$work/out/o.csv"; then ok; else
    no "run to stdout: exit $rc or differs from -o"; fi

# An event after the horizon is a warning, not an error.
fresh; n=$(append '[2027-05]' 'approval.none = 0.5')
"$bin" run "$S" -o "$work/out/o.csv" >"$work/outp" 2>"$work/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "warning: .*$S:$((n + 1)):.*after the horizon" "$work/err" &&
    [ -s "$work/out/o.csv" ]; then ok; else no "event after the horizon: exit $rc"; fi

# --by status adds three rows per element and month.
fresh
"$bin" run "$S" --by status >"$work/outp" 2>"$work/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(wc -l <"$work/outp")" -eq $((1 + 18 * 3 * 4)) ] &&
    [ "$(cut -d, -f5 "$work/outp" | sort | uniq -c | wc -l)" -eq 5 ]; then ok; else
    no "--by status: exit $rc"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
