#!/usr/bin/env bash
# cli_full_stdout.sh - a command whose standard output cannot be written
# (stdout is /dev/full) fails with exit 1 and one line saying so, instead of
# exiting 0 with its output lost: check, run --summary, run to stdout,
# summary, help, --version and a subcommand's --help.
#
#   bash tests/cli_full_stdout.sh /path/to/resim      (from the repository root)
set -u
resim=${1:?usage: bash tests/cli_full_stdout.sh /path/to/resim}
case $resim in /*) ;; *) resim=$PWD/$resim ;; esac
if [ ! -w /dev/full ] || [ ! -c /dev/full ]; then
    echo "skip: no /dev/full"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
S=scenarios/japan-2026.ini
"$resim" run "$S" --set scenario.months=12 -o "$tmp/r.csv" 2>/dev/null ||
    bad "a run to compare with"
full() { # NAME args...: exit 1 and an error line (warnings aside) naming the failed write
    local name=$1
    shift
    "$resim" "$@" >/dev/full 2>"$tmp/err"
    local rc=$?
    grep -v ': warning: ' "$tmp/err" >"$tmp/errs"
    if [ $rc = 1 ] && [ "$(wc -l <"$tmp/errs")" -ge 1 ] && grep -qi 'write' "$tmp/errs"; then
        ok "$name >/dev/full: exit 1 ($(head -1 "$tmp/errs"))"
    else
        bad "$name >/dev/full: exit $rc, stderr: $(head -c 200 "$tmp/errs")"
    fi
}
full "check" check "$S"
full "run --summary" run "$S" --summary -o "$tmp/s.csv"
full "run to stdout" run "$S" --set scenario.months=12
full "summary" summary "$tmp/r.csv"
full "help" help
full "--help" --help
full "--version" --version
full "sweep --help" sweep --help
# The same commands to a writable stdout succeed: the failure above is the write's.
for args in "check $S" "help" "--version" "summary $tmp/r.csv"; do
    # shellcheck disable=SC2086
    if "$resim" $args >"$tmp/out" 2>/dev/null && [ -s "$tmp/out" ]; then ok "$args to a file: exit 0"
    else bad "$args to a file failed"; fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
