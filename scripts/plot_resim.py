"""Charts for resim's CSV outputs (used by scripts/plot).

Detects the kind of output from its header row and writes 1200 x 800 PNGs:

- run:       `resim run` output; per element a supply chart and availability
             by list status, plus an overview of all elements.
- ensemble:  `resim run --replicates N` summary; per element fan charts of
             availability and shortfall, and the probability of availability
             below the threshold.
- raw:       `resim run --replicates N --raw FILE`; per element a spaghetti
             chart of availability (up to 100 replicates).
- sweep:     `resim sweep` output; a heat map of one outcome over two of the
             varied keys (pivot for grids, hexbin or scatter for lhs/sobol).

Every function writes files and returns their paths; main() prints them.
"""

import argparse
import json
import math
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")  # headless: no display needed, same output everywhere

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

WIDTH_PX, HEIGHT_PX, DPI = 1200, 800, 100
ID_COLUMNS = ["scenario", "date", "month", "element", "group"]
RUN_METRICS = ["demand", "requirement", "alt_capacity", "alt_supply", "china_applied",
               "china_approved", "china_rejected", "china_pending", "china_arrivals",
               "stockpile_release", "national_stockpile", "inventory", "consumption",
               "shortfall", "availability", "cover_days"]
STATUS_GROUPS = ["all", "none", "watch", "control"]
STATUS_STYLE = {"all": ("black", "-", 2.4), "none": ("tab:blue", "-", 1.6),
                "watch": ("tab:orange", "-", 1.6), "control": ("tab:red", "-", 1.6)}
STATUS_LABEL = {"all": "all importers", "none": "not listed", "watch": "watch list",
                "control": "control list"}
SUPPLY_LAYERS = [("china_arrivals", "China arrivals", "#d62728"),
                 ("alt_supply", "alternative supply", "#2ca02c"),
                 ("stockpile_release", "national stockpile release", "#9467bd"),
                 ("shortfall", "shortfall", "#7f7f7f")]
QUANTILE_RE = re.compile(r"^(?P<metric>.+)_p(?P<pct>\d+(?:\.\d+)?)$")
OUTCOME_RE = re.compile(r"^(?P<el>[A-Z][a-z]?)_(?P<group>[^_]+)_(?P<measure>.+)$")
MEASURE_UNITS = {"cum_shortfall": "t REO", "peak_shortfall": "t REO / month",
                 "shortfall": "t REO", "min_availability": "fraction of demand",
                 "mean_availability": "fraction of demand",
                 "months_below": "months", "peak_month": "model month",
                 "min_month": "model month", "first_below": "model month"}


class PlotError(Exception):
    """A problem with the input file; main() prints it and exits 1."""


# ---------------------------------------------------------------- helpers

def new_figure(nrows=1, height_ratios=None, sharex=True):
    """A 1200 x 800 figure; never use bbox_inches='tight' (it changes the size)."""
    fig, axes = plt.subplots(nrows, 1, figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI,
                             sharex=sharex, squeeze=False, layout="constrained",
                             gridspec_kw={"height_ratios": height_ratios} if height_ratios else None)
    return fig, [a for a in axes[:, 0]]


def save(fig, path):
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def date_axis(ax):
    """Years as major ticks, quarters as minor ticks, YYYY-MM labels."""
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=[1, 4, 7, 10]))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)


def percent_axis(ax, top=1.03):
    """Percent labels; the axis starts at a round tenth below the lowest value."""
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    lo = ax.dataLim.y0 if np.isfinite(ax.dataLim.y0) else 0.0
    ax.set_ylim(max(0.0, math.floor((lo - 0.05) * 10) / 10), top)


def style():
    plt.rcParams.update({"font.size": 12, "axes.titlesize": 15, "axes.labelsize": 13,
                         "legend.fontsize": 11, "xtick.labelsize": 11, "ytick.labelsize": 11,
                         "axes.spines.top": False, "axes.spines.right": False})


def read_csv(path):
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise PlotError("%s: cannot read CSV (%s)" % (path, e)) from None


def with_dates(df):
    df = df.copy()
    df["when"] = pd.to_datetime(df["date"].astype(str), format="%Y-%m")
    return df


def pick_elements(df, wanted, path):
    present = list(dict.fromkeys(df["element"].astype(str)))
    if not wanted:
        return present
    missing = [e for e in wanted if e not in present]
    if missing:
        raise PlotError("%s: no rows for element %s (elements: %s)"
                        % (path, ", ".join(missing), " ".join(present)))
    return [e for e in present if e in wanted]


def scenario_name(df):
    names = list(dict.fromkeys(df["scenario"].astype(str)))
    return names[0] if len(names) == 1 else ", ".join(names)


def sidecar(path):
    """The run metadata next to the CSV (FILE.json), or {} if absent or unreadable."""
    try:
        with open(path + ".json", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------- kinds

def detect_kind(columns):
    """Returns 'run', 'ensemble', 'raw' or 'sweep' from the header, or None."""
    cols = list(columns)
    if cols and cols[0] == "point":
        return "sweep"
    if cols[:3] == ["scenario", "replicate", "date"] and "availability" in cols:
        return "raw"
    if cols[:5] == ID_COLUMNS:
        if "availability_mean" in cols or "prob_availability_below" in cols:
            return "ensemble"
        if cols[5:5 + len(RUN_METRICS)] == RUN_METRICS:
            return "run"
    return None


# ---------------------------------------------------------------- run CSV

def plot_run(df, path, outdir, elements, stem):
    df = with_dates(df)
    scen = scenario_name(df)
    out = []
    els = pick_elements(df, elements, path)
    groups = list(dict.fromkeys(df["group"].astype(str)))
    allrows = df[df["group"] == "all"]

    # Overview: availability of every element, all importers.
    fig, (ax,) = new_figure()
    cmap = plt.get_cmap("tab10")
    for k, el in enumerate(els):
        d = allrows[allrows["element"] == el]
        ax.plot(d["when"], d["availability"], lw=2, color=cmap(k % 10), label=el)
    ax.set_title("%s: availability by element, all importers" % scen)
    ax.set_ylabel("availability (consumption / demand)")
    ax.set_xlabel("month")
    date_axis(ax)
    percent_axis(ax)
    ax.legend(title="element", loc="best", ncol=min(len(els), 4))
    out.append(save(fig, os.path.join(outdir, "%s_availability.png" % stem)))

    for el in els:
        d = allrows[allrows["element"] == el]
        # Supply: what covered demand each month, stacked; inventory makes up the rest.
        fig, (ax,) = new_figure()
        ys = [d[c].to_numpy(dtype=float) for c, _, _ in SUPPLY_LAYERS]
        ax.stackplot(d["when"], *ys, labels=[lab for _, lab, _ in SUPPLY_LAYERS],
                     colors=[col for _, _, col in SUPPLY_LAYERS], alpha=0.85)
        ax.plot(d["when"], d["demand"], color="black", lw=2.2, label="demand")
        ax.plot(d["when"], d["consumption"], color="black", lw=1.2, ls=":", label="consumption")
        ax.set_title("%s: %s supply to Japanese importers" % (scen, el))
        ax.set_ylabel("t REO per month")
        ax.set_xlabel("month (stack above demand refills inventory, below it draws inventory down)")
        ax.set_ylim(bottom=0)
        date_axis(ax)
        ax.legend(loc="upper left", ncol=3)
        out.append(save(fig, os.path.join(outdir, "%s_supply_%s.png" % (stem, el))))

        # Availability by list status; a group with no demand that month has no line.
        fig, (ax,) = new_figure()
        for g in [g for g in STATUS_GROUPS if g in groups]:
            dg = df[(df["element"] == el) & (df["group"] == g)]
            a = dg["availability"].where(dg["demand"] > 0)
            if a.notna().any():
                color, ls, lw = STATUS_STYLE[g]
                ax.plot(dg["when"], a, color=color, ls=ls, lw=lw, label=STATUS_LABEL[g])
        ax.set_title("%s: %s availability by list status" % (scen, el))
        ax.set_ylabel("availability (consumption / demand)")
        ax.set_xlabel("month (a status with no importers using %s has no line)" % el)
        date_axis(ax)
        percent_axis(ax)
        ax.legend(loc="lower left")
        out.append(save(fig, os.path.join(outdir, "%s_status_%s.png" % (stem, el))))
    return out


# ---------------------------------------------------------------- ensemble summary

def quantile_columns(columns, metric):
    """[(q, column)] sorted by q, for columns named <metric>_pQQ."""
    qs = []
    for c in columns:
        m = QUANTILE_RE.match(c)
        if m and m.group("metric") == metric:
            qs.append((float(m.group("pct")) / 100.0, c))
    return sorted(qs)


def fan(ax, d, columns, metric):
    """Quantile bands (outer lightest), median line, mean dashed."""
    qs = quantile_columns(columns, metric)
    lo, hi = 0, len(qs) - 1
    bands = []
    while lo < hi:
        bands.append((qs[lo], qs[hi]))
        lo, hi = lo + 1, hi - 1
    for k, ((ql, cl), (qh, ch)) in enumerate(bands):
        alpha = 0.18 + 0.5 * (k + 1) / (len(bands) + 1)
        ax.fill_between(d["when"], d[cl], d[ch], color="tab:blue", alpha=alpha, lw=0,
                        label="%g–%g %% of replicates" % (ql * 100, qh * 100))
    med = [c for q, c in qs if abs(q - 0.5) < 1e-12]
    if med:
        ax.plot(d["when"], d[med[0]], color="navy", lw=2.2, label="median")
    if metric + "_mean" in d:
        ax.plot(d["when"], d[metric + "_mean"], color="black", lw=1.6, ls="--", label="mean")


def threshold_text(meta):
    for key in ("threshold", "availability_threshold", "below"):
        if key in meta:
            return "%g" % float(meta[key])
    for v in meta.values():
        if isinstance(v, dict):
            t = threshold_text(v)
            if t:
                return t
    return None


def plot_ensemble(df, path, outdir, elements, stem, group):
    df = with_dates(df)
    scen = scenario_name(df)
    cols = list(df.columns)
    if not quantile_columns(cols, "availability") and "availability_mean" not in cols:
        raise PlotError("%s: ensemble summary without availability columns" % path)
    thr = threshold_text(sidecar(path))
    thr_label = "P(availability < %s)" % thr if thr else "P(availability below threshold)"
    reps = sidecar(path).get("replicates")
    rep_text = " (%s replicates)" % reps if reps else ""
    sel = df[df["group"] == group]
    if sel.empty:
        raise PlotError("%s: no rows for group '%s'" % (path, group))
    out = []
    for el in pick_elements(sel, elements, path):
        d = sel[sel["element"] == el]
        fig, (ax, axp) = new_figure(2, height_ratios=[3, 1])
        fan(ax, d, cols, "availability")
        ax.set_title("%s: %s availability, %s importers%s" % (scen, el, group, rep_text))
        ax.set_ylabel("availability (consumption / demand)")
        date_axis(ax)
        percent_axis(ax)
        ax.legend(loc="lower left", ncol=2)
        if "prob_availability_below" in d:
            axp.fill_between(d["when"], 0, d["prob_availability_below"], color="tab:red",
                             alpha=0.35, lw=0)
            axp.plot(d["when"], d["prob_availability_below"], color="tab:red", lw=1.8)
        axp.set_ylabel(thr_label, fontsize=11)
        axp.set_ylim(0, 1.02)
        axp.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        axp.set_xlabel("month")
        date_axis(axp)
        out.append(save(fig, os.path.join(outdir, "%s_fan_availability_%s.png" % (stem, el))))

        fig, (ax,) = new_figure()
        fan(ax, d, cols, "shortfall")
        ax.set_title("%s: %s shortfall, %s importers%s" % (scen, el, group, rep_text))
        ax.set_ylabel("shortfall, t REO per month")
        ax.set_xlabel("month")
        ax.set_ylim(bottom=0)
        date_axis(ax)
        ax.legend(loc="upper left", ncol=2)
        out.append(save(fig, os.path.join(outdir, "%s_fan_shortfall_%s.png" % (stem, el))))
    return out


# ---------------------------------------------------------------- raw replicates

def plot_raw(df, path, outdir, elements, stem, group, max_lines=100):
    df = with_dates(df)
    scen = scenario_name(df)
    sel = df[df["group"] == group] if "group" in df else df
    if sel.empty:
        raise PlotError("%s: no rows for group '%s'" % (path, group))
    out = []
    for el in pick_elements(sel, elements, path):
        d = sel[sel["element"] == el]
        reps = list(dict.fromkeys(d["replicate"]))
        fig, (ax,) = new_figure()
        for r in reps[:max_lines]:
            dr = d[d["replicate"] == r]
            ax.plot(dr["when"], dr["availability"], color="tab:blue", lw=0.8, alpha=0.25)
        med = d.groupby("when")["availability"].median()
        ax.plot(med.index, med.to_numpy(), color="navy", lw=2.4,
                label="median of all %d replicates" % len(reps))
        ax.plot([], [], color="tab:blue", lw=0.8, alpha=0.5,
                label="%d replicates, one line each" % min(len(reps), max_lines))
        ax.set_title("%s: %s availability per replicate, %s importers" % (scen, el, group))
        ax.set_ylabel("availability (consumption / demand)")
        ax.set_xlabel("month")
        date_axis(ax)
        percent_axis(ax)
        ax.legend(loc="lower left")
        out.append(save(fig, os.path.join(outdir, "%s_replicates_%s.png" % (stem, el))))
    return out


# ---------------------------------------------------------------- sweep

def sweep_columns(df):
    varied = [c for c in df.columns[1:] if "." in c and not OUTCOME_RE.match(c)]
    outcomes = [c for c in df.columns[1:] if c not in varied and OUTCOME_RE.match(c)]
    return varied, outcomes


def outcome_label(col):
    m = OUTCOME_RE.match(col)
    if not m:
        return col
    unit = MEASURE_UNITS.get(m.group("measure"))
    text = "%s %s, %s importers" % (m.group("el"), m.group("measure").replace("_", " "),
                                   m.group("group"))
    return "%s (%s)" % (text, unit) if unit else text


def is_grid(d, x, y):
    """True when the (x, y) pairs fill a small full grid (repeated values)."""
    nx, ny = d[x].nunique(), d[y].nunique()
    pairs = d[[x, y]].drop_duplicates().shape[0]
    return pairs == nx * ny and nx < len(d) and ny < len(d)


def plot_sweep(df, path, outdir, stem, x, y, outcome):
    varied, outcomes = sweep_columns(df)
    if not varied:
        raise PlotError("%s: sweep CSV without varied SECTION.KEY columns" % path)
    if not outcomes:
        raise PlotError("%s: sweep CSV without <El>_<group>_<measure> outcome columns" % path)
    if outcome is None:
        outcome = "Dy_all_cum_shortfall" if "Dy_all_cum_shortfall" in outcomes else outcomes[0]
    for name, col in (("--outcome", outcome), ("--x", x), ("--y", y)):
        if col is not None and col not in df.columns:
            raise PlotError("%s: no column '%s' for %s (varied: %s; outcomes: %s ...)"
                            % (path, col, name, " ".join(varied), " ".join(outcomes[:6])))
    x = x or varied[0]
    if y is None:
        y = next((v for v in varied if v != x), None)
    label = outcome_label(outcome)
    fig, (ax,) = new_figure()
    if y is None or y == x:
        d = df.groupby(x, as_index=False)[outcome].mean().sort_values(x)
        ax.plot(d[x], d[outcome], "o-", color="tab:blue", lw=2)
        ax.set_xlabel(x)
        ax.set_ylabel(label)
        ax.set_title("%s over %s (%d points)" % (outcome, x, len(df)))
        ax.grid(True, alpha=0.35)
        return [save(fig, os.path.join(outdir, "%s_%s_by_%s.png" % (stem, outcome, x)))]
    others = [v for v in varied if v not in (x, y)]
    note = " (mean over %s)" % ", ".join(others) if others else ""
    if is_grid(df, x, y):
        piv = df.groupby([y, x])[outcome].mean().unstack(x).sort_index().sort_index(axis=1)
        im = ax.imshow(piv.to_numpy(dtype=float), origin="lower", aspect="auto",
                       cmap="viridis", interpolation="nearest")
        ax.set_xticks(range(piv.shape[1]))
        ax.set_xticklabels(["%g" % v for v in piv.columns], rotation=45 if piv.shape[1] > 10 else 0)
        ax.set_yticks(range(piv.shape[0]))
        ax.set_yticklabels(["%g" % v for v in piv.index])
        if piv.size <= 150:
            vals = piv.to_numpy(dtype=float)
            mid = np.nanmean(vals)
            for (i, j), v in np.ndenumerate(vals):
                if not math.isnan(v):
                    ax.text(j, i, "%.3g" % v, ha="center", va="center", fontsize=9,
                            color="white" if v < mid else "black")
        design = "grid"
    else:
        if len(df) >= 300:
            im = ax.hexbin(df[x], df[y], C=df[outcome], reduce_C_function=np.mean,
                           gridsize=max(6, int(math.sqrt(len(df) / 3))), cmap="viridis",
                           mincnt=1)
            design = "hexbin of mean"
        else:
            im = ax.scatter(df[x], df[y], c=df[outcome], cmap="viridis", s=60,
                            edgecolors="black", linewidths=0.4)
            design = "scattered design"
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(label)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title("%s over %s and %s%s\n%d points, %s" % (outcome, x, y, note, len(df), design),
                 fontsize=13)
    return [save(fig, os.path.join(outdir, "%s_%s.png" % (stem, outcome)))]


# ---------------------------------------------------------------- command line

def main(argv=None):
    p = argparse.ArgumentParser(
        prog="scripts/plot",
        description="Charts (1200x800 PNG) for a resim CSV: run, ensemble summary, raw "
                    "replicates or sweep, detected from the header. Prints each file written.")
    p.add_argument("csv", metavar="FILE.csv")
    p.add_argument("-o", "--outdir", metavar="DIR", help="where to write (default: next to FILE)")
    p.add_argument("--element", action="append", default=[], metavar="El",
                   help="only this element (repeatable; default all)")
    p.add_argument("--group", default="all",
                   help="ensemble and raw replicates: which group to chart (default all)")
    p.add_argument("--x", metavar="KEY", help="sweep: varied key on the x axis")
    p.add_argument("--y", metavar="KEY", help="sweep: varied key on the y axis")
    p.add_argument("--outcome", metavar="COLUMN",
                   help="sweep: outcome column (default Dy_all_cum_shortfall)")
    a = p.parse_args(argv)
    style()
    try:
        df = read_csv(a.csv)
        kind = detect_kind(df.columns)
        if kind is None:
            raise PlotError("%s: not a resim output (header starts %s); expected a run, "
                            "ensemble summary, raw replicates or sweep CSV"
                            % (a.csv, ",".join(map(str, df.columns[:6]))))
        if df.empty:
            raise PlotError("%s: %s CSV has no rows" % (a.csv, kind))
        outdir = a.outdir or os.path.dirname(os.path.abspath(a.csv))
        os.makedirs(outdir, exist_ok=True)
        stem = os.path.splitext(os.path.basename(a.csv))[0]
        if kind == "run":
            paths = plot_run(df, a.csv, outdir, a.element, stem)
        elif kind == "ensemble":
            paths = plot_ensemble(df, a.csv, outdir, a.element, stem, a.group)
        elif kind == "raw":
            paths = plot_raw(df, a.csv, outdir, a.element, stem, a.group)
        else:
            paths = plot_sweep(df, a.csv, outdir, stem, a.x, a.y, a.outcome)
    except PlotError as e:
        print("scripts/plot: %s" % e, file=sys.stderr)
        return 1
    except (KeyError, ValueError, TypeError) as e:
        print("scripts/plot: %s: malformed CSV (%s: %s)" % (a.csv, type(e).__name__, e),
              file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0
