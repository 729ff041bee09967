"""scripts/plot_fit.py draws a resim fit series as one observed-vs-fitted chart.

Run from the repository root: python3 tests/py_plot_fit.py /path/to/resim
A real fit on tests/fixtures/replay.ini (with noise and a month of weight 0)
is charted; the test reads the figure's axes, lines, points, labels and note
rather than pixels, and checks the PNG's size and the refusal of other files.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

# Debian's python3-pandas and python3-matplotlib live in the system interpreter.
try:
    import pandas as pd
except ImportError:
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise
import matplotlib.dates as mdates
import numpy as np

sys.path.insert(0, os.path.abspath("scripts"))
import plot_fit  # noqa: E402

RESIM = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/resim"
SCENARIO = "tests/fixtures/replay.ini"
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


tmp = tempfile.mkdtemp(prefix="resim-plot-fit-")
try:
    truth = os.path.join(tmp, "truth.csv")
    subprocess.run([RESIM, "run", SCENARIO, "--set", "2010-09.approval.none=0.27", "-o", truth],
                   check=True)
    run = pd.read_csv(truth)
    rng = random.Random(3)
    obs = os.path.join(tmp, "obs.csv")
    with open(obs, "w") as f:
        f.write("date,value,weight\n")
        for i, (d, v) in enumerate(zip(run["date"], run["china_arrivals"])):
            f.write("%s,%r,%d\n" % (d, v + rng.gauss(0, 0.4), 0 if i == 7 else 1))
    series = os.path.join(tmp, "fitted.csv")
    subprocess.run([RESIM, "fit", SCENARIO, "--observed", obs, "--measure", "china_arrivals",
                    "--free", "2010-09.approval.none=0:1", "--free", "alt.capacity_factor=0.5:1.5",
                    "--starts", "4", "--fitted-csv", series], check=True, stdout=subprocess.DEVNULL)
    df = pd.read_csv(series)
    meta = plot_fit.read_sidecar(series)

    fig = plot_fit.fit_figure(df, meta)
    axes = fig.get_axes()
    check("one chart", len(axes) == 1, len(axes))
    ax = axes[0]
    lines = ax.get_lines()
    check("one line: the fitted series", len(lines) == 1 and lines[0].get_label() == "fitted")
    when = mdates.date2num(pd.to_datetime(df["date"], format="%Y-%m"))
    x, y = lines[0].get_data()
    check("fitted line: every month, the fitted values",
          np.allclose(mdates.date2num(x), when) and np.allclose(y, df["fitted"]))
    pts = {c.get_label(): c.get_offsets() for c in ax.collections}
    check("observed points and the weight-0 month apart",
          set(pts) == {"observed", "observed, weight 0 (not fitted)"}, list(pts))
    used = df["weight"] > 0
    check("observed points: the fitted months' observed values",
          np.allclose(np.asarray(pts["observed"])[:, 1], df["observed"][used])
          and np.allclose(np.asarray(pts["observed"])[:, 0], when[used]))
    check("weight-0 point: the month left out",
          np.allclose(np.asarray(pts["observed, weight 0 (not fitted)"]),
                      [[when[7], df["observed"][7]]]))
    title = ax.get_title()
    check("title: measure and RMSE",
          "china_arrivals" in title and "Dy" in title and ("RMSE %.4g" % meta["rmse"]) in title,
          title)
    check("y label: the measure's unit", ax.get_ylabel() == "china_arrivals (t REO / month)",
          ax.get_ylabel())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    check("legend", legend == ["fitted", "observed", "observed, weight 0 (not fitted)"], legend)
    note = "\n".join(t.get_text() for t in ax.texts)
    est = {f["key"]: f for f in meta["free"]}["2010-09.approval.none"]
    check("note: each key with its interval or 'not identified'",
          "2010-09.approval.none = %.4g  [%.4g, %.4g]" % (est["estimate"], est["lower"],
                                                         est["upper"]) in note
          and "alt.capacity_factor" in note and "not identified in [0.5, 1.5]" in note, note)
    lo, hi = ax.get_xlim()
    check("x axis spans the months", lo <= when.min() and hi >= when.max())
    size = fig.get_size_inches() * fig.dpi
    check("1200 x 800", tuple(np.round(size)) == (1200, 800), size)

    # Normalised: the y label says relative to which month.
    meta2 = dict(meta, normalise={"month": "2010-03", "observed": 21.0})
    fig2 = plot_fit.fit_figure(df, meta2)
    check("normalised: y label names the month",
          fig2.get_axes()[0].get_ylabel() == "china_arrivals relative to 2010-03 (= 1)")
    # Without a sidecar the chart still draws, with a plain title.
    fig3 = plot_fit.fit_figure(df)
    check("no sidecar: still one line and a title",
          len(fig3.get_axes()[0].get_lines()) == 1 and fig3.get_axes()[0].get_title())

    # The command line writes <stem>_fit.png and refuses other CSVs.
    res = subprocess.run([sys.executable, "scripts/plot_fit.py", series, "-o", tmp],
                         capture_output=True, text=True)
    png = os.path.join(tmp, "fitted_fit.png")
    check("command line: exit 0, prints the PNG", res.returncode == 0 and res.stdout.strip() == png,
          res.stderr)
    check("command line: a 1200x800 PNG", os.path.isfile(png) and png_size(png) == (1200, 800))
    res = subprocess.run([sys.executable, "scripts/plot_fit.py", truth, "-o", tmp],
                         capture_output=True, text=True)
    check("command line: a run CSV is refused with exit 1 and one line",
          res.returncode == 1 and len(res.stderr.strip().split("\n")) == 1
          and "not a resim fit series" in res.stderr, res.stderr)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
