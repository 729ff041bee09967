#!/usr/bin/env bash
# cli_golden.sh - reruns every shipped scenario and compares its CSV with the
# answers in tests/golden/<name>.csv (resim run) and <name>.by-status.csv
# (resim run --by status): numbers within 1e-9 (relative, with an absolute
# floor of 1e-9), text columns exactly.
#
# Usage: bash tests/cli_golden.sh path/to/resim   (from the repository root)
# After a deliberate change: scripts/update-golden path/to/resim
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 path/to/resim" >&2
    exit 2
fi
bin=$1
[ -x "$bin" ] || { echo "not executable: $bin" >&2; exit 2; }
[ -d scenarios ] && [ -d tests/golden ] || { echo "run from the repository root" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/resim_cli_golden.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

# compare GOT EXPECTED: prints the differences, exits 1 if there are any.
compare() {
    python3 - "$1" "$2" <<'PY'
import csv, math, sys

REL, ABS, SHOW = 1e-9, 1e-9, 10
got_path, exp_path = sys.argv[1], sys.argv[2]
with open(got_path, newline="") as f:
    got = list(csv.reader(f))
with open(exp_path, newline="") as f:
    exp = list(csv.reader(f))

def number(s):
    try:
        v = float(s)
    except ValueError:
        return None
    return v if math.isfinite(v) else None

if not got or not exp or got[0] != exp[0]:
    print("    header differs:")
    print("      got      %s" % ",".join(got[0] if got else []))
    print("      expected %s" % ",".join(exp[0] if exp else []))
    sys.exit(1)
header = exp[0]
key = [header.index(c) for c in ("date", "element", "group") if c in header]
bad = []
if len(got) != len(exp):
    bad.append("%d rows, expected %d" % (len(got) - 1, len(exp) - 1))
for r, (g, e) in enumerate(zip(got[1:], exp[1:]), start=2):
    where = "line %d (%s)" % (r, " ".join(e[k] for k in key if k < len(e)))
    if len(g) != len(e):
        bad.append("%s: %d fields, expected %d" % (where, len(g), len(e)))
        continue
    for c, (a, b) in enumerate(zip(g, e)):
        if a == b:
            continue
        x, y = number(a), number(b)
        if x is not None and y is not None:
            d = abs(x - y)
            if d <= max(ABS, REL * max(abs(x), abs(y))):
                continue
            bad.append("%s %s: got %s, expected %s (difference %.3g)" % (where, header[c], a, b, d))
        else:
            bad.append("%s %s: got '%s', expected '%s'" % (where, header[c], a, b))
for line in bad[:SHOW]:
    print("    " + line)
if len(bad) > SHOW:
    print("    ... and %d more differences" % (len(bad) - SHOW))
sys.exit(1 if bad else 0)
PY
}

# Answer files: tests/golden/<name>.csv is `resim run scenarios/<name>.ini`,
# <name>.<variant>.csv the same with the options its variant names.
variants=("" ".by-status")
variant_args() {
    case $1 in
        "") ;;
        .by-status) echo "--by status" ;;
        *) return 1 ;;
    esac
}

shopt -s nullglob
scenarios=(scenarios/*.ini scenarios/history/*.ini)
if [ ${#scenarios[@]} -eq 0 ]; then
    echo "FAIL: no scenarios/*.ini"
    fail=$((fail + 1))
fi
for ini in "${scenarios[@]}"; do
    name=$(basename "$ini" .ini)
    for v in "${variants[@]}"; do
        golden=tests/golden/$name$v.csv
        if [ ! -f "$golden" ]; then
            echo "FAIL: $name$v: no $golden (run scripts/update-golden)"
            fail=$((fail + 1))
            continue
        fi
        # shellcheck disable=SC2046
        if ! "$bin" run "$ini" $(variant_args "$v") >"$work/$name$v.csv" 2>"$work/$name$v.err"; then
            echo "FAIL: $name$v: resim run $ini $(variant_args "$v") failed:"
            sed 's/^/    /' "$work/$name$v.err"
            fail=$((fail + 1))
            continue
        fi
        if compare "$work/$name$v.csv" "$golden"; then
            echo "ok: $name$v"
            pass=$((pass + 1))
        else
            echo "FAIL: $name$v differs from $golden (if intended: scripts/update-golden)"
            fail=$((fail + 1))
        fi
    done
done
for golden in tests/golden/*.csv; do
    file=$(basename "$golden" .csv)
    name=${file%%.*}
    v=${file#"$name"}
    if { [ ! -f "scenarios/$name.ini" ] && [ ! -f "scenarios/history/$name.ini" ]; } ||
        ! variant_args "$v" >/dev/null; then
        echo "FAIL: $golden has no scenarios/$name.ini (or history/) or an unknown variant (scripts/update-golden --prune)"
        fail=$((fail + 1))
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
