#!/usr/bin/python3
"""Charts for `resim analyze` outputs (docs/analyze.md):

- sobol:  per measure, S1 and ST of every key with their intervals as bars
          sorted by ST; per monthly series, the index of every key over the
          dates (one line per key, the interval shaded).
- morris: per measure, mu* of every key with its interval, sorted.
- prim:   the peeling trajectory (density against coverage, coloured by the
          number of restricted keys), the chosen box marked, and its limits.

Usage: scripts/plot_analysis.py FILE.csv [-o DIR] [--measure NAME]... [--index S1|ST]
Writes 1200 x 800 PNGs into DIR (default: beside FILE) and prints their paths.
Exit 0 on success, 1 on a file it cannot chart, 2 on a bad command line.

Each chart is built by a function that returns the matplotlib figure, so
tests can inspect its axes, bars, lines and labels. Standalone: it does not
import scripts/plot_resim.py, which charts these files through detect() and
plugin_charts() (its PLUGINS table), so `scripts/plot FILE.csv` works too.
"""

import argparse
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")  # headless: no display needed, same output everywhere

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

WIDTH_PX, HEIGHT_PX, DPI = 1200, 800, 100
INDEX_STYLE = {"S1": ("tab:blue", "first order S1"), "ST": ("tab:orange", "total ST")}


class ChartError(Exception):
    """A file or selection that cannot be charted."""


def kind_of(columns):
    """The kind of analyze CSV a header belongs to: sobol, morris, prim, or None."""
    cols = set(columns)
    if {"measure", "index", "key", "value", "lo", "hi", "estimator"} <= cols:
        return "sobol"
    if {"measure", "key", "mu", "mu_star", "sigma"} <= cols:
        return "morris"
    if {"step", "phase", "coverage", "density", "restricted", "chosen"} <= cols:
        return "prim"
    return None


def _text_columns(df):
    """date and key2 as text, '' where empty (a scalar measure, a first-order index)."""
    for c in ("date", "key2"):
        if c in df.columns:
            df[c] = df[c].map(lambda v: "" if pd.isna(v) else str(v))
    return df


def read(path):
    """Reads an analyze CSV and tells its kind: sobol, morris or prim."""
    try:
        df = pd.read_csv(path, dtype={"date": str, "key2": str}, keep_default_na=True)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ChartError("%s: %s" % (path, e))
    kind = kind_of(df.columns)
    if kind is None:
        raise ChartError("%s: not an output of resim analyze (columns %s)"
                         % (path, ", ".join(df.columns[:6])))
    return kind, _text_columns(df)


def _figure():
    return plt.figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)


def _title(measure, date):
    return measure + (" in %s" % date if date else "")


def indices_figure(df, measure, date=""):
    """S1 and ST of every key for one measure (and month), horizontal bars
    sorted by ST (largest on top), each with its bootstrap interval."""
    sel = df[(df["measure"] == measure) & (df["date"] == date) & df["index"].isin(["S1", "ST"])]
    if sel.empty:
        raise ChartError("no Sobol indices for %s" % _title(measure, date))
    wide = sel.pivot(index="key", columns="index", values=["value", "lo", "hi"])
    order = wide[("value", "ST")].fillna(-np.inf).sort_values(ascending=True).index
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    ypos = np.arange(len(order))
    height = 0.38
    for shift, idx in ((height / 2, "ST"), (-height / 2, "S1")):
        color, label = INDEX_STYLE[idx]
        v = wide.loc[order, ("value", idx)].to_numpy(dtype=float)
        lo = wide.loc[order, ("lo", idx)].to_numpy(dtype=float)
        hi = wide.loc[order, ("hi", idx)].to_numpy(dtype=float)
        err = np.vstack([np.where(np.isnan(lo), 0, v - lo), np.where(np.isnan(hi), 0, hi - v)])
        ax.barh(ypos + shift, np.nan_to_num(v), height=height, color=color, label=label,
                xerr=err, capsize=3, error_kw={"elinewidth": 1.2, "ecolor": "black"})
    ax.set_yticks(ypos)
    ax.set_yticklabels(list(order))
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("Sobol index (share of output variance); bars: 95 % bootstrap interval")
    est = sel.groupby("index")["estimator"].first()
    ax.set_title("Sensitivity of %s (S1: %s, ST: %s)"
                 % (_title(measure, date), est.get("S1", "?"), est.get("ST", "?")))
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def time_resolved_figure(df, measure, index="S1"):
    """One line per key: the index of a monthly series over its dates, the
    interval shaded."""
    sel = df[(df["measure"] == measure) & (df["date"] != "") & (df["index"] == index)]
    if sel.empty:
        raise ChartError("no dated %s indices for %s (a series MEASURE@YYYY-MM)"
                         % (index, measure))
    dates = sorted(sel["date"].unique())
    x = pd.to_datetime(dates, format="%Y-%m")
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    for key in sel["key"].unique():  # sweep order
        k = sel[sel["key"] == key].set_index("date").reindex(dates)
        line, = ax.plot(x, k["value"].to_numpy(dtype=float), marker="o", markersize=3,
                        linewidth=1.8, label=key)
        ax.fill_between(x, k["lo"].to_numpy(dtype=float), k["hi"].to_numpy(dtype=float),
                        color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set_ylabel("%s Sobol index" % index)
    ax.set_xlabel("month")
    ax.set_title("Which key drives %s, month by month (%s, %s)"
                 % (measure, index, sel["estimator"].iloc[0]))
    ax.set_ylim(min(-0.05, np.nanmin(sel["lo"].to_numpy(dtype=float), initial=0)),
                max(1.05, np.nanmax(sel["hi"].to_numpy(dtype=float), initial=1)))
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def morris_figure(df, measure, date=""):
    """mu* of every key for one measure, sorted bars with intervals, sigma
    as a second marker."""
    sel = df[(df["measure"] == measure) & (df["date"] == date)]
    if sel.empty:
        raise ChartError("no Morris effects for %s" % _title(measure, date))
    sel = sel.sort_values("mu_star", ascending=True)
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    ypos = np.arange(len(sel))
    v = sel["mu_star"].to_numpy(dtype=float)
    lo = sel["mu_star_lo"].to_numpy(dtype=float)
    hi = sel["mu_star_hi"].to_numpy(dtype=float)
    err = np.vstack([np.where(np.isnan(lo), 0, v - lo), np.where(np.isnan(hi), 0, hi - v)])
    ax.barh(ypos, v, height=0.6, color="tab:blue", label="mu* (mean |effect|)", xerr=err,
            capsize=3)
    ax.plot(sel["sigma"].to_numpy(dtype=float), ypos, "D", color="tab:red",
            label="sigma (spread: non-linearity, interaction)")
    ax.set_yticks(ypos)
    ax.set_yticklabels(list(sel["key"]))
    ax.set_xlabel("elementary effect per unit of scaled key range")
    ax.set_title("Morris screening of %s (%s)" % (_title(measure, date), sel["estimator"].iloc[0]))
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def prim_limits(df):
    """The chosen box's limits per restricted key: [(key, lo, hi)], NaN for
    an open side; [] when there is no chosen box."""
    box = df[df["phase"] == "box"]
    if box.empty:
        return []
    row = box.iloc[0]
    out = []
    for c in df.columns:
        if c.startswith("lo:"):
            key = c[3:]
            lo, hi = row[c], row["hi:" + key]
            if not (pd.isna(lo) and pd.isna(hi)):
                out.append((key, float(lo), float(hi)))
    return out


def prim_figure(df, condition=""):
    """Left: the trade-off of density against coverage along the peeling
    trajectory, points coloured by the number of restricted keys, the chosen
    box marked. Right: the chosen box's limits."""
    traj = df[df["phase"].isin(["start", "peel", "paste"])]
    if traj.empty:
        raise ChartError("no PRIM trajectory")
    fig = _figure()
    ax = fig.add_axes([0.07, 0.1, 0.5, 0.8])
    peel = traj[traj["phase"] != "paste"]
    ax.plot(peel["coverage"], peel["density"], "-", color="grey", linewidth=1, zorder=1,
            label="peeling trajectory")
    sc = ax.scatter(traj["coverage"], traj["density"], c=traj["restricted"], cmap="viridis",
                    s=28, zorder=2)
    fig.colorbar(sc, ax=ax, label="restricted keys", pad=0.01)
    chosen = df[(df["chosen"] == 1) & (df["phase"] != "box")]
    if not chosen.empty:
        c = chosen.iloc[0]
        ax.plot([c["coverage"]], [c["density"]], "o", markersize=14, markerfacecolor="none",
                markeredgecolor="tab:red", markeredgewidth=2, zorder=3,
                label="chosen box (step %d)" % c["step"])
    ax.set_xlabel("coverage (share of the points of interest inside the box)")
    ax.set_ylabel("density (share of the box's points that are of interest)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("PRIM trade-off%s" % (": " + condition if condition else ""))
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    side = fig.add_axes([0.69, 0.1, 0.3, 0.8])
    side.axis("off")
    lines = []
    box = df[df["phase"] == "box"]
    if box.empty:
        lines.append("no box reaches the density threshold")
    else:
        b = box.iloc[0]
        lines.append("chosen box: coverage %.3f, density %.3f" % (b["coverage"], b["density"]))
        lines.append("%d points, %d of interest" % (b["inside"], b["interest"]))
        lines.append("")
        lines.append("restricted keys (- : open side):")
        for key, lo, hi in prim_limits(df):
            lo_s = "%.4g" % lo if not np.isnan(lo) else "-"
            hi_s = "%.4g" % hi if not np.isnan(hi) else "-"
            lines.append("%s: %s .. %s" % (key, lo_s, hi_s))
    y = 1.0
    for text in lines:
        if ": " in text and " .. " in text:
            # Key name on one line, its limits indented below it.
            key, lim = text.split(": ", 1)
            side.text(0, y, key, transform=side.transAxes, va="top", fontsize=10,
                      fontweight="bold", gid=text)
            side.text(0.05, y - 0.035, lim, transform=side.transAxes, va="top", fontsize=10,
                      family="monospace")
            y -= 0.085
        else:
            side.text(0, y, text, transform=side.transAxes, va="top", fontsize=10, wrap=True)
            y -= 0.05
    return fig


def _slug(s):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s)


def _save(fig, outdir, name):
    path = os.path.join(outdir, name + ".png")
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def read_condition(path):
    """The PRIM condition named by the sidecar FILE.json, or ''."""
    try:
        with open(path + ".json") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return ""
    return meta.get("condition", "") if isinstance(meta, dict) else ""


def figures(kind, df, base, path, condition="", measures=(), index="S1"):
    """Every chart of an analyze table as [(name without .png, Figure)]."""
    if kind == "prim":
        return [(base + "_prim", prim_figure(df, condition))]
    names = list(measures) or list(dict.fromkeys(df["measure"]))
    missing = [m for m in names if m not in set(df["measure"])]
    if missing:
        raise ChartError("%s: no measure %s" % (path, missing[0]))
    out = []
    for m in names:
        sel = df[df["measure"] == m]
        if kind == "sobol":
            if (sel["value"].notna()).sum() == 0:
                continue  # a constant measure: nothing to draw
            scalar = sel[sel["date"] == ""]
            if not scalar.empty:
                out.append(("%s_%s_sobol" % (base, _slug(m)), indices_figure(df, m)))
            if (sel["date"] != "").any():
                out.append(("%s_%s_%s_over_time" % (base, _slug(m), index),
                            time_resolved_figure(df, m, index)))
        else:
            if sel["mu_star"].notna().sum() == 0:
                continue
            for date in dict.fromkeys(sel["date"]):
                out.append(("%s_%s%s_morris" % (base, _slug(m), "_" + date if date else ""),
                            morris_figure(df, m, date)))
    return out


def charts(path, outdir, measures=(), index="S1"):
    """Writes every chart of an analyze CSV; returns the paths."""
    kind, df = read(path)
    base = _slug(os.path.splitext(os.path.basename(path))[0])
    return [_save(fig, outdir, name) for name, fig in
            figures(kind, df, base, path, read_condition(path), measures, index)]


# scripts/plot's chart-module interface (PLUGINS in scripts/plot_resim.py).

def detect(columns):
    """Whether a header is that of a resim analyze output."""
    return kind_of(columns) is not None


def plugin_charts(df, path, opts):
    """[(file name, Figure)] for the analyze CSV at path, already read into df;
    scripts/plot saves them. --outcome picks one measure (default: all)."""
    meta = getattr(opts, "meta", None) or {}
    condition = meta.get("condition", "") if isinstance(meta, dict) else ""
    measures = [opts.outcome] if getattr(opts, "outcome", None) else []
    items = figures(kind_of(df.columns), _text_columns(df.copy()), _slug(opts.stem), path,
                    condition or read_condition(path), measures)
    return [(name + ".png", fig) for name, fig in items]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Charts for resim analyze outputs.")
    ap.add_argument("csv")
    ap.add_argument("-o", "--outdir")
    ap.add_argument("--measure", action="append", default=[])
    ap.add_argument("--index", choices=["S1", "ST"], default="S1",
                    help="index drawn over time for a monthly series (default S1)")
    a = ap.parse_args(argv)
    outdir = a.outdir or os.path.dirname(os.path.abspath(a.csv))
    try:
        os.makedirs(outdir, exist_ok=True)
        for p in charts(a.csv, outdir, a.measure, a.index):
            print(p)
    except ChartError as e:
        print("plot_analysis: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
