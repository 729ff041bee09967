"""`resim analyze` agrees with OpenTURNS and with analytic indices, through sweep CSVs.

Run from the repository root: python3 tests/py_openturns.py /path/to/resim
Builds Saltelli and Morris sweep CSVs here (the columns `resim sweep` writes:
point, matrix or trajectory/step, SECTION.KEY values, measures), with the
measure columns computed from Ishigami and Sobol' G, runs `resim analyze` on
them, and checks:

- S1 and ST equal OpenTURNS' MauntzKucherenkoSensitivityAlgorithm (first
  order: the Saltelli 2010 form) and JansenSensitivityAlgorithm (total) on the
  same sample matrices to 1e-9, and S2 equals MauntzKucherenko's second order;
- analytic Ishigami and G indices lie inside the bootstrap intervals;
- per-month series columns give per-month indices;
- Morris mu, mu*, sigma equal the elementary effects computed here;
- PRIM recovers a planted box;
- wrong designs and bad options fail with one line and the documented code.
"""
import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import openturns as ot
except ImportError:
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

RESIM = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/resim"
passed = failed = 0
A_ISH, B_ISH = 7.0, 0.1
G_A = [0, 1, 4.5, 9, 99, 99, 99, 99]


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def resim(*args):
    return subprocess.run([RESIM] + [str(a) for a in args], capture_output=True, text=True)


def ishigami(x, a=A_ISH, b=B_ISH):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_exact(a=A_ISH, b=B_ISH):
    v1 = 0.5 * (1 + b * math.pi ** 4 / 5) ** 2
    v2 = a * a / 8
    v13 = 8 * b * b * math.pi ** 8 / 225
    v = a * a / 8 + b * math.pi ** 4 / 5 + b * b * math.pi ** 8 / 18 + 0.5
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def sobol_g(u):
    return np.prod([(np.abs(4 * u[:, i] - 2) + G_A[i]) / (1 + G_A[i]) for i in range(u.shape[1])],
                   axis=0)


def g_exact(k):
    vi = [1 / (3 * (1 + G_A[i]) ** 2) for i in range(k)]
    prod = np.prod([1 + v for v in vi])
    v = prod - 1
    return [x / v for x in vi], [x * prod / (1 + x) / v for x in vi]


def saltelli_blocks(a, b, second):
    """A, B, AB_1.., BA_1.. (OpenTURNS' order)."""
    k = a.shape[1]
    blocks = [a, b]
    for i in range(k):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    if second:
        for i in range(k):
            ba = b.copy()
            ba[:, i] = a[:, i]
            blocks.append(ba)
    return blocks


def block_names(k, second):
    return ["A", "B"] + ["AB%d" % (i + 1) for i in range(k)] + (
        ["BA%d" % (i + 1) for i in range(k)] if second else [])


def write_saltelli_csv(path, keys, blocks, names, measures):
    """resim's layout: base sample j holds points j G .. j G + G - 1 in the
    order A, AB_1.., BA_1.., B; measures is a dict name -> list of output
    arrays, one per block."""
    n = blocks[0].shape[0]
    G = len(blocks)
    order = [0] + list(range(2, G)) + [1]
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["point", "matrix"] + keys + list(measures))
        for j in range(n):
            for pos, g in enumerate(order):
                row = [j * G + pos, names[g]] + [repr(float(v)) for v in blocks[g][j]]
                row += [repr(float(measures[m][g][j])) for m in measures]
                w.writerow(row)


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def analyze(path, *args):
    out = path + ".out.csv"
    res = resim("analyze", path, *args, "-o", out)
    rows = []
    if res.returncode == 0:
        with open(out) as f:
            rows = read_csv(f.read())
    return res, rows, out


def indices(rows, index, measure, date=""):
    got = {}
    for r in rows:
        if r["index"] == index and r["measure"] == measure and r["date"] == date:
            got[r["key"] if index != "S2" else (r["key"], r["key2"])] = r
    return got


def fnum(s):
    return float(s) if s != "" else float("nan")


tmp = tempfile.mkdtemp(prefix="resim-analyze-")
ot.RandomGenerator.SetSeed(1)
rng = np.random.default_rng(2385)

# --- 1. Same matrices as OpenTURNS: S1, ST (and S2) to 1e-9 ------------------
keys3 = ["x.x1", "x.x2", "x.x3"]
for second in (False, True):
    n, k = 600, 3
    a = rng.uniform(-math.pi, math.pi, (n, k))
    b = rng.uniform(-math.pi, math.pi, (n, k))
    blocks = saltelli_blocks(a, b, second)
    names = block_names(k, second)
    ys = [ishigami(x) for x in blocks]
    # A second measure on the same points, and a constant one (no variance).
    ys2 = [ishigami(x, 5.0, 0.2) + 0.3 * x[:, 2] for x in blocks]
    const = [np.full(n, 2.385) for _ in blocks]
    path = os.path.join(tmp, "saltelli%d.csv" % second)
    write_saltelli_csv(path, keys3, blocks, names,
                       {"Y_all_ishigami": ys, "Y_all_other": ys2, "Y_all_flat": const})
    args = ["--method", "sobol", "--bootstrap", 100]
    if second:
        args.append("--second-order")
    res, rows, out = analyze(path, *args)
    check("sobol%s: exit 0" % (" second order" if second else ""), res.returncode == 0,
          res.stderr)
    check("sobol: the constant measure is named in a warning",
          "1 of 3 measure columns are constant" in res.stderr, res.stderr)
    inp = ot.Sample(np.vstack(blocks))
    for meas, y in (("Y_all_ishigami", ys), ("Y_all_other", ys2)):
        outp = ot.Sample(np.concatenate(y).reshape(-1, 1))
        mk = ot.MauntzKucherenkoSensitivityAlgorithm(inp, outp, n)
        jan = ot.JansenSensitivityAlgorithm(inp, outp, n)
        ot_s1 = list(mk.getFirstOrderIndices())
        ot_st = list(jan.getTotalOrderIndices())
        s1 = indices(rows, "S1", meas)
        st = indices(rows, "ST", meas)
        d1 = max(abs(float(s1[kk]["value"]) - ot_s1[i]) for i, kk in enumerate(keys3))
        dt = max(abs(float(st[kk]["value"]) - ot_st[i]) for i, kk in enumerate(keys3))
        tag = "%s%s" % (meas, " (second-order design)" if second else "")
        check("%s: S1 = OpenTURNS MauntzKucherenko to 1e-9 (max diff %.2e)" % (tag, d1),
              d1 < 1e-9, str((s1, ot_s1)))
        check("%s: ST = OpenTURNS Jansen to 1e-9 (max diff %.2e)" % (tag, dt), dt < 1e-9)
        check("%s: estimators named" % tag,
              all(r["estimator"] == "saltelli2010" for r in s1.values()) and
              all(r["estimator"] == "jansen1999" for r in st.values()))
        if second:
            ot_s2 = mk.getSecondOrderIndices()
            s2 = indices(rows, "S2", meas)
            d2 = max(abs(float(s2[(keys3[i], keys3[j])]["value"]) - ot_s2[j, i])
                     for i in range(k) for j in range(i + 1, k))
            check("%s: S2 = OpenTURNS MauntzKucherenko second order to 1e-9 (max diff %.2e)"
                  % (tag, d2), d2 < 1e-9)
    flat = indices(rows, "S1", "Y_all_flat")
    check("sobol: a constant measure has empty indices",
          len(flat) == 3 and all(r["value"] == "" for r in flat.values()))
    # The same seed gives the same bytes, another seed other intervals.
    with open(out, "rb") as f:
        first = f.read()
    res2, _, out2 = analyze(path, *args)
    with open(out2, "rb") as f:
        check("sobol: same seed, same bytes", f.read() == first)
    res3, rows3, _ = analyze(path, *(args + ["--seed", "2"]))
    check("sobol: another seed, other intervals (same estimates)",
          [r["lo"] for r in rows3] != [r["lo"] for r in rows] and
          [r["value"] for r in rows3] == [r["value"] for r in rows])

with open(os.path.join(tmp, "saltelli1.csv.out.csv.json")) as f:
    side = json.load(f)
check("sobol: sidecar names the estimators and the bootstrap",
      side["kind"] == "analyze" and side["estimators"]["S1"] == "saltelli2010" and
      side["bootstrap"] == 100 and side["base_samples"] == 600 and side["second_order"], side)

# --- 2. Analytic values inside the bootstrap intervals ---------------------------
def sobol_points(n, d, skip=1):
    s = ot.SobolSequence(d)
    pts = np.array(s.generate(n + skip))[skip:]
    return pts


width = {}
for name, k, f, exact, lo, hi in (
        ("Ishigami", 3, ishigami, ishigami_exact(), -math.pi, math.pi),
        ("G", 8, sobol_g, g_exact(8), 0.0, 1.0)):
    for n in (512, 8192):
        u = sobol_points(n, 2 * k)
        a = lo + (hi - lo) * u[:, :k]
        b = lo + (hi - lo) * u[:, k:]
        blocks = saltelli_blocks(a, b, False)
        keys = ["x.x%d" % (i + 1) for i in range(k)]
        path = os.path.join(tmp, "%s%d.csv" % (name, n))
        write_saltelli_csv(path, keys, blocks, block_names(k, False),
                           {"Y_all_f": [f(x) for x in blocks]})
        res, rows, _ = analyze(path, "--method", "sobol", "--seed", "3")
        s1 = indices(rows, "S1", "Y_all_f")
        st = indices(rows, "ST", "Y_all_f")
        bad = []
        w = 0.0
        for i, kk in enumerate(keys):
            for tag, got, want in (("S1", s1[kk], exact[0][i]), ("ST", st[kk], exact[1][i])):
                if not float(got["lo"]) <= want <= float(got["hi"]):
                    bad.append("%s %s %s [%s, %s] exact %.4f" % (tag, kk, got["value"], got["lo"],
                                                                 got["hi"], want))
                w += float(got["hi"]) - float(got["lo"])
        width[(name, n)] = w / (2 * k)
        check("%s n=%d: analytic S1 and ST inside the 95%% intervals" % (name, n), not bad,
              "; ".join(bad))
    ratio = width[(name, 512)] / width[(name, 8192)]
    check("%s: intervals narrow about 4x for 16x the samples (%.2f)" % (name, ratio),
          2.5 < ratio < 6.5)

# --- 3. Time-resolved: one set of indices per month ------------------------------
n, k = 1024, 3
u = sobol_points(n, 2 * k)
a = -math.pi + 2 * math.pi * u[:, :k]
b = -math.pi + 2 * math.pi * u[:, k:]
blocks = saltelli_blocks(a, b, False)
months = ["2027-01", "2027-02", "2027-03"]
# Month 1 depends on x1 only, month 2 on x2 only, month 3 is Ishigami.
series = {"Tb_all_availability@2027-01": [np.sin(x[:, 0]) for x in blocks],
          "Tb_all_availability@2027-02": [x[:, 1] ** 2 for x in blocks],
          "Tb_all_availability@2027-03": [ishigami(x) for x in blocks],
          "Tb_all_cum_shortfall": [x[:, 2] for x in blocks]}
path = os.path.join(tmp, "series.csv")
write_saltelli_csv(path, keys3, blocks, block_names(k, False), series)
res, rows, _ = analyze(path, "--method", "sobol", "--measure", "Tb_all_availability",
                       "--bootstrap", "50")
check("series: exit 0", res.returncode == 0, res.stderr)
dates = sorted({r["date"] for r in rows})
check("series: one set of indices per month", dates == months and
      {r["measure"] for r in rows} == {"Tb_all_availability"} and len(rows) == 3 * 3 * 2, dates)
m1 = indices(rows, "S1", "Tb_all_availability", "2027-01")
m2 = indices(rows, "S1", "Tb_all_availability", "2027-02")
check("series: the lever that drives each month leads it",
      float(m1["x.x1"]["value"]) > 0.95 and float(m2["x.x2"]["value"]) > 0.95 and
      float(m1["x.x2"]["value"]) < 0.05)

# --- 4. Wrong designs and bad input ------------------------------------------------
grid = os.path.join(tmp, "grid.csv")
with open(grid, "w") as f:
    f.write("point,x.x1,x.x2,Y_all_f\n0,0.0,0.0,1.0\n1,0.0,1.0,2.0\n2,1.0,0.0,3.0\n3,1.0,1.0,4.0\n")
res = resim("analyze", grid, "--method", "sobol", "-o", os.path.join(tmp, "x.csv"))
check("grid for sobol: exit 1, one line naming the design needed",
      res.returncode == 1 and res.stderr.count("\n") == 1 and "matrix" in res.stderr and
      "--design saltelli" in res.stderr, res.stderr)
res = resim("analyze", grid, "--method", "morris", "-o", os.path.join(tmp, "x.csv"))
check("grid for morris: exit 1 naming trajectory and step",
      res.returncode == 1 and "trajectory" in res.stderr and "--design morris" in res.stderr,
      res.stderr)
check("no output file left behind", not os.path.exists(os.path.join(tmp, "x.csv")))
with open(os.path.join(tmp, "saltelli0.csv")) as f:
    lines = f.read().splitlines()
cut = os.path.join(tmp, "cut.csv")
with open(cut, "w") as f:
    f.write("\n".join(lines[:-1]) + "\n")
res = resim("analyze", cut, "--method", "sobol", "-o", os.path.join(tmp, "x.csv"))
check("missing row: exit 1, incomplete Saltelli sweep",
      res.returncode == 1 and "incomplete" in res.stderr and "matrix B" in res.stderr,
      res.stderr)
bad = lines[:]
fields = bad[3].split(",")
fields[2] = "0.125"
bad[3] = ",".join(fields)
broken = os.path.join(tmp, "broken.csv")
with open(broken, "w") as f:
    f.write("\n".join(bad) + "\n")
res = resim("analyze", broken, "--method", "sobol", "-o", os.path.join(tmp, "x.csv"))
check("altered AB row: exit 1, not a Saltelli design, with file and line",
      res.returncode == 1 and "not a Saltelli design" in res.stderr and "broken.csv:4" in
      res.stderr, res.stderr)
short = os.path.join(tmp, "short.csv")
with open(short, "w") as f:
    f.write("\n".join(lines[:5] + [lines[5].rsplit(",", 1)[0]]) + "\n")
res = resim("analyze", short, "--method", "sobol", "-o", os.path.join(tmp, "x.csv"))
check("short row: exit 1 naming the line and the field count",
      res.returncode == 1 and "short.csv:6:" in res.stderr and "fields" in res.stderr, res.stderr)
res = resim("analyze", path, "--method", "sobol", "--measure", "Tb_all_nothing", "-o",
            os.path.join(tmp, "x.csv"))
check("unknown measure: exit 1", res.returncode == 1 and "Tb_all_nothing" in res.stderr,
      res.stderr)
res = resim("analyze", path, "--method", "sobol", "--second-order", "-o",
            os.path.join(tmp, "x.csv"))
check("second order without BA matrices: exit 1", res.returncode == 1 and "BA1" in res.stderr,
      res.stderr)
for args, what in ((["--method", "anova"], "bad method"),
                   (["--method", "prim"], "prim without condition"),
                   (["--method", "prim", "--condition", "Tb_all_cum_shortfall = 3"], "bad op"),
                   (["--method", "prim", "--condition", "Tb_all_cum_shortfall < x"], "bad value"),
                   (["--method", "sobol", "--density", "0.5"], "prim option for sobol"),
                   (["--method", "sobol", "--bootstrap", "-3"], "negative bootstrap"),
                   (["--method", "morris", "--levels", "5"], "odd levels"),
                   ([], "no method")):
    res = resim("analyze", path, *args, "-o", os.path.join(tmp, "x.csv"))
    check("usage error (%s): exit 2, one line" % what,
          res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr)
res = resim("analyze", os.path.join(tmp, "none.csv"), "--method", "sobol")
check("missing file: exit 1 naming it", res.returncode == 1 and "none.csv" in res.stderr)

# --- 5. Morris: effects as computed here, ranking known ----------------------------
R, k, P = 30, 4, 4
delta = P / (2 * (P - 1))
levels = np.arange(P) / (P - 1)
rows_m = []
traj_pts = []
for t in range(R):
    base = rng.integers(0, P // 2, k) / (P - 1)
    up = rng.integers(0, 2, k) == 1
    x = np.where(up, base, base + delta)
    order = rng.permutation(k)
    pts = [x.copy()]
    for i in order:
        x = x.copy()
        x[i] += delta if up[i] else -delta
        pts.append(x)
    traj_pts.append((order, pts))


def morris_f(x):
    return 10 * x[0] - 5 * x[1] + 2 * x[2] * x[3]


mpath = os.path.join(tmp, "morris.csv")
with open(mpath, "w") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["point", "trajectory", "step", "a.k1", "a.k2", "a.k3", "a.k4", "Y_all_f"])
    p = 0
    for t, (order, pts) in enumerate(traj_pts):
        for s, x in enumerate(pts):
            w.writerow([p, t, s] + [repr(float(v)) for v in x] + [repr(float(morris_f(x)))])
            p += 1
res, rows, _ = analyze(mpath, "--method", "morris", "--levels", P, "--bootstrap", 200)
check("morris: exit 0", res.returncode == 0, res.stderr)
ee = np.zeros((R, k))
for t, (order, pts) in enumerate(traj_pts):
    for s, i in enumerate(order):
        step = pts[s + 1][i] - pts[s][i]
        ee[t, i] = (morris_f(pts[s + 1]) - morris_f(pts[s])) / (delta if step > 0 else -delta)
got = {r["key"]: r for r in rows}
keys4 = ["a.k1", "a.k2", "a.k3", "a.k4"]
err = max(max(abs(float(got[kk]["mu"]) - ee[:, i].mean()),
              abs(float(got[kk]["mu_star"]) - np.abs(ee[:, i]).mean()),
              abs(float(got[kk]["sigma"]) - ee[:, i].std(ddof=1))) for i, kk in enumerate(keys4))
check("morris: mu, mu*, sigma equal the effects computed here (max diff %.1e)" % err, err < 1e-12)
ms = [float(got[kk]["mu_star"]) for kk in keys4]
check("morris: mu* ranks k1 > k2 > k3, k4", ms[0] > ms[1] > max(ms[2], ms[3]), ms)
check("morris: estimator named and interval around mu*",
      all(r["estimator"] == "morris1991" and float(r["mu_star_lo"]) <= float(r["mu_star"])
          <= float(r["mu_star_hi"]) for r in rows))

# --- 6. PRIM: a planted box --------------------------------------------------------
N = 3000
x = rng.uniform(0, 1, (N, 3))
y = np.where((x[:, 0] > 0.3) & (x[:, 0] < 0.7) & (x[:, 1] < 0.4), 0.5, 0.95)
y = y + rng.normal(0, 0.01, N)
ppath = os.path.join(tmp, "lhs.csv")
with open(ppath, "w") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["point", "policy.a", "policy.b", "policy.c", "Dy_all_min_availability",
                "Dy_all_first_below"])
    for p in range(N):
        w.writerow([p] + [repr(float(v)) for v in x[p]] + [repr(float(y[p])),
                                                           "" if p % 2 else "12"])
res, rows, pout = analyze(ppath, "--method", "prim", "--condition",
                          "Dy_all_min_availability < 0.8", "--density", "0.9")
check("prim: exit 0", res.returncode == 0, res.stderr)
box = [r for r in rows if r["phase"] == "box"]
chosen = [r for r in rows if r["chosen"] == "1" and r["phase"] != "box"]
check("prim: one chosen box and its whole-data row", len(box) == 1 and len(chosen) == 1)
if box:
    bx = box[0]
    check("prim: coverage and density >= 0.9 (%s, %s)" % (bx["coverage"], bx["density"]),
          float(bx["coverage"]) >= 0.9 and float(bx["density"]) >= 0.9)
    check("prim: policy.c unrestricted, policy.a and policy.b near the planted limits",
          bx["lo:policy.c"] == "" and bx["hi:policy.c"] == "" and
          abs(fnum(bx["lo:policy.a"]) - 0.3) < 0.03 and abs(fnum(bx["hi:policy.a"]) - 0.7) < 0.03
          and bx["lo:policy.b"] == "" and abs(fnum(bx["hi:policy.b"]) - 0.4) < 0.03, bx)
    inside = (x[:, 0] >= fnum(bx["lo:policy.a"])) & (x[:, 0] <= fnum(bx["hi:policy.a"])) & \
        (x[:, 1] <= fnum(bx["hi:policy.b"]))
    hit = y < 0.8
    check("prim: the box's coverage and density recomputed here agree",
          abs((inside & hit).sum() / hit.sum() - float(bx["coverage"])) < 1e-12 and
          abs((inside & hit).sum() / inside.sum() - float(bx["density"])) < 1e-12)
    check("prim: trajectory starts at the whole data",
          rows[0]["phase"] == "start" and rows[0]["coverage"] == "1.0" and
          rows[0]["restricted"] == "0")
res = resim("analyze", ppath, "--method", "prim", "--condition", "Dy_all_first_below <= 12",
            "-o", os.path.join(tmp, "p2.csv"))
check("prim: a condition on a column with empty cells runs", res.returncode == 0, res.stderr)
res = resim("analyze", ppath, "--method", "prim", "--condition", "Dy_all_min_availability < 0",
            "-o", os.path.join(tmp, "p3.csv"))
check("prim: no box reachable is a warning, the trajectory is still written",
      res.returncode == 0 and "no box reaches density" in res.stderr and
      os.path.exists(os.path.join(tmp, "p3.csv")), res.stderr)
res = resim("analyze", ppath, "--method", "prim", "--condition", "Dy_all_nothing < 0.8",
            "-o", os.path.join(tmp, "p4.csv"))
check("prim: unknown condition measure: exit 1", res.returncode == 1 and
      "Dy_all_nothing" in res.stderr, res.stderr)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
