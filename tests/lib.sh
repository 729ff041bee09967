# lib.sh - what the command-line tests share: pass/fail counters, check and
# expect_exit. Sourced by tests/cli_*.sh after they set $tmp (a scratch
# directory that expect_exit writes its out and err files into).

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
