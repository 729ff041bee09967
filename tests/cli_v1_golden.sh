#!/usr/bin/env bash
# cli_v1_golden.sh - model version 2 keeps version 1 (docs/model.md sections 9-13):
# every fixture that sets none of the version-2 levers prints, in every
# version-1 column, exactly the bytes of its version-1 answer in
# tests/golden/v1/<name>.csv, and `substituted` (the one column version 2
# appends) is 0 in every row.
#
# A golden's scenario is tests/fixtures/v1/<name>.ini (a version-1 copy of a
# shipped scenario), else tests/fixtures/, tests/reference/, scenarios/ or
# scenarios/history/<name>.ini. These answers are never regenerated.
#
# Usage: bash tests/cli_v1_golden.sh path/to/resim   (from the repository root)
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 path/to/resim" >&2
    exit 2
fi
bin=$1
[ -x "$bin" ] || { echo "not executable: $bin" >&2; exit 2; }
[ -d tests/golden/v1 ] || { echo "run from the repository root" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/resim_cli_v1_golden.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

# compare GOT V1: every version-1 field byte-identical, then substituted = 0.
compare() {
    python3 - "$1" "$2" <<'PY'
import sys

got = open(sys.argv[1], newline="").read().split("\n")
exp = open(sys.argv[2], newline="").read().split("\n")
bad = []
if len(got) != len(exp):
    bad.append("%d lines, version 1 had %d" % (len(got), len(exp)))
for n, (g, e) in enumerate(zip(got, exp)):
    if e == "" and g == "":
        continue
    head, sep, last = g.rpartition(",")
    if not sep or head != e:
        bad.append("line %d: version-1 columns differ:\n      got %s\n      v1  %s" % (n + 1, head, e))
    elif n == 0 and last != "substituted":
        bad.append("line 1: last column is %r, not substituted" % last)
    elif n > 0 and float(last) != 0:
        bad.append("line %d: substituted = %s, not 0" % (n + 1, last))
for b in bad[:5]:
    print("    " + b)
sys.exit(1 if bad else 0)
PY
}

shopt -s nullglob
goldens=(tests/golden/v1/*.csv)
if [ ${#goldens[@]} -eq 0 ]; then
    echo "FAIL: no tests/golden/v1/*.csv"
    fail=$((fail + 1))
fi
for golden in "${goldens[@]}"; do
    name=$(basename "$golden" .csv)
    ini=
    for dir in tests/fixtures/v1 tests/fixtures tests/reference scenarios scenarios/history; do
        if [ -f "$dir/$name.ini" ]; then
            ini=$dir/$name.ini
            break
        fi
    done
    if [ -z "$ini" ]; then
        echo "FAIL: $golden: no scenario $name.ini"
        fail=$((fail + 1))
        continue
    fi
    if ! "$bin" run "$ini" >"$work/$name.csv" 2>"$work/$name.err"; then
        echo "FAIL: $name: resim run $ini failed:"
        sed 's/^/    /' "$work/$name.err"
        fail=$((fail + 1))
        continue
    fi
    if compare "$work/$name.csv" "$golden"; then
        echo "ok: $ini: every version-1 column as in $golden, substituted 0"
        pass=$((pass + 1))
    else
        echo "FAIL: $ini differs from version 1 ($golden)"
        fail=$((fail + 1))
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
