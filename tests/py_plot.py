"""scripts/plot draws what each resim CSV says, and scripts/run charts the file it wrote.

Run from the repository root: python3 tests/py_plot.py /path/to/resim
Each chart is built in-process by its fig_* function and checked on its
content: titles (with the run's --set overrides), the number of lines and
their labels, percent axes and their range, threshold lines, dated event
markers, the shortfall band against demand, the label where a list empties,
comparisons of several runs, sweep charts and chart modules found by header.
Then the command line: 1200x800 PNGs for every kind of CSV, comparisons
refused with one line and exit 1, --x/--y file names, and scripts/run with
-o and with --set. The ensemble summary, raw replicates and sweep CSVs are
also built here from a real run, following their column contracts.
"""
import configparser
import os
import re
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
import numpy as np

RESIM = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/resim"
PLOT = os.path.abspath("scripts/plot")
RUN = os.path.abspath("scripts/run")
SCENARIO = "scenarios/japan-2026.ini"
OVERRIDE = "2026-02.approval.watch=0.3"
sys.path.insert(0, os.path.abspath("scripts"))
import plot_resim as pr  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402
import matplotlib.dates as mdates  # noqa: E402

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def resim(*args):
    r = subprocess.run([RESIM] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("resim %s: %s" % (" ".join(args), r.stderr))
    return r


def png_size(path):
    """Width and height from the PNG header (IHDR), without PIL."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def plot(args):
    return subprocess.run([PLOT] + args, capture_output=True, text=True)


def check_pngs(name, res, outdir, expect_min):
    check("%s: exit 0" % name, res.returncode == 0, res.stderr.strip())
    paths = [p for p in res.stdout.split("\n") if p]
    check("%s: at least %d charts (got %d)" % (name, expect_min, len(paths)),
          len(paths) >= expect_min)
    bad = [p for p in paths
           if not p.startswith(outdir) or not os.path.isfile(p) or png_size(p) != (1200, 800)]
    check("%s: every chart is a 1200x800 PNG in the output folder" % name, not bad,
          "; ".join("%s %s" % (p, png_size(p) if os.path.isfile(p) else "missing")
                    for p in bad[:3]))
    return paths


# ---------------------------------------------------------------- what the scenarios say

def scenario_events(path):
    """{YYYY-MM: {key: value}} of a scenario file's event sections inside its
    horizon, read from the file itself (so a data correction moves them here too)."""
    ini = configparser.ConfigParser(interpolation=None, strict=False)
    ini.optionxform = str
    ini.read(path)
    y, m = map(int, ini["scenario"]["start"].split("-"))
    first = y * 12 + m - 1
    last = first + int(ini["scenario"]["months"]) - 1
    out = {}
    for name in ini.sections():
        if re.fullmatch(r"\d{4}-\d{2}", name):
            t = int(name[:4]) * 12 + int(name[5:]) - 1
            if first <= t <= last:
                out[name] = dict(ini[name])
    return out


def list_month(path, status="control"):
    """The first event month of a scenario that adds importers to a list, and how many."""
    for month, keys in sorted(scenario_events(path).items()):
        if "list.add." + status in keys:
            return month, int(float(keys["list.add." + status]))
    raise AssertionError("%s adds nobody to the %s list" % (path, status))


def pct_text(value):
    return "%g %%" % round(100 * float(value))


def timeline_by_month(src):
    """{month: sorted (key, value)} of a run's sidecar timeline."""
    out = {}
    for e in src.meta["timeline"]:
        out.setdefault(e["date"], []).append((e["key"], str(e["value"])))
    return {m: sorted(v) for m, v in out.items()}


# ---------------------------------------------------------------- figure inspection

def data_lines(ax):
    """Lines that carry data: a label of their own and more than one point."""
    return [ln for ln in ax.get_lines()
            if not ln.get_label().startswith("_") and len(ln.get_xdata()) > 1]


def gid_lines(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


def gid_texts(ax, gid):
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def event_dates(ax):
    return sorted(mdates.num2date(mdates.date2num(ln.get_xdata()[0])).strftime("%Y-%m")
                  for ln in gid_lines(ax, "event"))


def is_percent(ax):
    return isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)


def threshold_at(ax):
    return [float(ln.get_ydata()[0]) for ln in gid_lines(ax, "threshold")]


def legend_texts(ax):
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg else []


def title_fits(fig, ax):
    """The rendered title lies inside the figure."""
    fig.canvas.draw()
    box = ax.title.get_window_extent()
    w, h = fig.canvas.get_width_height()
    return box.x0 >= 0 and box.x1 <= w and box.y1 <= h, "%s in %dx%d" % (box, w, h)


def labels_inside(fig, ax):
    """Every event label, as rendered, lies inside its axes (2 px slack)."""
    fig.canvas.draw()
    box = ax.get_window_extent()
    out = []
    for t in ax.texts:
        if t.get_gid() == "event-label":
            b = t.get_window_extent()
            if b.y0 < box.y0 - 2 or b.y1 > box.y1 + 2:
                out.append(t.get_text())
    return out


class Opts:
    """What scripts/plot's command line gives the chart builders."""

    def __init__(self, **kw):
        self.element, self.group, self.threshold = [], "all", None
        self.x = self.y = self.outcome = self.name = None
        self.outdir = None
        self.__dict__.update(kw)


# ---------------------------------------------------------------- run charts

def timeline_dates(src):
    return sorted(set(e["date"] for e in src.meta["timeline"]))


def test_run_charts(tmp):
    path = os.path.join(tmp, "what-if.csv")
    resim("run", SCENARIO, "--by", "status", "--set", OVERRIDE, "-o", path)
    src = pr.Source(path)
    check("sidecar: overrides read from the command line", src.overrides == [OVERRIDE],
          str(src.overrides))
    dates = timeline_dates(src)
    want = sorted(set(scenario_events(SCENARIO)) | {OVERRIDE[:7]})
    check("japan-2026 has events in the %d months of its file and the override" % len(want),
          dates == want, "%s, file %s" % (dates, want))

    fig = pr.fig_availability_overview(src)
    ax = fig.axes[0]
    check("overview: title names the scenario and the override",
          "japan-2026" in ax.get_title() and OVERRIDE in ax.get_title(), ax.get_title())
    check("overview: one line per element (7)",
          sorted(ln.get_label() for ln in data_lines(ax)) == sorted(
              ["Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"]),
          str([ln.get_label() for ln in data_lines(ax)]))
    check("overview: 48 months per line",
          all(len(ln.get_xdata()) == 48 for ln in data_lines(ax)))
    lo, hi = ax.get_ylim()
    check("overview: availability in percent, axis within 0..103 %",
          is_percent(ax) and 0 <= lo < hi <= 1.03 + 1e-12, "%s %s" % (lo, hi))
    check("overview: stockpile trigger drawn at 90 %", threshold_at(ax) == [0.9],
          str(threshold_at(ax)))
    check("overview: threshold inside the axis", lo <= 0.9 <= hi)
    check("overview: one event marker per event month", event_dates(ax) == dates,
          str(event_dates(ax)))
    labels = gid_texts(ax, "event-label")
    check("overview: event labels start with their month and are short",
          len(labels) == len(dates) and all(t.strip()[:7] in dates for t in labels)
          and max(len(t.strip()) for t in labels) <= 8 + pr.EVENT_LABEL_CHARS, str(labels))
    check("overview: event labels inside the axes", labels_inside(fig, ax) == [],
          str(labels_inside(fig, ax)))
    # The month that names importers: its label says how many move to each list
    # and gives every approval rate the event sets (as the sidecar holds them).
    month, n_control = list_month(SCENARIO, "control")
    _, n_watch = list_month(SCENARIO, "watch")
    label = next((t for t in labels if t.strip().startswith(month)), "")
    rates = [(k.split(".")[1], v) for k, v in timeline_by_month(src)[month]
             if re.fullmatch(r"approval\.(none|watch|control)", k)]
    check("event label of %s names the list moves (+%d control +%d watch) and approvals %s"
          % (month, n_control, n_watch, rates),
          "+%d control" % n_control in label and "+%d watch" % n_watch in label and rates != []
          and all(("approval " + pct_text(v)) in label or ("%s %s" % (st, pct_text(v))) in label
                  for st, v in rates), label)
    plt.close(fig)

    # Supply: the shortfall band lies between consumption and demand.
    run = pd.read_csv(path)
    dy = run[(run.element == "Dy") & (run.group == "all")]
    supply = dy.china_arrivals + dy.alt_supply + dy.stockpile_release
    over = ((supply > dy.demand) & (dy.shortfall > 0)).sum()
    check("japan-2026 Dy has months with supply above demand and a shortfall (%d)" % over,
          over > 0)
    fig = pr.fig_supply(src, "Dy")
    ax = fig.axes[0]
    bands = [c for c in ax.collections if c.get_gid() == "shortfall"]
    check("supply: one shortfall band", len(bands) == 1, str(len(bands)))
    demand = dict(zip(mdates.date2num(pd.to_datetime(dy.date, format="%Y-%m")), dy.demand))
    worst = 0.0
    for c in bands:
        for p in c.get_paths():
            for x, y in p.vertices:
                near = min(demand, key=lambda k: abs(k - x))
                worst = max(worst, y - demand[near])
    check("supply: shortfall never drawn above the demand line (worst %+.3g t)" % worst,
          worst <= 1e-9)
    names = [ln.get_label() for ln in data_lines(ax)]
    check("supply: demand and consumption lines", names == ["demand", "consumption"], str(names))
    check("supply: title carries the override", OVERRIDE in ax.get_title())
    check("supply: event markers", event_dates(ax) == dates)
    plt.close(fig)

    fig = pr.fig_status(src, "Dy")
    ax = fig.axes[0]
    check("status: four groups drawn",
          [ln.get_label() for ln in data_lines(ax)] ==
          ["all importers", "not listed", "watch list", "control list"],
          str([ln.get_label() for ln in data_lines(ax)]))
    check("status: percent axis, threshold, events",
          is_percent(ax) and threshold_at(ax) == [0.9] and event_dates(ax) == dates)
    check("status: no list empties in japan-2026", gid_texts(ax, "group-empty") == [],
          str(gid_texts(ax, "group-empty")))
    plt.close(fig)

    # A list that empties is labelled where its line ends.
    path = os.path.join(tmp, "doubles.csv")
    resim("run", "scenarios/whatif-control-doubles.ini", "--by", "status", "-o", path)
    d = pd.read_csv(path)
    watch = d[(d.element == "Dy") & (d.group == "watch")]
    last = watch[watch.demand > 0].date.max()
    after = watch[watch.date > last]
    check("whatif-control-doubles: Dy watch list empties before the end (after %s)" % last,
          len(after) > 0 and (after.demand == 0).all())
    fig = pr.fig_status(pr.Source(path), "Dy")
    texts = gid_texts(fig.axes[0], "group-empty")
    check("status: 'watch list empty from <month after the last>' label",
          "watch list empty from %s" % after.date.min() in texts, str(texts))
    unlisted = d[(d.element == "Dy") & (d.group == "none")]
    left = unlisted[unlisted.demand > 0].date.max()
    gone = unlisted[unlisted.date > left]
    check("whatif-control-doubles: Dy has no unlisted importers left after %s" % left,
          len(gone) > 0 and (gone.demand == 0).all())
    check("status: 'not listed empty from %s' label" % gone.date.min(),
          "not listed empty from %s" % gone.date.min() in texts, str(texts))
    plt.close(fig)

    path = os.path.join(tmp, "licensing.csv")
    resim("run", "scenarios/licensing-2025.ini", "--by", "status", "-o", path)
    fig = pr.fig_status(pr.Source(path), "Dy")
    leg = legend_texts(fig.axes[0])
    check("status: a list nobody is on says so in the legend",
          "watch list: no importers use Dy" in leg and "control list: no importers use Dy" in leg,
          str(leg))
    check("status: and draws no line for it", len(data_lines(fig.axes[0])) == 2)
    plt.close(fig)

    # --threshold replaces the stockpile trigger.
    fig = pr.fig_availability_overview(src, threshold=0.75)
    check("--threshold 0.75: threshold line at 75 %", threshold_at(fig.axes[0]) == [0.75])
    plt.close(fig)
    return path


# ---------------------------------------------------------------- compare

def test_compare(tmp):
    base = os.path.join(tmp, "base.csv")
    what = os.path.join(tmp, "watch30.csv")
    worse = os.path.join(tmp, "approvals20.csv")
    resim("run", SCENARIO, "--by", "status", "-o", base)
    resim("run", SCENARIO, "--by", "status", "--set", OVERRIDE, "-o", what)
    resim("run", "scenarios/whatif-approvals-20.ini", "--by", "status", "-o", worse)
    srcs = [pr.Source(p) for p in (base, what, worse)]
    fig = pr.fig_compare(srcs, "Dy")
    ax, ax2 = fig.axes[0], fig.axes[1]
    labels = [ln.get_label() for ln in data_lines(ax)]
    check("compare: one line per run, labelled by scenario and override",
          labels == ["japan-2026", "japan-2026 (%s)" % OVERRIDE, "whatif-approvals-20"],
          str(labels))
    check("compare: each line is one run's 48 months, not runs joined",
          all(len(ln.get_xdata()) == 48 for ln in data_lines(ax)))
    b = pd.read_csv(base)
    b = b[(b.element == "Dy") & (b.group == "all")]
    check("compare: the first line is the first file's availability",
          np.allclose(data_lines(ax)[0].get_ydata(), b.availability.to_numpy()))
    check("compare: lower panel is the cumulative shortfall",
          np.isclose(ax2.get_lines()[0].get_ydata()[-1], b.shortfall.sum()))
    check("compare: availability in percent with the threshold",
          is_percent(ax) and threshold_at(ax) == [0.9])
    ev = {}
    for ln in gid_lines(ax, "event"):
        when = mdates.num2date(mdates.date2num(ln.get_xdata()[0])).strftime("%Y-%m")
        ev.setdefault(when, []).append(ln.get_color())
    colors = [ln.get_color() for ln in data_lines(ax)]
    # Which events the runs share, differ in or have alone, from their sidecars.
    tl = [timeline_by_month(x) for x in srcs]
    shared = sorted(m for m in tl[0] if all(t.get(m) == tl[0][m] for t in tl[1:]))
    own = sorted(m for m in tl[2] if m not in tl[0] and m not in tl[1])
    om = OVERRIDE[:7]
    check("compare: the %d event months all three runs share are grey, once each" % len(shared),
          len(shared) > 0 and sorted(m for m, c in ev.items() if c == ["0.35"]) == shared, str(ev))
    check("compare: %s, changed by the override, drawn in the colours of both versions" % om,
          tl[0].get(om) != tl[1].get(om) and ev.get(om) == [colors[0], colors[1]], str(ev.get(om)))
    check("compare: the what-if's own %s in its colour" % own,
          len(own) > 0 and all(ev.get(m) == [colors[2]] for m in own), str(ev))
    texts = gid_texts(ax, "event-label")
    check("compare: both %s labels shown, the override's with approval 30 %%" % om,
          sum(1 for t in texts if t.strip().startswith(om)) == 2 and
          any(t.strip().startswith(om) and "(watch %s" % pct_text(OVERRIDE.split("=")[1]) in t
              for t in texts), str(texts))
    check("compare: event labels stay inside the shorter upper panel",
          labels_inside(fig, ax) == [], str(labels_inside(fig, ax)))
    check("compare: legend lists the three runs",
          [t.replace("\n", " ") for t in legend_texts(ax2)] == labels, str(legend_texts(ax2)))
    plt.close(fig)

    fig = pr.fig_compare(srcs, "Dy", group="control")
    check("compare --group control: title names the control list",
          "control list" in fig.axes[0].get_title())
    plt.close(fig)

    # Same scenario and overrides twice: the file names tell them apart.
    twice = os.path.join(tmp, "base-again.csv")
    shutil.copy(base, twice)
    shutil.copy(base + ".json", twice + ".json")
    labels = pr.run_labels([pr.Source(base), pr.Source(twice)])
    check("compare: identical labels get their file names",
          labels == ["japan-2026 [base.csv]", "japan-2026 [base-again.csv]"], str(labels))

    out = os.path.join(tmp, "cmp")
    paths = check_pngs("compare on the command line", plot([base, what, worse, "-o", out]),
                       out, 7)
    check("compare: one chart per element, named after the files",
          sorted(os.path.basename(p) for p in paths) == sorted(
              "base_vs_watch30_vs_approvals20_compare_%s.png" % el
              for el in ["Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"]), str(paths))
    r = plot([base, what, "-o", out, "--element", "Dy", "--name", "q6"])
    check("compare --name --element: one chart named by --name",
          r.returncode == 0 and r.stdout.split() == [os.path.join(out, "q6_compare_Dy.png")],
          r.stdout + r.stderr)

    # Two runs joined in one file: compared, not drawn as one tangled line.
    joined = os.path.join(tmp, "joined.csv")
    with open(joined, "w") as f:
        f.write(open(base).read() + "".join(open(worse).readlines()[1:]))
    out = os.path.join(tmp, "joined")
    r = plot([joined, "-o", out, "--element", "Dy"])
    check("two scenarios in one file: one comparison chart",
          r.returncode == 0 and [os.path.basename(p) for p in r.stdout.split()] ==
          ["joined_japan-2026_vs_joined_whatif-approvals-20_compare_Dy.png"], r.stdout + r.stderr)
    twice = os.path.join(tmp, "twice.csv")
    with open(twice, "w") as f:
        f.write(open(base).read() + "".join(open(what).readlines()[1:]))
    r = plot([twice, "-o", out])
    check("two runs of one scenario in one file: refused, exit 1",
          r.returncode == 1 and "rows repeat" in r.stderr, r.stderr)

    short = os.path.join(tmp, "short.csv")
    resim("run", SCENARIO, "--set", "scenario.months=24", "-o", short)
    two = os.path.join(tmp, "two.csv")
    resim("run", SCENARIO, "--set", "scenario.elements=Dy Tb", "-o", two)
    for name, files, want in (("different months", [base, short], "different months"),
                              ("different elements", [base, two], "different elements")):
        out = os.path.join(tmp, "refused-" + name.replace(" ", "-"))
        r = plot(files + ["-o", out])
        check("compare refuses %s: exit 1, one line naming both files" % name,
              r.returncode == 1 and want in r.stderr and len(r.stderr.strip().split("\n")) == 1
              and os.path.basename(files[1]) in r.stderr and r.stdout == "", r.stderr)
        check("compare refuses %s: no charts written" % name,
              not os.path.isdir(out) or not os.listdir(out))
    return base


# ---------------------------------------------------------------- ensemble, raw

def synthetic_ensemble(run, quantiles):
    """An ensemble summary in the documented layout, spread around a real run."""
    ids = ["scenario", "date", "month", "element", "group"]
    metrics = [c for c in run.columns if c not in ids]
    out = run[ids].copy()
    spread = np.linspace(-1.0, 1.0, len(quantiles))
    cols = {}
    for m in metrics:
        v = run[m].astype(float)
        cols[m + "_mean"] = v
        for q, s in zip(quantiles, spread):
            pct = q * 100
            name = "%s_p%02d" % (m, round(pct)) if abs(pct - round(pct)) < 1e-9 \
                else "%s_p%g" % (m, pct)
            if m == "availability":
                cols[name] = np.clip(v + 0.08 * s, 0.0, 1.0)
            else:
                cols[name] = np.maximum(v * (1 + 0.3 * s) + 0.5 * s, 0.0)
    for k, c in cols.items():
        out[k] = c
    out["prob_availability_below"] = np.clip(1.2 - run["availability"].astype(float), 0, 1)
    return out


def synthetic_raw(run, n):
    rng = np.random.default_rng(2385)
    parts = []
    for r in range(n):
        d = run.copy()
        d.insert(1, "replicate", r)
        d["availability"] = np.clip(d["availability"] - rng.uniform(0, 0.1, len(d)), 0, 1)
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def test_ensemble(tmp):
    path = os.path.join(tmp, "ens.csv")
    resim("run", SCENARIO, "--replicates", "12", "--threshold", "0.85", "-o", path,
          "--raw", os.path.join(tmp, "raw.csv"))
    src = pr.Source(path)
    dates = timeline_dates(src)
    fig = pr.fig_fan_availability(src, "Dy")
    ax, axp = fig.axes[0], fig.axes[1]
    check("fan: title names the replicates", "12 replicates" in ax.get_title(), ax.get_title())
    check("fan: median and mean lines", [ln.get_label() for ln in data_lines(ax)] ==
          ["median", "mean"], str([ln.get_label() for ln in data_lines(ax)]))
    check("fan: percent axes, the ensemble's threshold (85 %)",
          is_percent(ax) and is_percent(axp) and threshold_at(ax) == [0.85],
          str(threshold_at(ax)))
    check("fan: probability panel names the threshold",
          axp.get_ylabel() == "P(availability < 85 %)", axp.get_ylabel())
    check("fan: event markers on both time axes",
          event_dates(ax) == dates and event_dates(axp) == dates)
    check("fan: probability axis 0..102 %", axp.get_ylim() == (0, 1.02))
    plt.close(fig)
    fig = pr.fig_fan_shortfall(src, "Dy")
    check("fan shortfall: event markers", event_dates(fig.axes[0]) == dates)
    plt.close(fig)
    other = os.path.join(tmp, "ens-85.csv")
    resim("run", SCENARIO, "--replicates", "12", "--seed", "2", "--threshold", "0.85",
          "--set", OVERRIDE, "-o", other)
    fig = pr.fig_compare([src, pr.Source(other)], "Dy")
    ax = fig.axes[0]
    e = src.df[(src.df.element == "Dy") & (src.df.group == "all")]
    check("compare ensembles: medians, one line each, labelled",
          "median availability" in ax.get_title() and
          [ln.get_label() for ln in data_lines(ax)] == ["japan-2026", "japan-2026 (%s)" % OVERRIDE]
          and np.allclose(data_lines(ax)[0].get_ydata(), e.availability_p50.to_numpy()),
          ax.get_title())
    plt.close(fig)
    r = plot([path, os.path.join(tmp, "raw.csv")])
    check("compare an ensemble summary with raw replicates: exit 1",
          r.returncode == 1 and "raw" in r.stderr, r.stderr)

    raw = pr.Source(os.path.join(tmp, "raw.csv"))
    check("replicates: the summary's sidecar is found through its --raw",
          raw.meta.get("kind") == "ensemble", str(raw.meta.get("kind")))
    fig = pr.fig_replicates(raw, "Dy", threshold=0.8)
    ax = fig.axes[0]
    check("replicates: percent axis, --threshold line, events",
          is_percent(ax) and threshold_at(ax) == [0.8] and event_dates(ax) == dates)
    plt.close(fig)
    fig = pr.fig_replicates(raw, "Dy")
    check("replicates: the ensemble's threshold by default", threshold_at(fig.axes[0]) == [0.85])
    plt.close(fig)
    alone = os.path.join(tmp, "alone")
    os.makedirs(alone)
    shutil.copy(os.path.join(tmp, "raw.csv"), alone)
    fig = pr.fig_replicates(pr.Source(os.path.join(alone, "raw.csv")), "Dy")
    ax = fig.axes[0]
    check("replicates: without any sidecar the axis says events are not marked",
          "events not marked" in ax.get_xlabel() and not gid_lines(ax, "event"), ax.get_xlabel())
    plt.close(fig)


# ---------------------------------------------------------------- sweep

def synthetic_sweep(kind, n=None, keys=("policy.approval.watch", "alt.capacity_factor",
                                        "stockpile.trigger")):
    rng = np.random.default_rng(4711)
    if kind == "grid":
        w = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
        f = np.array([0.5, 0.75, 1.0, 1.25])
        t = np.array([0.8, 0.9])
        g = np.array(np.meshgrid(w, f, t, indexing="ij")).reshape(3, -1)
        x, y, z = g
    else:
        x, y, z = rng.uniform(0, 1, n), rng.uniform(0.5, 1.5, n), rng.uniform(0.8, 0.95, n)
    d = pd.DataFrame({"point": np.arange(len(x)), keys[0]: x, keys[1]: y, keys[2]: z})
    d["Dy_all_cum_shortfall"] = 80 * (1 - x) / y + 5 * z
    d["Dy_all_min_availability"] = 1 - 0.3 * (1 - x) / y
    d["Dy_watch_months_below"] = np.round(20 * (1 - x)).astype(int)
    d["Tb_all_cum_shortfall"] = 30 * (1 - x) / y
    return d


def test_sweep(tmp):
    # A one-key sweep: the outcome over the key and the lowest availability
    # with the threshold, and where it is crossed. The key is the size of the
    # scenario's first control list, from none to four times what the file
    # names (as scripts/make-docs draws it for the README).
    month, n = list_month(SCENARIO, "control")
    key = month + ".list.add.control"
    path = os.path.join(tmp, "control-size.csv")
    resim("sweep", SCENARIO, "--vary", "%s=0:%d:9" % (key, 4 * n), "--threshold", "0.85", "-o", path)
    src = pr.Source(path)
    x, y, outcome = pr.sweep_axes(src, None, None, None)
    check("one-key sweep: no y axis", (x, y) == (key, None), str((x, y)))
    fig = pr.fig_sweep_line(src, x, outcome)
    ax, ax2 = fig.axes
    check("one-key sweep: cumulative shortfall over the key, 9 points",
          len(data_lines(ax)) == 0 and len(ax.get_lines()) == 1 and
          len(ax.get_lines()[0].get_xdata()) == 9)
    check("one-key sweep: lowest availability panel in percent with the 85 % threshold",
          is_percent(ax2) and threshold_at(ax2) == [0.85], str(threshold_at(ax2)))
    d = pd.read_csv(path)
    a = d["Dy_all_min_availability"].to_numpy()
    k = d[key].to_numpy()
    first = next((i for i in range(len(a)) if a[i] < 0.85), None)
    texts = gid_texts(ax2, "crossing")
    if first is not None and first > 0:
        want = k[first - 1] + (k[first] - k[first - 1]) * (a[first - 1] - 0.85) / (
            a[first - 1] - a[first])
        check("one-key sweep: crossing of 85 %% labelled at %.3g" % want,
              len(texts) == 1 and ("%.3g" % want) in texts[0], str(texts))
    else:
        check("one-key sweep: Dy falls below 85 %% between 0 and %d importers on the list"
              % (4 * n), False, str(a))
    ok, detail = title_fits(fig, ax)
    check("one-key sweep: title fits", ok, detail)
    plt.close(fig)

    # Heat map of an availability outcome, long key names, overrides.
    long_keys = ("2026-02.delay_mean_days.control", "alt.lynas_my2_dy.capacity_factor",
                 "2026-06.list.add.watch")
    sw = synthetic_sweep("grid", keys=long_keys)
    path = os.path.join(tmp, "long.csv")
    sw.to_csv(path, index=False)
    meta = {"threshold": 0.9, "command_line": ["sweep", "x.ini", "--set",
                                               "stockpile.enabled=0", "--set",
                                               "2027-01.approval.watch=0.3"]}
    src = pr.Source(path, meta=meta)
    fig = pr.fig_sweep_map(src, long_keys[0], long_keys[1], "Dy_all_min_availability")
    ax = fig.axes[0]
    ok, detail = title_fits(fig, ax)
    check("sweep heat map: title with long keys and overrides fits", ok, detail)
    check("sweep heat map: title carries the overrides",
          "stockpile.enabled=0" in ax.get_title().replace("\n", " "), ax.get_title())
    cb = fig.axes[1]
    check("sweep heat map: availability colour bar in percent with the threshold",
          is_percent(cb) and threshold_at(cb) == [0.9])
    check("sweep heat map: cells in percent",
          all(t.get_text().endswith(" %") for t in ax.texts) and len(ax.texts) == 20)
    plt.close(fig)

    out = os.path.join(tmp, "sweep-xy")
    names = set()
    for extra in ([], ["--x", long_keys[2], "--y", long_keys[1]],
                  ["--x", long_keys[1], "--y", long_keys[2]]):
        r = plot([path, "-o", out] + extra)
        check("sweep %s: exit 0, one chart" % " ".join(extra),
              r.returncode == 0 and len(r.stdout.split()) == 1, r.stderr)
        names.update(r.stdout.split())
    check("sweep: each --x/--y choice writes its own file", len(names) == 3, str(sorted(names)))
    check("sweep: default axes keep <stem>_<outcome>.png",
          os.path.join(out, "long_Dy_all_cum_shortfall.png") in names, str(sorted(names)))


# ---------------------------------------------------------------- chart modules

def test_plugins(tmp):
    mods = os.path.join(tmp, "mods")
    os.makedirs(mods)
    with open(os.path.join(mods, "fake_analysis_mod.py"), "w") as f:
        f.write("import plot_resim as pr\n"
                "def detect(columns):\n"
                "    return columns[:2] == ['key', 'S1']\n"
                "def charts(df, path, opts):\n"
                "    fig, (ax,) = pr.new_figure()\n"
                "    ax.barh(df['key'], df['S1'])\n"
                "    return [(opts.stem + '_indices.png', fig)]\n")
    with open(os.path.join(mods, "broken_mod.py"), "w") as f:
        f.write("import a_package_that_is_not_there\n")
    csv_path = os.path.join(tmp, "indices.csv")
    with open(csv_path, "w") as f:
        f.write("key,S1,ST\npolicy.approval.watch,0.6,0.7\nalt.capacity_factor,0.2,0.25\n")
    sys.path.insert(0, mods)
    saved = pr.PLUGINS
    out = os.path.join(tmp, "plug")
    try:
        pr.PLUGINS = [("absent", "no_such_chart_module", "detect", "charts"),
                      ("broken", "broken_mod", "detect", "charts"),
                      ("indices", "fake_analysis_mod", "detect", "charts")]
        import io
        import contextlib
        buf, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
            rc = pr.main([csv_path, "-o", out])
        path = os.path.join(out, "indices_indices.png")
        check("chart module: a CSV its detector accepts is drawn by it",
              rc == 0 and buf.getvalue().split() == [path] and png_size(path) == (1200, 800),
              "rc=%d out=%r err=%r" % (rc, buf.getvalue(), err.getvalue()))
        pr.PLUGINS = [("absent", "no_such_chart_module", "detect", "charts"),
                      ("broken", "broken_mod", "detect", "charts")]
        buf, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
            rc = pr.main([csv_path, "-o", out])
        msg = err.getvalue()
        check("chart modules absent: exit 1, 'not a resim output', the broken one named",
              rc == 1 and "not a resim output" in msg and "broken_mod" in msg
              and "no_such_chart_module" not in msg, msg)
    finally:
        pr.PLUGINS = saved
        sys.path.remove(mods)
    check("the shipped registry names plot_analysis and plot_fit",
          [m for _, m, _, _ in pr.PLUGINS] == ["plot_analysis", "plot_fit"])
    test_shipped_plugins(tmp)


def sobol_input(path, rng, n=256):
    """A Saltelli design over two keys with y = 4 x1 + x2 (S1 near 16/17 and
    1/17), as resim analyze reads it."""
    keys = ["policy.approval.watch", "alt.capacity_factor"]
    a, b = rng.uniform(0, 1, (n, 2)), rng.uniform(0, 1, (n, 2))
    blocks = [("A", a)]
    for i in range(2):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(("AB%d" % (i + 1), ab))
    blocks.append(("B", b))
    with open(path, "w") as f:
        f.write("point,matrix,%s,Dy_all_cum_shortfall\n" % ",".join(keys))
        for j in range(n):
            for g, (name, x) in enumerate(blocks):
                f.write("%d,%s,%r,%r,%r\n" % (j * len(blocks) + g, name, float(x[j, 0]),
                                             float(x[j, 1]), float(4 * x[j, 0] + x[j, 1])))
    return keys


def plugin_items(src, outdir):
    """What scripts/plot gets from the chart module for src, or [] (a FAIL) if it raised."""
    try:
        return pr.charts_for(src, Opts(outdir=outdir))
    except Exception as e:  # noqa: BLE001 - any error is the module failing this file
        check("scripts/plot charts %s without an error" % os.path.basename(src.path), False,
              "%s: %s" % (type(e).__name__, e))
        return []


def test_shipped_plugins(tmp):
    """scripts/plot charts `resim analyze` and `resim fit` outputs through the
    shipped chart modules: the figures carry the CSVs' values."""
    rng = np.random.default_rng(11)
    # Sobol indices.
    design = os.path.join(tmp, "design.csv")
    keys = sobol_input(design, rng)
    sob = os.path.join(tmp, "sobol.csv")
    resim("analyze", design, "--method", "sobol", "--bootstrap", "50", "-o", sob)
    src = pr.Source(sob)
    out = os.path.join(tmp, "plug-analyze")
    items = plugin_items(src, out)
    names = [n for n, _ in items]
    check("scripts/plot on a sobol CSV: one indices chart from plot_analysis",
          names == ["sobol_Dy_all_cum_shortfall_sobol.png"], str(names))
    if items:
        ax = items[0][1].axes[0]
        ticks = [t.get_text() for t in ax.get_yticklabels()]
        st = src.df[src.df["index"] == "ST"].set_index("key")["value"]
        widths = [r.get_width() for r in ax.patches[:len(keys)]]
        check("scripts/plot sobol chart: a bar per key, ST lengths the CSV's, x1 on top",
              sorted(ticks) == sorted(keys) and ticks[-1] == keys[0]
              and np.allclose(widths, [st[k] for k in ticks]), str((ticks, widths, dict(st))))
    for _, fig in items:
        plt.close(fig)
    # PRIM: a box where the first key is below 0.3.
    lhs = os.path.join(tmp, "lhs.csv")
    x = rng.uniform(0, 1, (400, 2))
    with open(lhs, "w") as f:
        f.write("point,%s,Dy_all_min_availability\n" % ",".join(keys))
        for p_, (u, v) in enumerate(x):
            f.write("%d,%r,%r,%r\n" % (p_, float(u), float(v), 0.4 if u < 0.3 else 0.95))
    prim = os.path.join(tmp, "prim.csv")
    resim("analyze", lhs, "--method", "prim", "--condition", "Dy_all_min_availability < 0.5",
          "--density", "0.9", "-o", prim)
    src = pr.Source(prim)
    items = plugin_items(src, out)
    check("scripts/plot on a PRIM CSV: one trade-off chart", [n for n, _ in items] == ["prim_prim.png"],
          str([n for n, _ in items]))
    if items:
        ax = items[0][1].axes[0]
        traj = src.df[src.df["phase"] != "box"]
        pts = [c for c in ax.collections if c.__class__.__name__ == "PathCollection"]
        check("scripts/plot PRIM chart: a point per step at (coverage, density), condition in title",
              len(pts) == 1 and np.allclose(pts[0].get_offsets()[:, 0], traj["coverage"])
              and np.allclose(pts[0].get_offsets()[:, 1], traj["density"])
              and "< 0.5" in ax.get_title(), ax.get_title())
    for _, fig in items:
        plt.close(fig)
    # Observed vs fitted.
    fix = "tests/fixtures/replay.ini"
    truth = os.path.join(tmp, "truth.csv")
    resim("run", fix, "-o", truth)
    run = pd.read_csv(truth)
    obs = os.path.join(tmp, "obs.csv")
    with open(obs, "w") as f:
        f.write("date,value\n")
        for d_, v in zip(run["date"], run["china_arrivals"]):
            f.write("%s,%r\n" % (d_, float(v) * 0.9))
    fitted = os.path.join(tmp, "fitted.csv")
    resim("fit", fix, "--observed", obs, "--measure", "china_arrivals",
          "--free", "alt.capacity_factor=0.5:1.5", "--starts", "1", "--fitted-csv", fitted)
    src = pr.Source(fitted)
    items = plugin_items(src, out)
    check("scripts/plot on a fit series: one chart from plot_fit", [n for n, _ in items] == ["fitted_fit.png"],
          str([n for n, _ in items]))
    if items:
        ax = items[0][1].axes[0]
        lines = [ln for ln in ax.get_lines() if ln.get_label() == "fitted"]
        dots = [c for c in ax.collections if c.get_label() == "observed"]
        check("scripts/plot fit chart: the fitted line and observed dots are the CSV's",
              len(lines) == 1 and np.allclose(lines[0].get_ydata(), src.df["fitted"])
              and len(dots) == 1 and np.allclose(dots[0].get_offsets()[:, 1], src.df["observed"])
              and "RMSE" in ax.get_title(), ax.get_title())
    for _, fig in items:
        plt.close(fig)
    # The command line: PNGs for each, and a bad analyze file refused with one line.
    for f in (sob, prim, fitted):
        check_pngs("scripts/plot %s" % os.path.basename(f), plot([f, "-o", out]), out, 1)
    r = plot([sob, "-o", out, "--outcome", "no_such_measure"])
    check("scripts/plot sobol --outcome of a measure it lacks: exit 1, one line naming the file",
          r.returncode == 1 and "no measure no_such_measure" in r.stderr and sob in r.stderr
          and len(r.stderr.strip().split("\n")) == 1, r.stderr)


# ---------------------------------------------------------------- scripts/run

def test_scripts_run(tmp):
    # A band of 3 replicates: the band's numbers are tests/cli_headline.sh's business.
    env = dict(os.environ, RESIM_BIN=RESIM, RESIM_OUT=os.path.join(tmp, "out"),
               RESIM_BAND_REPLICATES="3")
    work = os.path.join(tmp, "cwd")
    os.makedirs(work)

    def run(*args):
        return subprocess.run([RUN] + list(args), capture_output=True, text=True, env=env,
                              cwd=work)

    r = run(os.path.abspath(SCENARIO), "-o", "mine/q.csv")
    charts = [ln.strip() for ln in r.stdout.split("charts:")[-1].split("\n") if ln.strip()]
    check("scripts/run -o FILE: exit 0, prints FILE",
          r.returncode == 0 and "-> mine/q.csv" in r.stdout, r.stdout + r.stderr)
    check("scripts/run -o FILE: writes FILE (relative to the caller) and its sidecar",
          os.path.isfile(os.path.join(work, "mine", "q.csv"))
          and os.path.isfile(os.path.join(work, "mine", "q.csv.json")))
    check("scripts/run -o FILE: 15 charts of FILE next to it",
          len(charts) == 15 and all(c.startswith("mine/q_") for c in charts), str(charts))

    r = run(os.path.abspath(SCENARIO))
    plain = os.path.join(tmp, "out", "japan-2026.csv")
    check("scripts/run: the plain run goes to out/<stem>.csv",
          r.returncode == 0 and os.path.isfile(plain), r.stderr)
    with open(plain, "rb") as f:
        before = f.read()
    r = run(os.path.abspath(SCENARIO), "--set", OVERRIDE)
    named = os.path.join(tmp, "out", "japan-2026--%s.csv" % OVERRIDE)
    check("scripts/run --set: its own file, named by the override, printed",
          r.returncode == 0 and os.path.isfile(named) and os.path.basename(named) in r.stdout,
          r.stdout + r.stderr)
    with open(plain, "rb") as f:
        check("scripts/run --set: the plain run's CSV is left as it was", f.read() == before)
    check("scripts/run --set: its charts are of its own file",
          "japan-2026--%s_status_Dy.png" % OVERRIDE in r.stdout)
    sets = ["--set", OVERRIDE, "--set", "alt.capacity_factor=0.8", "--set",
            "2026-02.list.add.control=40"]
    r = run(os.path.abspath(SCENARIO), *sets)
    r2 = run(os.path.abspath(SCENARIO), *sets[:4])
    files = os.listdir(os.path.join(tmp, "out"))
    outs = sorted(f for f in files if f.endswith(".csv") and not f.endswith("-ensemble.csv")
                  and not f.endswith(".draws.csv"))
    check("scripts/run: long overrides get a short hash, different overrides different files",
          r.returncode == 0 and r2.returncode == 0 and len(outs) == 4
          and any(f.startswith("japan-2026--set-") and len(f) == len("japan-2026--set-") + 12
                  for f in outs), str(outs))
    check("scripts/run: each run's band ensemble next to its CSV, named after it",
          all(f[:-4] + "-ensemble.csv" in files for f in outs)
          and "lowest availability of all importers over the run" in r.stdout
          and "--replicates 3 -> " in r.stdout, str(sorted(files)) + r.stdout[-300:])
    r = run("no-such.ini")
    check("scripts/run: a missing scenario is a usage error", r.returncode == 2, r.stderr)


# ---------------------------------------------------------------- command line

def test_command_line(tmp, run_csv):
    run = pd.read_csv(run_csv)
    out = os.path.join(tmp, "run")
    paths = check_pngs("run", plot([run_csv, "-o", out]), out, 1 + 2 * 7)
    stem = os.path.splitext(os.path.basename(run_csv))[0]
    check("run: supply and status charts for Dy",
          {os.path.join(out, "%s_supply_Dy.png" % stem),
           os.path.join(out, "%s_status_Dy.png" % stem)} <= set(paths))
    out = os.path.join(tmp, "run-el")
    paths = check_pngs("run --element Dy --element Tb",
                       plot([run_csv, "-o", out, "--element", "Dy", "--element", "Tb"]), out, 5)
    check("run --element: only the elements asked for", len(paths) == 5, str(paths))
    r = plot([run_csv, "-o", os.path.join(tmp, "x"), "--element", "Nd"])
    check("run --element Nd (absent): exit 1 naming the element",
          r.returncode == 1 and "Nd" in r.stderr, r.stderr)
    r = plot([run_csv, "--element", "Lu"])
    check("run without -o: charts next to the CSV",
          r.returncode == 0 and all(os.path.dirname(p) == os.path.dirname(run_csv)
                                    for p in r.stdout.split()), r.stdout + r.stderr)
    r = plot([run_csv, "--threshold", "1.5"])
    check("--threshold outside [0, 1]: usage error", r.returncode == 2, r.stderr)

    for label, qs in (("default quantiles", [0.05, 0.25, 0.5, 0.75, 0.95]),
                      ("quantiles 0.025 .. 0.975", [0.025, 0.1, 0.5, 0.9, 0.975])):
        ens = synthetic_ensemble(run, qs)
        path = os.path.join(tmp, "ens-syn.csv")
        ens.to_csv(path, index=False)
        out = os.path.join(tmp, "ens-%d" % len(label))
        check_pngs("ensemble, %s" % label, plot([path, "-o", out]), out, 2 * 7)
    raw = synthetic_raw(run[run["element"].isin(["Dy", "Y"])], 120)
    path = os.path.join(tmp, "raw-syn.csv")
    raw.to_csv(path, index=False)
    out = os.path.join(tmp, "raw")
    check_pngs("raw replicates (120, 100 drawn)", plot([path, "-o", out]), out, 2)
    src = pr.Source(path)
    fig = pr.fig_replicates(src, "Dy")
    check("raw: 100 replicate lines and the median",
          len(fig.axes[0].get_lines()) == 100 + 2 and [ln.get_label() for ln in
                                                       data_lines(fig.axes[0])]
          == ["median of all 120 replicates"])
    plt.close(fig)

    for label, sw, extra in (
            ("grid sweep, three keys", synthetic_sweep("grid"), []),
            ("lhs sweep, 60 points (scatter)", synthetic_sweep("lhs", 60), []),
            ("sobol sweep, 512 points (hexbin)", synthetic_sweep("lhs", 512), []),
            ("grid sweep, --x/--y/--outcome", synthetic_sweep("grid"),
             ["--x", "stockpile.trigger", "--y", "alt.capacity_factor",
              "--outcome", "Dy_watch_months_below"])):
        path = os.path.join(tmp, "sweep.csv")
        sw.to_csv(path, index=False)
        out = os.path.join(tmp, "sweep-" + str(abs(hash(label)) % 10000))
        paths = check_pngs(label, plot([path, "-o", out] + extra), out, 1)
        if extra:
            check("sweep --outcome names the chart",
                  any("Dy_watch_months_below" in p for p in paths), str(paths))
    r = plot([path, "-o", os.path.join(tmp, "x"), "--outcome", "Nd_all_cum_shortfall"])
    check("sweep with an unknown --outcome: exit 1 naming it",
          r.returncode == 1 and "Nd_all_cum_shortfall" in r.stderr, r.stderr)
    r = plot([run_csv, path])
    check("compare a run with a sweep: exit 1", r.returncode == 1 and "sweep" in r.stderr,
          r.stderr)

    unknown = os.path.join(tmp, "prices.csv")
    with open(unknown, "w") as f:
        f.write("date,element,price_usd_kg\n2025-01,Dy,230\n")
    out = os.path.join(tmp, "unknown")
    r = plot([unknown, "-o", out])
    check("unknown CSV: exit 1 with a message on stderr",
          r.returncode == 1 and "not a resim output" in r.stderr and r.stdout == "",
          "rc=%d stderr=%r" % (r.returncode, r.stderr))
    check("unknown CSV: no charts written", not os.path.isdir(out) or not os.listdir(out))
    r = plot([os.path.join(tmp, "missing.csv")])
    check("missing file: exit 1", r.returncode == 1 and "missing.csv" in r.stderr, r.stderr)
    r = plot([])
    check("no arguments: usage error, exit 2", r.returncode == 2, str(r.returncode))


def command_line(tmp):
    run_csv = os.path.join(tmp, "japan.csv")
    resim("run", SCENARIO, "--by", "status", "-o", run_csv)
    test_command_line(tmp, run_csv)


# The parts, longest first: each writes in its own folder and draws its own
# figures, so they run side by side in forked workers (most of the time is
# scripts/plot starting and writing PNGs); RESIM_TEST_JOBS=1 runs them in turn.
PARTS = (command_line, test_scripts_run, test_run_charts, test_compare, test_ensemble,
         test_sweep, test_plugins)


def run_part(args):
    """Runs one part; returns its printed lines and counts (in a worker, its own)."""
    global passed, failed
    test, tmp = args
    import contextlib
    import io
    import traceback
    passed = failed = 0
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            os.makedirs(os.path.join(tmp, test.__name__))
            test(os.path.join(tmp, test.__name__))
        except Exception as e:  # one broken part must not hide the others' results
            traceback.print_exc()
            check("%s ran to the end" % test.__name__, False, "%s: %s" % (type(e).__name__, e))
        plt.close("all")
    return buf.getvalue(), passed, failed


def main():
    global passed, failed
    tmp = tempfile.mkdtemp(prefix="resim-plot.")
    pr.style()
    jobs = int(os.environ.get("RESIM_TEST_JOBS", "0") or 0) or min(2, os.cpu_count() or 1)
    results = []
    try:
        work = [(test, tmp) for test in PARTS]
        if jobs > 1:
            import multiprocessing
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                results = pool.map(run_part, work, chunksize=1)
        else:
            results = [run_part(w) for w in work]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = failed = 0
    for text, p, f in results:
        sys.stdout.write(text)
        passed, failed = passed + p, failed + f
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
