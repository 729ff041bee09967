#!/usr/bin/env bash
# cli_help.sh - `resim help` and every subcommand's --help (and -h): the help
# on stdout, nothing on stderr, exit 0; a help that cannot be written
# (stdout is /dev/full) is a failure, not a silent success.
#
# Usage: bash tests/cli_help.sh path/to/resim
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 path/to/resim" >&2
    exit 2
fi
bin=$1
[ -x "$bin" ] || { echo "not executable: $bin" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/resim_cli_help.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL: $*"; }

for args in "help" "--help" "run --help" "run -h" "run scenarios/x.ini --help" "check --help" \
    "check -h" "sweep --help" "merge --help" "summary --help" "summary -h"; do
    # shellcheck disable=SC2086
    "$bin" $args >"$work/out" 2>"$work/err"
    rc=$?
    first=$(head -1 "$work/out")
    if [ $rc -ne 0 ]; then no "$args: exit $rc"
    elif [ -s "$work/err" ]; then no "$args: wrote to stderr"
    elif [[ "$first" != usage:* ]]; then no "$args: stdout does not start with usage: ($first)"
    else ok; fi
    # The subcommand's own help names the subcommand.
    case $args in
    run*|check*|summary*|sweep*|merge*)
        if grep -q "^usage: resim ${args%% *}" "$work/out"; then ok; else no "$args: not its own help"; fi ;;
    esac
    if [ -w /dev/full ]; then
        # shellcheck disable=SC2086
        "$bin" $args >/dev/full 2>"$work/err"
        rc=$?
        if [ $rc -ne 0 ] && grep -q "cannot write" "$work/err"; then ok; else no "$args >/dev/full: exit $rc"; fi
    fi
done
# The run help lists the new options.
"$bin" run --help >"$work/out"
for opt in --window --by 'status@YYYY-MM' --threshold; do
    if grep -q -- "$opt" "$work/out"; then ok; else no "run --help lacks $opt"; fi
done

echo "cli_help: $pass passed, $fail failed"
[ $fail -eq 0 ]
