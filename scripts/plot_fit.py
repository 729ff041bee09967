#!/usr/bin/python3
"""The chart of a `resim fit` series CSV: observed vs fitted, month by month.

    scripts/plot_fit.py FITTED.csv [-o DIR]     writes DIR/<stem>_fit.png (1200 x 800)

The CSV is `date,observed,fitted,residual,weight` (docs/fit.md); its sidecar
FITTED.csv.json, when present, names the measure, the normalisation month,
the RMSE and each fitted key with its interval, which go into the title and a
note on the chart. fit_figure() returns the matplotlib figure so that tests
can inspect it; plot_fit() writes the PNG and returns its path in a list, like
the other chart functions of scripts/plot. detect() and plugin_charts() let
scripts/plot chart these files too (PLUGINS in scripts/plot_resim.py).
"""

import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")  # headless: no display needed, same output everywhere

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

WIDTH_PX, HEIGHT_PX, DPI = 1200, 800, 100
FIT_COLUMNS = ["date", "observed", "fitted", "residual", "weight"]
# Stocks are end-of-month tonnes, ratios have their own units; every other metric is a flow.
STOCKS = {"china_pending", "national_stockpile", "inventory"}
UNITS = {"availability": "fraction of demand", "cover_days": "days"}
GROUP_LABEL = {"all": "all importers", "none": "not listed", "watch": "watch list",
               "control": "control list"}


class FitPlotError(Exception):
    """A file that is not a resim fit series; main() prints it and exits 1."""


def is_fit_csv(columns):
    """Whether a header is that of a `resim fit` series CSV."""
    return list(columns)[:4] == FIT_COLUMNS[:4]


def read_sidecar(path):
    """FILE.json next to the CSV, or {} when absent or unreadable."""
    try:
        with open(path + ".json", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _ylabel(meta):
    m = meta.get("measure") or {}
    col = m.get("column", "measure")
    norm = meta.get("normalise")
    if norm:
        return "%s relative to %s (= 1)" % (col, norm["month"])
    if col in UNITS:
        return "%s (%s)" % (col, UNITS[col])
    return "%s (%s)" % (col, "t REO" if col in STOCKS else "t REO / month")


def _key_note(meta):
    """One line per fitted key: estimate and interval, or 'not identified'."""
    lines = []
    for f in meta.get("free", []):
        if f.get("identified"):
            iv = "[%.4g, %.4g]" % (f["lower"], f["upper"])
        else:
            iv = "not identified in [%.4g, %.4g]" % (f["lo"], f["hi"])
        lines.append("%s = %.4g  %s" % (f["key"], f["estimate"], iv))
    return "\n".join(lines)


def fit_figure(df, meta=None):
    """The observed-vs-fitted chart of one fit as a matplotlib Figure (not saved).

    Observed months are dots (hollow where their weight is 0, i.e. not
    fitted), the fitted series a line; the title names the measure and the
    RMSE, and a note lists the fitted keys with their 95 % intervals.
    """
    meta = meta or {}
    if not is_fit_csv(df.columns):
        raise FitPlotError("not a resim fit series (header %s)" % ",".join(map(str, df.columns)))
    if df.empty:
        raise FitPlotError("the fit series has no rows")
    when = pd.to_datetime(df["date"].astype(str), format="%Y-%m")
    weight = df["weight"].astype(float) if "weight" in df.columns else pd.Series(1.0, df.index)
    fig, ax = plt.subplots(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI,
                           layout="constrained")
    ax.plot(when, df["fitted"].astype(float), color="tab:red", lw=2.2, label="fitted",
            zorder=2)
    used = weight > 0
    ax.scatter(when[used], df["observed"][used].astype(float), s=36, color="black",
               label="observed", zorder=3)
    if (~used).any():
        ax.scatter(when[~used], df["observed"][~used].astype(float), s=36, facecolors="none",
                   edgecolors="black", label="observed, weight 0 (not fitted)", zorder=3)
    m = meta.get("measure") or {}
    what = m.get("spec", "measure")
    if m.get("elements"):
        what = "%s, %s, %s" % (m.get("column", what), " + ".join(m["elements"]),
                               GROUP_LABEL.get(m.get("group", "all"), m.get("group", "all")))
    title = "Observed vs fitted: %s" % what
    if meta.get("rmse") is not None:
        title += "  (RMSE %.4g)" % meta["rmse"]
    ax.set_title(title)
    ax.set_ylabel(_ylabel(meta))
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=[1, 4, 7, 10]))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.legend(loc="best")
    note = _key_note(meta)
    if note:
        # Room under the data for the note: about 4.5 % of the height a line.
        frac = 0.045 * (note.count("\n") + 1) + 0.03
        y0, y1 = ax.get_ylim()
        ax.set_ylim(y0 - frac / (1 - frac) * (y1 - y0), y1)
        ax.text(0.01, 0.02, note, transform=ax.transAxes, fontsize=10, family="monospace",
                va="bottom", ha="left",
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "lw": 0.5})
    return fig


def plot_fit(df, path, outdir, stem):
    """Writes <outdir>/<stem>_fit.png for the series CSV at path; returns [its path]."""
    fig = fit_figure(df, read_sidecar(path))
    out = os.path.join(outdir, "%s_fit.png" % stem)
    fig.savefig(out, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return [out]


# scripts/plot's chart-module interface (PLUGINS in scripts/plot_resim.py).

def detect(columns):
    """Whether a header is that of a resim fit series."""
    return is_fit_csv(columns)


def plugin_charts(df, path, opts):
    """[(file name, Figure)] for the fit series at path, already read into df;
    scripts/plot saves it as <stem>_fit.png."""
    meta = getattr(opts, "meta", None) or read_sidecar(path)
    return [("%s_fit.png" % opts.stem, fit_figure(df, meta))]


def main(argv=None):
    p = argparse.ArgumentParser(prog="scripts/plot_fit.py",
                                description="Chart of a resim fit series CSV (observed vs fitted).")
    p.add_argument("csv", metavar="FITTED.csv")
    p.add_argument("-o", "--outdir", metavar="DIR", help="where to write (default: next to FILE)")
    a = p.parse_args(argv)
    try:
        try:
            df = pd.read_csv(a.csv)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError,
                UnicodeDecodeError) as e:
            raise FitPlotError("cannot read CSV (%s)" % e) from None
        outdir = a.outdir or os.path.dirname(os.path.abspath(a.csv))
        os.makedirs(outdir, exist_ok=True)
        paths = plot_fit(df, a.csv, outdir, os.path.splitext(os.path.basename(a.csv))[0])
    except (FitPlotError, KeyError, ValueError, TypeError) as e:
        print("scripts/plot_fit.py: %s: %s" % (a.csv, e), file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
