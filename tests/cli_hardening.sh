#!/usr/bin/env bash
# cli_hardening.sh - outputs, sidecars, readers and merge under hostile conditions.
#
# Usage: bash tests/cli_hardening.sh path/to/resim   (from the repository root)
#
# Outputs: file modes follow the umask; character devices and FIFOs are
# written directly and never replaced; a full device is an error; links are
# followed; a link planted at FILE.partial is not; an output and its sidecar
# are committed together or not at all; SIGTERM leaves no temporary file.
# Sidecars: valid JSON for any bytes; the scenario hash is of the bytes
# parsed. Readers: BOM, NUL bytes, bad element symbols, indented keys and
# non-UTF-8 text. merge: field counts, unreadable shards, more shards than
# open files allowed. --quantiles: long lists and colliding column names.
# Devices are made with mknod in a scratch directory (root), never /dev's own.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 path/to/resim" >&2
    exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(pwd)
fx=$root/tests/fixtures
[ -d "$fx/data" ] || { echo "run from the repository root (no $fx/data)" >&2; exit 2; }
py=/usr/bin/python3
[ -x "$py" ] || py=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/resim_hardening.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
no() {
    fail=$((fail + 1))
    echo "FAIL $1"
    if [ -s "$work/err" ]; then sed 's/^/    stderr: /' "$work/err" | head -5; fi
}
check() { # name command...
    local name=$1
    shift
    if "$@"; then ok "$name"; else no "$name"; fi
}

fresh() {
    rm -rf "$work/s" "$work/o"
    mkdir -p "$work/s" "$work/o"
    cp -r "$fx/data" "$work/s/data"
    cp "$fx/flat.ini" "$work/s/s.ini"
}
S=$work/s/s.ini
D=$work/s/data
O=$work/o

# expect_error NAME WHERE PATTERN [run args...]: exit 1, one line naming WHERE
# and matching PATTERN, nothing left in $O.
expect_error() {
    local name=$1 where=$2 pattern=$3
    shift 3
    "$bin" run "$@" -o "$O/x.csv" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ $rc -ne 1 ]; then
        no "$name: exit $rc, expected 1"
    elif [ "$(wc -l <"$work/err")" -ne 1 ]; then
        no "$name: $(wc -l <"$work/err") lines on stderr, expected 1"
    elif ! grep -qF -- "$where" "$work/err"; then
        no "$name: stderr does not name '$where'"
    elif ! grep -qi -- "$pattern" "$work/err"; then
        no "$name: stderr does not say '$pattern'"
    elif [ -n "$(ls -A "$O")" ]; then
        no "$name: left files behind: $(ls -A "$O" | tr '\n' ' ')"
    else
        ok "$name ($(cat "$work/err"))"
    fi
}

valid_json() { "$py" -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$1" 2>/dev/null; }
mode_of() { stat -c %a "$1"; }

# ---------------------------------------------------------------- modes
fresh
(umask 022 && "$bin" run "$S" -o "$O/a.csv" 2>"$work/err")
check "umask 022: output 644" test "$(mode_of "$O/a.csv")" = 644
check "umask 022: sidecar 644" test "$(mode_of "$O/a.csv.json")" = 644
(umask 027 && "$bin" run "$S" --replicates 3 -o "$O/e.csv" --raw "$O/r.csv" 2>"$work/err")
check "umask 027: ensemble output, raw and sidecar 640" \
    test "$(mode_of "$O/e.csv")$(mode_of "$O/r.csv")$(mode_of "$O/e.csv.json")" = 640640640
(umask 002 && "$bin" sweep "$S" --vary policy.approval.watch=0:1:2 -o "$O/w.csv" 2>"$work/err")
check "umask 002: sweep output and sidecar 664" \
    test "$(mode_of "$O/w.csv")$(mode_of "$O/w.csv.json")" = 664664

# ---------------------------------------------------------------- devices, FIFOs, links
fresh
if mknod "$work/null" c 1 3 2>/dev/null && mknod "$work/full" c 1 7 2>/dev/null; then
    "$bin" run "$S" -o "$work/null" >"$work/out" 2>"$work/err"
    rc=$?
    check "-o a null device: exit 0" test $rc = 0
    check "-o a null device: still a character device" test -c "$work/null"
    check "-o a null device: no sidecar written beside it" test ! -e "$work/null.json"
    check "-o a null device: no temporary file" test -z "$(ls "$work" | grep '\.tmp\.')"
    "$bin" run "$S" --replicates 2 -o "$O/e.csv" --raw "$work/null" >"$work/out" 2>"$work/err"
    check "--raw a null device: exit 0, device kept, summary written" \
        test $? = 0 -a -c "$work/null" -a -s "$O/e.csv" -a -s "$O/e.csv.json"
    "$bin" run "$S" -o "$work/full" >"$work/out" 2>"$work/err"
    rc=$?
    check "-o a full device: exit 1" test $rc = 1
    check "-o a full device: says no space" grep -q "No space left on device" "$work/err"
    check "-o a full device: still a character device" test -c "$work/full"
    "$bin" run "$S" --replicates 2 -o "$O/f.csv" --raw "$work/full" >"$work/out" 2>"$work/err"
    check "--raw a full device: exit 1 and no summary committed" \
        test $? = 1 -a ! -e "$O/f.csv" -a ! -e "$O/f.csv.json"
else
    echo "skip device tests (mknod not permitted)"
fi
# /proc/self/fd/1 first: a binary that renamed over it would fail harmlessly.
lines=$("$bin" run "$S" -o /proc/self/fd/1 2>"$work/err" | wc -l)
check "-o /proc/self/fd/1 streams the CSV" test "$lines" -gt 10
if [ $fail -eq 0 ] && [ -L /dev/stdout ]; then
    # Only once devices are known to be written in place: /dev/stdout is
    # shared by the whole machine.
    lines=$("$bin" run "$S" -o /dev/stdout 2>"$work/err" | wc -l)
    check "-o /dev/stdout streams the CSV" test "$lines" -gt 10 -a -L /dev/stdout
    check "-o /dev/stdout: no sidecar" test ! -e /dev/stdout.json
fi
mkfifo "$work/fifo"
timeout 20 cat "$work/fifo" >"$work/fifo.out" &
reader=$!
timeout 20 "$bin" run "$S" -o "$work/fifo" 2>"$work/err"
rc=$?
wait $reader
check "-o a FIFO: exit 0, rows arrive, FIFO kept" \
    test $rc = 0 -a "$(wc -l <"$work/fifo.out")" -gt 10 -a -p "$work/fifo"
"$bin" run "$S" -o "$O/plain.csv" 2>/dev/null
ln -s target.csv "$O/link.csv"
"$bin" run "$S" -o "$O/link.csv" 2>"$work/err"
check "-o a link: the link is kept" test -L "$O/link.csv"
check "-o a link: the file it names is written" cmp -s "$O/plain.csv" "$O/target.csv"
mkdir "$O/sub"
ln -s ../victim.csv "$O/sub/rel.csv"
"$bin" run "$S" -o "$O/sub/rel.csv" 2>"$work/err"
check "-o a relative link in another directory: followed from the link's directory" \
    cmp -s "$O/plain.csv" "$O/victim.csv"
ln -s "$O/nodir/x.csv" "$O/dangling.csv"
"$bin" run "$S" -o "$O/dangling.csv" >"$work/out" 2>"$work/err"
check "-o a link into a missing directory: exit 1, one line" \
    test $? = 1 -a "$(wc -l <"$work/err")" = 1

# A link planted at FILE.partial must not be followed.
fresh
echo "precious" >"$O/victim"
ln -s "$O/victim" "$O/w.csv.partial"
"$bin" sweep "$S" --vary policy.approval.watch=0:1:2 -o "$O/w.csv" >"$work/out" 2>"$work/err"
rc=$?
check "sweep: a link at FILE.partial is refused (exit 1)" test $rc = 1
check "sweep: the file the planted link names is untouched" test "$(cat "$O/victim")" = precious
"$bin" sweep "$S" --vary policy.approval.watch=0:1:2 --resume -o "$O/w.csv" >"$work/out" 2>"$work/err"
check "sweep --resume: a link at FILE.partial is refused" \
    test $? = 1 -a "$(cat "$O/victim")" = precious
rm "$O/w.csv.partial"
if [ -e "$work/null" ]; then
    "$bin" sweep "$S" --vary policy.approval.watch=0:1:2 -o "$work/null" >"$work/out" 2>"$work/err"
    check "sweep -o a device: refused, device kept, no partial file" \
        test $? = 1 -a -c "$work/null" -a ! -e "$work/null.partial"
fi

# Two sweeps to one output: the second is refused while the first runs.
fresh
J=$root/scenarios/japan-2026.ini
slow=(--vary policy.approval.watch=0:1:40 --replicates 20)
"$bin" sweep "$J" "${slow[@]}" -o "$O/l.csv" >/dev/null 2>&1 &
first=$!
for _ in $(seq 100); do
    [ -s "$O/l.csv.partial" ] && break
    sleep 0.1
done
"$bin" sweep "$J" "${slow[@]}" -o "$O/l.csv" >"$work/out" 2>"$work/err"
rc=$?
"$bin" sweep "$J" "${slow[@]}" --resume -o "$O/l.csv" >"$work/out" 2>"$work/err2"
rc2=$?
running=0
kill -0 $first 2>/dev/null && running=1
kill -TERM $first 2>/dev/null
wait $first
check "second sweep to the same output while the first runs: refused (locked)" \
    test $running = 1 -a $rc = 1 -a "$(grep -c 'locked' "$work/err")" = 1
check "second sweep with --resume while the first runs: refused (locked)" \
    test $rc2 = 1 -a "$(grep -c 'locked' "$work/err2")" = 1
"$bin" sweep "$S" --vary policy.approval.watch=0:1:2 -o "$O/l2.csv" 2>/dev/null
"$bin" sweep "$S" --vary policy.approval.watch=0:1:2 --resume -o "$O/l2.csv" 2>"$work/err"
check "no lock is left behind: the same output again works" test $? = 0

# ---------------------------------------------------------------- both or neither
fresh
"$bin" run "$S" -o "$O/a.csv" 2>/dev/null
cp "$O/a.csv" "$work/a.before"
echo '{"old": true}' >"$O/a.csv.json.keep"
mv "$O/a.csv.json" "$work/a.json.before"
mkdir "$O/a.csv.json" # the sidecar cannot be written
"$bin" run "$S" --set demand.growth.Dy=0.05 -o "$O/a.csv" >"$work/out" 2>"$work/err"
rc=$?
check "sidecar cannot be written: exit 1" test $rc = 1
check "sidecar cannot be written: the old CSV is kept" cmp -s "$O/a.csv" "$work/a.before"
rmdir "$O/a.csv.json"
"$bin" run "$S" --set demand.growth.Dy=0.05 -o "$O/new.csv.json/x.csv" >/dev/null 2>&1
mkdir "$O/n.csv.json"
"$bin" run "$S" -o "$O/n.csv" >"$work/out" 2>"$work/err"
check "sidecar cannot be written: no new CSV" test $? = 1 -a ! -e "$O/n.csv"
"$bin" run "$S" --replicates 2 -o "$O/n.csv" --raw "$O/n.raw.csv" >"$work/out" 2>"$work/err"
check "ensemble sidecar cannot be written: neither summary nor raw" \
    test $? = 1 -a ! -e "$O/n.csv" -a ! -e "$O/n.raw.csv"
mkdir "$O/w.csv.json"
"$bin" sweep "$S" --vary policy.approval.watch=0:1:2 -o "$O/w.csv" >"$work/out" 2>"$work/err"
check "sweep sidecar cannot be written: no CSV, the partial file kept for --resume" \
    test $? = 1 -a ! -e "$O/w.csv" -a -s "$O/w.csv.partial"
check "no temporary files left by failed commits" test -z "$(find "$O" -name '*.tmp.*' -o -name '*.bak.*')"

# ---------------------------------------------------------------- signals
# The raw output is a FIFO nobody reads, so the run waits there with its
# summary's temporary file open. A background job of a script ignores
# SIGINT; the wrapper restores the default as an interactive shell would.
fresh
mkfifo "$O/raw.fifo"
dfl() { exec "$py" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$@"; }
for sig in TERM INT; do
    dfl "$bin" run "$S" --replicates 2 -o "$O/e.csv" --raw "$O/raw.fifo" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        [ -n "$(ls "$O" | grep '\.tmp\.')" ] && break
        sleep 0.1
    done
    had=$(ls "$O" | grep -c '\.tmp\.')
    kill -$sig $pid
    for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    kill -KILL $pid 2>/dev/null
    wait $pid
    rc=$?
    want=$((128 + $(kill -l $sig)))
    check "SIG$sig while writing: a temporary file existed" test "$had" -ge 1
    check "SIG$sig: exit status of the signal ($want)" test $rc = $want
    check "SIG$sig: no FILE.tmp.XXXXXX left" test -z "$(ls "$O" | grep '\.tmp\.')"
done

# ---------------------------------------------------------------- sidecar contents
fresh
sed -i "s|^data = data|data = $D|" "$S"
want=$(sha256sum "$S" | cut -d' ' -f1)
"$bin" run <(cat "$S") -o "$O/p.csv" 2>"$work/err"
got=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["scenario"]["sha256"])' "$O/p.csv.json" 2>/dev/null)
check "sidecar hashes the scenario bytes parsed (read from a pipe)" test "$got" = "$want"
bad=$(printf 'o\377\376.csv')
(cd "$O" && "$bin" run "$S" -o "$bad" 2>"$work/err")
check "non-UTF-8 output name: sidecar is valid JSON" valid_json "$O/$bad.json"
check "non-UTF-8 bytes become U+FFFD" grep -q "$(printf '\357\277\275')" "$O/$bad.json"
"$bin" run "$S" --set "scenario.name=caf$(printf '\351')" -o "$O/c.csv" >"$work/out" 2>"$work/err"
rc=$?
check "non-UTF-8 --set value refused: exit 2, one line naming the key, no output" \
    test "$rc" = 2 -a "$(wc -l <"$work/err")" = 1 -a ! -e "$O/c.csv" -a ! -e "$O/c.csv.json"
check "non-UTF-8 --set value: the message names [scenario] name" grep -q '\[scenario\] name: the value is not UTF-8 text' "$work/err"
"$bin" run "$S" --set "scen$(printf '\351')rio.name=x" -o "$O/c.csv" >"$work/out" 2>"$work/err"
rc=$?
check "non-UTF-8 --set key refused (exit 2)" test "$rc" = 2 -a ! -e "$O/c.csv"

# ---------------------------------------------------------------- readers
fresh
printf '\357\273\277' | cat - "$D/elements.csv" >"$work/e" && mv "$work/e" "$D/elements.csv"
"$bin" run "$S" -o "$O/b.csv" >"$work/out" 2>"$work/err"
check "UTF-8 BOM at the start of a data CSV is skipped" test $? = 0 -a -s "$O/b.csv"
rm -f "$O"/*
fresh
sed -i 's/^Tb,Terbium/"T,b",Terbium/' "$D/elements.csv"
expect_error "element symbol with a comma is refused" "$D/elements.csv:3:" "symbol" "$S"
fresh
sed -i 's/^Tb,Terbium/T" b,Terbium/' "$D/elements.csv"
expect_error "element symbol with a quote is refused" "$D/elements.csv:3:" "" "$S"
fresh
printf 'imp_z,Importer Z,none,0.5,0.1,2,0\0,0,0\n' >>"$D/importers.csv"
n=$(wc -l <"$D/importers.csv")
expect_error "NUL byte in a data CSV is reported as such" "$D/importers.csv:$n:" "NUL" "$S"
fresh
printf '[alt]\nsrc_tb.growth = 0\0\n' >>"$S"
n=$(wc -l <"$S")
expect_error "NUL byte in the scenario is reported as such" "$S:$n:" "NUL" "$S"
fresh
printf '\tmonths = 12\n' >"$work/tab"
sed -i "/^name = flat/r $work/tab" "$S"
n=$(grep -n "^	months = 12" "$S" | cut -d: -f1)
expect_error "tab-indented key is reported on its own line" "$S:$n:" "indented key" "$S"
fresh
sed -i "s/^name = flat/name = fl$(printf '\351')t/" "$S"
n=$(grep -an "^name = " "$S" | cut -d: -f1)
expect_error "non-UTF-8 scenario name is refused" "$S:$n:" "UTF-8" "$S"
fresh
printf '; caf\351 in a comment is fine\n' >>"$S"
"$bin" run "$S" -o "$O/c.csv" >"$work/out" 2>"$work/err"
check "non-UTF-8 in a comment is ignored" test $? = 0
fresh
printf '[scenario]\n  name = x\n' >"$work/lead.ini"
sed -n '3,$p' "$S" | grep -v "^name" >>"$work/lead.ini"
cp "$work/lead.ini" "$S"
"$bin" check "$S" >"$work/out" 2>"$work/err"
check "an indented first key of a section still reads (no key above it)" test $? = 0
fresh
printf '[events]\n2025-06.policy.approval.watch = 0.5\n    continued text\n' >/dev/null
"$bin" check "$root/scenarios/japan-2026.ini" >"$work/out" 2>"$work/err"
check "shipped scenarios with continuation lines still read" test $? = 0

# ---------------------------------------------------------------- merge
fresh
for k in 1 2 3; do
    "$bin" sweep "$S" --vary policy.approval.watch=0:1:9 --shard $k/3 -o "$O/s$k.csv" 2>/dev/null
done
"$bin" sweep "$S" --vary policy.approval.watch=0:1:9 -o "$O/one.csv" 2>/dev/null
cp "$O/s2.csv" "$work/s2"
sed -i '3s/,[^,]*$//' "$O/s2.csv"
"$bin" merge "$O/s1.csv" "$O/s2.csv" "$O/s3.csv" -o "$O/m.csv" >"$work/out" 2>"$work/err"
check "merge: a row with too few fields is refused naming file and line" \
    test $? = 1 -a ! -e "$O/m.csv" -a "$(grep -c "$O/s2.csv:3:.*fields" "$work/err")" = 1
cp "$work/s2" "$O/s2.csv"
sed -i '2s/$/,9/' "$O/s2.csv"
"$bin" merge "$O/s1.csv" "$O/s2.csv" "$O/s3.csv" -o "$O/m.csv" >"$work/out" 2>"$work/err"
check "merge: a row with too many fields is refused" \
    test $? = 1 -a "$(grep -c "$O/s2.csv:2:.*fields" "$work/err")" = 1
cp "$work/s2" "$O/s2.csv"
"$bin" merge "$O/s1.csv" "$O/nothere.csv" -o "$O/m.csv" >"$work/out" 2>"$work/err"
check "merge: a missing shard says why" grep -q "nothere.csv: cannot open shard: No such file" "$work/err"
rm -f "$O"/s*.csv* "$O/m.csv"*
N=80
for k in $(seq 1 $N); do
    "$bin" sweep "$S" --vary policy.approval.watch=0:1:100 --shard $k/$N -o "$O/s$k.csv" 2>/dev/null
done
"$bin" sweep "$S" --vary policy.approval.watch=0:1:100 -o "$O/one.csv" 2>/dev/null
(ulimit -n 64 && "$bin" merge $(ls "$O"/s*.csv | sort -R) -o "$O/m.csv" >"$work/out" 2>"$work/err")
check "merge: $N shards under ulimit -n 64 == one process" cmp -s "$O/one.csv" "$O/m.csv"
check "merge: no scratch files left" test -z "$(ls "$O" | grep '\.merge\.')"
cp "$O/s7.csv" "$O/dup.csv"
(ulimit -n 64 && "$bin" merge "$O"/s*.csv "$O/dup.csv" -o "$O/m2.csv" >"$work/out" 2>"$work/err")
check "merge: an overlap found across groups names both shards" \
    test $? = 1 -a "$(grep -c "dup.csv:2: point 6 is also in $O/s7.csv (line 2)" "$work/err")" = 1
check "merge: no scratch files left after an error" test -z "$(ls "$O" | grep '\.merge\.')"
if [ -c "$work/full" ]; then
    "$bin" merge "$O"/s*.csv -o "$work/full" >"$work/out" 2>"$work/err"
    check "merge -o a full device: exit 1, says no space, device kept" \
        test $? = 1 -a "$(grep -c 'No space left on device' "$work/err")" = 1 -a -c "$work/full"
fi

# ---------------------------------------------------------------- huge list moves
# Counts beyond the number of importers move them all; in a sanitized build a
# cast of 1e20 to an integer would stop the run.
fresh
"$bin" run "$S" --set 2025-03.list.add.control=1e20 -o "$O/h.csv" >"$work/out" 2>"$work/err"
check "list.add of 1e20 importers: runs, warns that only some could move" \
    test $? = 0 -a "$(grep -c 'importers could move' "$work/err")" = 1
printf '[list_process]\nadd.control.rate = 1e6\nadd.control.batch = 1e20\n' >>"$S"
timeout 120 "$bin" run "$S" --replicates 2 -o "$O/p.csv" >"$work/out" 2>"$work/err"
check "[list_process] rate 1e6 and batch 1e20: the ensemble finishes" test $? = 0 -a -s "$O/p.csv"
# A rate above the lever table's 1e6 a year is refused (tests/cli_resolve_limits.sh).

# ---------------------------------------------------------------- --quantiles
fresh
long=$(printf '0.10000000000000000000000000000000000000001,%.0s' $(seq 14))0.9
"$bin" run "$S" --replicates 2 --quantiles "$long" -o "$O/q.csv" >"$work/out" 2>"$work/err"
check "--quantiles longer than the buffer: usage error, not cut" \
    test $? = 2 -a "$(grep -c "longer than" "$work/err")" = 1
"$bin" run "$S" --replicates 2 --quantiles 0.1234561,0.1234562 -o "$O/q.csv" >"$work/out" 2>"$work/err"
check "--quantiles naming the same column twice: usage error" \
    test $? = 2 -a "$(grep -c "both name columns" "$work/err")" = 1
"$bin" sweep "$S" --vary policy.approval.watch=0:1:2 --replicates 2 --quantiles 0.1234561,0.1234562 \
    -o "$O/q.csv" >"$work/out" 2>"$work/err"
check "sweep --quantiles naming the same column twice: usage error" test $? = 2

echo "cli_hardening: $pass passed, $fail failed"
[ $fail -eq 0 ]
