# lib.sh - what the command-line tests share: pass/fail counters, check,
# check_cmd and expect_exit, and begin_test and finish. Sourced by
# tests/cli_*.sh, which either set $tmp (a scratch directory that
# expect_exit writes its out and err files into) or call begin_test.

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # name command...
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
# expect_exit CODE NAME command...: the exit code and exactly one line on stderr.
expect_exit() {
    local want=$1 name=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ "$got" = "$want" ] && [ "$lines" = 1 ]; then
        ok "$name (exit $got: $(cat "$tmp/err"))"
    else
        bad "$name: exit $got (want $want), $lines stderr lines: $(head -c 300 "$tmp/err")"
    fi
}

# begin_test path/to/resim: sets $bin (made absolute) and $root (the
# repository root, the working directory) and makes the scratch directory
# $tmp, removed on exit; usage errors exit 2.
begin_test() {
    if [ $# -lt 1 ]; then
        echo "usage: $0 path/to/resim   (from the repository root)" >&2
        exit 2
    fi
    bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    root=$(pwd)
    [ -x "$bin" ] || { echo "not executable: $bin" >&2; exit 2; }
    [ -f "$root/scenarios/japan-2026.ini" ] || { echo "run from the repository root" >&2; exit 2; }
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/resim_$(basename "$0" .sh).XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
}
# check_cmd command...: a check named by its command; when it fails, the
# first lines of $tmp/err (where the tests put resim's stderr) follow.
check_cmd() {
    if "$@"; then
        ok "$*"
    else
        bad "$*"
        [ -s "$tmp/err" ] && sed 's/^/    stderr: /' "$tmp/err" | head -5
    fi
    return 0
}
# finish NAME: the counts; the status is 0 when nothing failed.
finish() {
    echo "$1: $passed passed, $failed failed"
    [ "$failed" = 0 ]
}
