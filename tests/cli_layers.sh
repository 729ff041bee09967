#!/usr/bin/env bash
# cli_layers.sh - the layering of the code, read from the object files the
# build made: sim/core calls nothing of sim/io or sim/cli, sim/io nothing of
# sim/cli, no file of the command line calls back into a file that calls it
# (directly or around a loop), and no header includes itself through others.
#
# Usage: bash tests/cli_layers.sh path/to/resim   (from the repository root)
set -u
bin=${1:?usage: bash tests/cli_layers.sh path/to/resim}
objdir=$(dirname "$bin")/CMakeFiles
command -v nm >/dev/null || { echo "SKIP: no nm"; exit 0; }
/usr/bin/python3 - "$objdir" <<'PY'
import collections, glob, os, re, subprocess, sys

objdir = sys.argv[1]
layers = {"core": "resim_core.dir/sim/core", "io": "resim_io.dir/sim/io", "cli": "resim.dir/sim/cli"}
defs, uses, layer_of = {}, collections.defaultdict(set), {}
for layer, sub in layers.items():
    objs = glob.glob(os.path.join(objdir, sub, "*.o"))
    if not objs:
        print("FAIL: no object files in %s (build first)" % os.path.join(objdir, sub))
        sys.exit(1)
    for o in objs:
        name = layer + "/" + os.path.basename(o)[:-2]
        layer_of[name] = layer
        for line in subprocess.run(["nm", o], capture_output=True, text=True).stdout.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDRB":
                defs[p[2]] = name
            elif len(p) == 2 and p[0] == "U":
                uses[name].add(p[1])
bad = 0
rank = {"core": 0, "io": 1, "cli": 2}
graph = {}
for f in layer_of:
    graph[f] = sorted({defs[s] for s in uses[f] if s in defs and defs[s] != f})
    for g in graph[f]:
        if rank[layer_of[g]] > rank[layer_of[f]]:
            print("FAIL: %s calls %s (layers: core <- io <- cli)" % (f, g))
            bad += 1
state = {}
def visit(n, path):
    global bad
    state[n] = 1
    for m in graph[n]:
        if state.get(m) == 1:
            print("FAIL: call cycle " + " -> ".join(path[path.index(m):] + [m]))
            bad += 1
        elif m not in state:
            visit(m, path + [m])
    state[n] = 2
for f in sorted(graph):
    if f not in state:
        visit(f, [f])
# Includes between the command line's own headers and files.
inc = {}
for path in glob.glob("sim/cli/*.[ch]") + glob.glob("include/resim/*.h"):
    inc[path] = []
    for line in open(path):
        m = re.match(r'#include "([^"]+)"', line)
        if m:
            t = m.group(1)
            inc[path].append(os.path.join("include", t) if t.startswith("resim/") else os.path.join(os.path.dirname(path), t))
state = {}
def visit_inc(n, path):
    global bad
    state[n] = 1
    for m in inc.get(n, []):
        if state.get(m) == 1:
            print("FAIL: include cycle " + " -> ".join(path[path.index(m):] + [m]))
            bad += 1
        elif m not in state:
            visit_inc(m, path + [m])
    state[n] = 2
for f in sorted(inc):
    if f not in state:
        visit_inc(f, [f])
print("%d files, %s" % (len(graph), "layers and calls ok" if bad == 0 else "%d problems" % bad))
sys.exit(1 if bad else 0)
PY
