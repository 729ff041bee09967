"""scripts/plot_analysis.py draws what `resim analyze` wrote: checked on the figures' content.

Run from the repository root: python3 tests/py_plot_analysis.py /path/to/resim
Builds small Saltelli, Morris and Latin-hypercube sweep CSVs (the columns
`resim sweep` writes), runs `resim analyze` on them, and inspects the
matplotlib figures: bar lengths and order, error bars, one line per key over
the dates, the PRIM trade-off points and the chosen box's limits.
"""
import csv
import math
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import pandas as pd
except ImportError:
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

sys.path.insert(0, os.path.abspath("scripts"))
import plot_analysis as pa  # noqa: E402

RESIM = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/resim"
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def analyze(src, *args):
    out = src + ".out.csv"
    res = subprocess.run([RESIM, "analyze", src] + [str(a) for a in args] + ["-o", out],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit("resim analyze failed: " + res.stderr)
    return out


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


tmp = tempfile.mkdtemp(prefix="resim-plot-analysis-")
rng = np.random.default_rng(5)
keys = ["policy.approval", "policy.delay", "lynas.start"]

# --- Sobol: y = 4 x1 + 2 x2 + 0 x3 (S1 = 16/20, 4/20, 0), and a monthly series
n, k = 2048, 3
a = rng.uniform(0, 1, (n, k))
b = rng.uniform(0, 1, (n, k))
blocks = [("A", a)]
for i in range(k):
    ab = a.copy()
    ab[:, i] = b[:, i]
    blocks.append(("AB%d" % (i + 1), ab))
blocks.append(("B", b))
months = ["2026-01", "2026-02", "2026-03", "2026-04"]


def measures(x):
    out = {"Tb_all_cum_shortfall": 4 * x[:, 0] + 2 * x[:, 1]}
    for t, m in enumerate(months):
        # The weight moves from x1 to x3 over the months.
        w = t / (len(months) - 1)
        out["Tb_all_availability@" + m] = (1 - w) * x[:, 0] + w * x[:, 2]
    return out


src = os.path.join(tmp, "saltelli.csv")
with open(src, "w") as f:
    w = csv.writer(f, lineterminator="\n")
    names = list(measures(a))
    w.writerow(["point", "matrix"] + keys + names)
    ys = [measures(x) for _, x in blocks]
    for j in range(n):
        for g, (mname, x) in enumerate(blocks):
            w.writerow([j * len(blocks) + g, mname] + [repr(float(v)) for v in x[j]] +
                       [repr(float(ys[g][c][j])) for c in names])
sob = analyze(src, "--method", "sobol", "--bootstrap", 200)
kind, df = pa.read(sob)
check("sobol output recognised", kind == "sobol")

fig = pa.indices_figure(df, "Tb_all_cum_shortfall")
ax = fig.axes[0]
labels = [t.get_text() for t in ax.get_yticklabels()]
check("indices: one tick per key, largest ST on top",
      labels == ["lynas.start", "policy.delay", "policy.approval"], labels)
rects = [p for p in ax.patches]
check("indices: two bars per key (S1 and ST)", len(rects) == 6, len(rects))
legend = [t.get_text() for t in ax.get_legend().get_texts()]
check("indices: legend names S1 and ST", legend == ["total ST", "first order S1"], legend)
# Bar lengths are the CSV values, in the sorted order.
sel = df[(df["measure"] == "Tb_all_cum_shortfall")]
st = sel[sel["index"] == "ST"].set_index("key")["value"]
widths_st = [r.get_width() for r in rects[:3]]
check("indices: ST bar lengths are the CSV values in sorted order",
      np.allclose(widths_st, [st[kk] for kk in labels]), (widths_st, list(st)))
check("indices: the values match the function (S1 x1 ~ 0.8)",
      abs(st["policy.approval"] - 0.8) < 0.1)
errlines = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"]
segs = np.concatenate([c.get_segments() for c in errlines]) if errlines else []
lo = sel[sel["index"] == "ST"].set_index("key")["lo"]
hi = sel[sel["index"] == "ST"].set_index("key")["hi"]
want = sorted((lo[kk], hi[kk]) for kk in keys)
got = sorted((min(s[0][0], s[1][0]), max(s[0][0], s[1][0])) for s in segs)
check("indices: error bars span the bootstrap intervals",
      len(segs) == 6 and all(any(abs(g[0] - w_[0]) < 1e-12 and abs(g[1] - w_[1]) < 1e-12
                                 for g in got) for w_ in want), (got, want))
check("indices: title names the measure and estimators",
      "Tb_all_cum_shortfall" in ax.get_title() and "saltelli2010" in ax.get_title() and
      "jansen1999" in ax.get_title(), ax.get_title())

fig = pa.time_resolved_figure(df, "Tb_all_availability", "S1")
ax = fig.axes[0]
lines = ax.get_lines()
check("over time: one line per key", [ln.get_label() for ln in lines] == keys,
      [ln.get_label() for ln in lines])
check("over time: one point per month", all(len(ln.get_xdata()) == 4 for ln in lines))
y1 = lines[0].get_ydata()
y3 = lines[2].get_ydata()
check("over time: the first key fades and the third rises",
      y1[0] > 0.9 and y1[-1] < 0.1 and y3[0] < 0.1 and y3[-1] > 0.9, (y1, y3))
check("over time: intervals shaded per key", len(ax.collections) == 3)
check("over time: axis labels", ax.get_xlabel() == "month" and "S1" in ax.get_ylabel())
try:
    pa.time_resolved_figure(df, "Tb_all_cum_shortfall")
    check("over time: a scalar measure is refused", False)
except pa.ChartError:
    check("over time: a scalar measure is refused", True)

# --- Morris -------------------------------------------------------------------
R, P, d = 20, 4, 2 / 3
src = os.path.join(tmp, "morris.csv")
with open(src, "w") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["point", "trajectory", "step"] + keys + ["Dy_all_cum_shortfall"])
    p = 0
    for t in range(R):
        up = rng.integers(0, 2, k) == 1
        x = np.where(up, rng.integers(0, 2, k) / 3, rng.integers(0, 2, k) / 3 + d)
        pts = [x]
        for i in rng.permutation(k):
            x = x.copy()
            x[i] += d if up[i] else -d
            pts.append(x)
        for s, xs in enumerate(pts):
            y = 1 * xs[0] + 6 * xs[1] + 3 * xs[2] ** 2
            w.writerow([p, t, s] + [repr(float(v)) for v in xs] + [repr(float(y))])
            p += 1
mor = analyze(src, "--method", "morris", "--bootstrap", 100)
kind, mdf = pa.read(mor)
fig = pa.morris_figure(mdf, "Dy_all_cum_shortfall")
ax = fig.axes[0]
labels = [t.get_text() for t in ax.get_yticklabels()]
check("morris: keys sorted by mu*, largest on top",
      kind == "morris" and labels == ["policy.approval", "lynas.start", "policy.delay"], labels)
check("morris: bar lengths are mu*",
      np.allclose([r.get_width() for r in ax.patches],
                  [mdf.set_index("key")["mu_star"][kk] for kk in labels]))

# --- PRIM ---------------------------------------------------------------------
N = 2000
x = rng.uniform(0, 1, (N, 3))
y = np.where((x[:, 0] < 0.4) & (x[:, 2] > 0.5), 0.4, 0.95)
src = os.path.join(tmp, "lhs.csv")
with open(src, "w") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["point"] + keys + ["Tb_control_min_availability"])
    for p in range(N):
        w.writerow([p] + [repr(float(v)) for v in x[p]] + [repr(float(y[p]))])
pr = analyze(src, "--method", "prim", "--condition", "Tb_control_min_availability < 0.5",
             "--density", "0.9")
kind, pdf = pa.read(pr)
fig = pa.prim_figure(pdf, "Tb_control_min_availability < 0.5")
ax = fig.axes[0]
traj = pdf[pdf["phase"] != "box"]
sc = [c for c in ax.collections if c.__class__.__name__ == "PathCollection"][0]
off = sc.get_offsets()
check("prim: one point per trajectory step at (coverage, density)",
      kind == "prim" and len(off) == len(traj) and
      np.allclose(off[:, 0], traj["coverage"]) and np.allclose(off[:, 1], traj["density"]))
chosen = [ln for ln in ax.get_lines() if ln.get_label().startswith("chosen box")]
c = pdf[(pdf["chosen"] == 1) & (pdf["phase"] != "box")].iloc[0]
check("prim: the chosen box is marked at its coverage and density",
      len(chosen) == 1 and chosen[0].get_xdata()[0] == c["coverage"] and
      chosen[0].get_ydata()[0] == c["density"])
check("prim: axis labels", ax.get_xlabel().startswith("coverage") and
      ax.get_ylabel().startswith("density") and "< 0.5" in ax.get_title())
texts = [t.get_gid() or t.get_text() for t in fig.axes[-1].texts]
lims = pa.prim_limits(pdf)
check("prim: the restricted keys are the planted ones",
      [kk for kk, _, _ in lims] == ["policy.approval", "lynas.start"], lims)
box = pdf[pdf["phase"] == "box"].iloc[0]
want = ["policy.approval: - .. %.4g" % box["hi:policy.approval"],
        "lynas.start: %.4g .. -" % box["lo:lynas.start"]]
check("prim: the limits are listed beside the chart, open sides as '-'",
      all(w_ in texts for w_ in want) and abs(box["hi:policy.approval"] - 0.4) < 0.05 and
      abs(box["lo:lynas.start"] - 0.5) < 0.1, (texts, want))

# --- The command line writes PNGs -----------------------------------------------
outdir = os.path.join(tmp, "charts")
for f in (sob, mor, pr):
    res = subprocess.run([sys.executable, "scripts/plot_analysis.py", f, "-o", outdir],
                         capture_output=True, text=True)
    paths = [p for p in res.stdout.split("\n") if p]
    check("plot_analysis %s: exit 0 and 1200x800 PNGs" % os.path.basename(f),
          res.returncode == 0 and paths and all(png_size(p) == (1200, 800) for p in paths),
          res.stderr + str(paths))
res = subprocess.run([sys.executable, "scripts/plot_analysis.py", src, "-o", outdir],
                     capture_output=True, text=True)
check("plot_analysis: a sweep CSV is refused with exit 1",
      res.returncode == 1 and "not an output of resim analyze" in res.stderr, res.stderr)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
