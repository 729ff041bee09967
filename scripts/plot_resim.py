"""Charts for resim's CSV outputs (used by scripts/plot).

Detects the kind of output from its header row and draws 1200 x 800 PNGs:

- run:       `resim run` output; per element a supply chart and availability
             by list status, plus an overview of all elements.
- ensemble:  `resim run --replicates N` summary; per element fan charts of
             availability and shortfall, and the probability of availability
             below the threshold.
- raw:       `resim run --replicates N --raw FILE`; per element a spaghetti
             chart of availability (up to 100 replicates).
- sweep:     `resim sweep` output; a heat map of one outcome over two of the
             varied keys (pivot for grids, hexbin or scatter for lhs/sobol), or
             a line chart with the threshold when one key was varied.
- compare:   several run CSVs (or several ensemble summaries) at once; per
             element one chart with one line per file.

Every chart is built by a fig_* function that returns the matplotlib Figure
(tests assert on its content); main() saves and closes them. What the sidecar
FILE.csv.json says about the run (scenario name, --set overrides, the
timeline of events, the threshold, the stockpile trigger) goes into titles,
legends, dated event markers and threshold lines.
"""

import argparse
import hashlib
import importlib
import json
import math
import os
import re
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")  # headless: no display needed, same output everywhere

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.patheffects as patheffects  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

WIDTH_PX, HEIGHT_PX, DPI = 1200, 800, 100
ID_COLUMNS = ["scenario", "date", "month", "element", "group"]
# The run columns the charts read; a run CSV may carry further columns after them.
RUN_NEEDED = {"demand", "alt_supply", "china_arrivals", "stockpile_release", "consumption",
              "shortfall", "availability"}
STATUS_GROUPS = ["all", "none", "watch", "control"]
STATUS_STYLE = {"all": ("black", "-", 2.4), "none": ("tab:blue", "-", 1.6),
                "watch": ("tab:orange", "-", 1.6), "control": ("tab:red", "-", 1.6)}
STATUS_LABEL = {"all": "all importers", "none": "not listed", "watch": "watch list",
                "control": "control list"}
SUPPLY_LAYERS = [("china_arrivals", "China arrivals", "#d62728"),
                 ("alt_supply", "alternative supply", "#2ca02c"),
                 ("stockpile_release", "national stockpile release", "#9467bd")]
SHORTFALL_LABEL = "shortfall (demand not met)"
QUANTILE_RE = re.compile(r"^(?P<metric>.+)_p(?P<pct>\d+(?:\.\d+)?)$")
OUTCOME_RE = re.compile(r"^(?P<el>[A-Z][a-z]?)_(?P<group>[^_]+)_(?P<measure>.+)$")
MEASURE_UNITS = {"cum_shortfall": "t REO", "peak_shortfall": "t REO / month",
                 "shortfall": "t REO", "min_availability": "% of demand",
                 "mean_availability": "% of demand",
                 "months_below": "months", "peak_month": "model month",
                 "min_month": "model month", "first_below": "model month",
                 "stock_out": "model month", "recovered": "model month"}
AVAILABILITY_MEASURES = ("min_availability", "mean_availability")
EVENT_LABEL_CHARS = 56
TITLE_CHARS = 95
SWEEP_TITLE_CHARS = 110

# Chart kinds drawn by other modules next to this file, tried in order when a CSV
# is none of the kinds above. Each entry is (kind, module, detector, builder):
#   module.detector(columns) -> bool
#       True when the module charts a CSV with this header (a list of names).
#   module.builder(df, path, opts) -> list
#       df is the CSV read by pandas, path its file name, opts the parsed command
#       line of scripts/plot (outdir, element, group, x, y, outcome, threshold)
#       plus opts.meta (the sidecar dict, {} if none) and opts.stem (the file
#       name without .csv). Each item is either (file name, Figure), which
#       main() saves into opts.outdir at 1200 x 800 and closes, or the path of a
#       file the module wrote itself. For a file it cannot chart it raises
#       PlotError or an exception class of its own module (the modules stay
#       standalone): scripts/plot prints its message and exits 1.
# A module that is not installed is skipped without a message, so scripts/plot
# works the same with or without them; one that fails to import for another
# reason is named in the message when no kind matches.
PLUGINS = [("sensitivity analysis", "plot_analysis", "detect", "plugin_charts"),
           ("observed vs fitted", "plot_fit", "detect", "plugin_charts")]


class PlotError(Exception):
    """A problem with the input file; main() prints it and exits 1."""


# ---------------------------------------------------------------- figure helpers

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


def style():
    plt.rcParams.update({"font.size": 12, "axes.titlesize": 15, "axes.labelsize": 13,
                         "legend.fontsize": 11, "xtick.labelsize": 11, "ytick.labelsize": 11,
                         "axes.spines.top": False, "axes.spines.right": False})


def date_axis(ax):
    """Years as major ticks, quarters as minor ticks, YYYY-MM labels."""
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=[1, 4, 7, 10]))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)


def percent_axis(ax, top=1.03, floor=None):
    """Percent labels; the axis starts at a round tenth below the lowest value
    (and below `floor`, e.g. a threshold line that must stay in view)."""
    ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
    lo = ax.dataLim.y0 if np.isfinite(ax.dataLim.y0) else 0.0
    if floor is not None:
        lo = min(lo, floor)
    ax.set_ylim(max(0.0, math.floor((lo - 0.05) * 10) / 10), top)


def pct(x):
    return "%g %%" % round(100.0 * float(x), 6)


def shorten(text, width):
    return text if len(text) <= width else text[:width - 1].rstrip(" ,;") + "…"


def wrap_title(lines, width=TITLE_CHARS, max_lines=4):
    """Joins title lines, each wrapped to `width` characters, at most `max_lines`."""
    out = []
    for line in lines:
        out += textwrap.wrap(line, width) or [""]
    if len(out) > max_lines:
        out = out[:max_lines]
        out[-1] = shorten(out[-1] + " …", width)
    return "\n".join(out)


# ---------------------------------------------------------------- reading

def read_csv(path):
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise PlotError("%s: cannot read CSV (%s)" % (path, e)) from None


def read_sidecar(path):
    """The run metadata next to the CSV (FILE.csv.json), or {} if absent or unreadable."""
    try:
        with open(path + ".json", encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def with_dates(df):
    df = df.copy()
    df["when"] = pd.to_datetime(df["date"].astype(str), format="%Y-%m")
    return df


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
        if RUN_NEEDED <= set(cols):
            return "run"
    return None


def overrides(meta):
    """The --set SECTION.KEY=VALUE overrides of a run, from its sidecar: an explicit
    list ("overrides" or "set") when the sidecar has one, else its command line."""
    for key in ("overrides", "set"):
        v = meta.get(key)
        if isinstance(v, list):
            return [str(s) for s in v]
        if isinstance(v, dict):
            return ["%s=%s" % (k, x) for k, x in v.items()]
    out = []
    argv = meta.get("command_line") or []
    i = 0
    while i < len(argv):
        a = str(argv[i])
        if a == "--set" and i + 1 < len(argv):
            out.append(str(argv[i + 1]))
            i += 1
        elif a.startswith("--set="):
            out.append(a[len("--set="):])
        i += 1
    return out


def raw_sidecar(path):
    """The sidecar of the ensemble summary that wrote this raw replicates file
    (its command line has --raw naming it), looked for next to the file; {} if none."""
    folder = os.path.dirname(os.path.abspath(path))
    mine = os.path.realpath(path)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".csv.json"))
    except OSError:
        return {}
    for name in names:
        meta = read_sidecar(os.path.join(folder, name[:-len(".json")]))
        argv = [str(a) for a in meta.get("command_line") or []]
        raws = [argv[i + 1] for i in range(len(argv) - 1) if argv[i] == "--raw"]
        raws += [a[len("--raw="):] for a in argv if a.startswith("--raw=")]
        for r in raws:
            if os.path.basename(r) == os.path.basename(path) and (
                    not os.path.exists(r) or os.path.realpath(r) == mine):
                return meta
    return {}


class Source:
    """One resim CSV with what its sidecar says about it."""

    def __init__(self, path, df=None, meta=None):
        self.path = path
        self.df = read_csv(path) if df is None else df
        self.meta = read_sidecar(path) if meta is None else meta
        self.kind = detect_kind(self.df.columns)
        if not self.meta and self.kind == "raw" and meta is None:
            self.meta = raw_sidecar(path)
        self.stem = os.path.splitext(os.path.basename(path))[0]
        if "date" in self.df.columns:
            self.df = with_dates(self.df)

    @property
    def scenario(self):
        sc = self.meta.get("scenario")
        if isinstance(sc, dict) and sc.get("name"):
            return str(sc["name"])
        if "scenario" in self.df.columns:
            names = list(dict.fromkeys(self.df["scenario"].astype(str)))
            return names[0] if len(names) == 1 else ", ".join(names)
        return self.stem

    @property
    def overrides(self):
        return overrides(self.meta)

    @property
    def label(self):
        """Scenario name and overrides, e.g. 'japan-2026 (2026-02.approval.watch=0.3)'."""
        o = self.overrides
        return "%s (%s)" % (self.scenario, ", ".join(o)) if o else self.scenario

    def title(self, what):
        """A chart title: scenario and subject, then the overrides on a second line."""
        lines = ["%s: %s" % (self.scenario, what)]
        if self.overrides:
            lines.append("--set " + ", ".join(self.overrides))
        return wrap_title(lines)

    def elements(self, wanted):
        present = list(dict.fromkeys(self.df["element"].astype(str)))
        if not wanted:
            return present
        missing = [e for e in wanted if e not in present]
        if missing:
            raise PlotError("%s: no rows for element %s (elements: %s)"
                            % (self.path, ", ".join(missing), " ".join(present)))
        return [e for e in present if e in wanted]

    def events(self):
        return event_markers_from(self.meta)

    def threshold(self, given=None):
        """(value, label) of the availability threshold that applies, or None:
        --threshold, else the threshold the file was made with (ensemble, sweep),
        else the national stockpile's release trigger when the stockpile is on."""
        if given is not None:
            return given, "threshold %s" % pct(given)
        t = self.meta.get("threshold")
        if isinstance(t, (int, float)):
            return float(t), "threshold %s" % pct(t)
        levers = self.meta.get("levers") or {}
        try:
            if float(levers.get("stockpile.enabled", 0)) != 0 and "stockpile.trigger" in levers:
                t = float(levers["stockpile.trigger"])
                return t, "stockpile released below %s" % pct(t)
        except (TypeError, ValueError):
            pass
        return None


# ---------------------------------------------------------------- events

def _by_status(name, values, fmt):
    """'approval 50 % (control 0 %)': the most common value bare, the others by status."""
    counts = {}
    for v in values.values():
        counts[v] = counts.get(v, 0) + 1
    main = max(counts, key=lambda v: (counts[v], -list(values.values()).index(v)))
    rest = ["%s %s" % (s, fmt(v)) for s, v in values.items() if v != main]
    text = "%s %s" % (name, fmt(main))
    return text + (" (%s)" % ", ".join(rest) if rest else "")


def event_label(entries):
    """A short label for the events of one month, e.g.
    'approval 50 % (control 0 %); +20 control +20 watch; review 90 d (...)'."""
    lists, switches, approval, review, other = [], [], {}, {}, []
    # Version-2 keys (docs/model.md sections 9 and 13): approval.<status>.<El>,
    # general_licence.<status>[.<El>], military_ban.<El>.
    el_approval, licence, el_licence = {}, {}, {}
    for e in entries:
        key, value = str(e.get("key", "")), str(e.get("value", "")).strip()
        if key.startswith("policy."):
            key = key[len("policy."):]
        parts = key.split(".")
        try:
            num = float(value)
        except ValueError:
            num = None
        if key == "controlled":
            els = value.split()
            switches.append("no licences" if not els else
                            "licences: %d elements" % len(els) if len(els) > 3 else
                            "licences: " + " ".join(els))
        elif key in ("controlled.add", "controlled.remove"):
            switches.append("%s licence %s" % ("+" if key.endswith("add") else "−", value))
        elif key == "military_ban":
            switches.append("military-use ban" if num else "military-use ban lifted")
        elif parts[0] == "military_ban" and len(parts) == 2 and num is not None:
            switches.append("%s military-use ban%s" % (parts[1], "" if num else " lifted"))
        elif parts[0] == "approval" and len(parts) == 2 and num is not None:
            approval[parts[1]] = num
        elif parts[0] == "approval" and len(parts) == 3 and num is not None:
            el_approval.setdefault(parts[2], {})[parts[1]] = num
        elif parts[0] == "general_licence" and len(parts) == 2 and num is not None:
            licence[parts[1]] = num
        elif parts[0] == "general_licence" and len(parts) == 3 and num is not None:
            el_licence.setdefault(parts[2], {})[parts[1]] = num
        elif parts[0] == "delay_mean_days" and len(parts) == 2 and num is not None:
            review[parts[1]] = num
        elif parts[0] == "delay_cv":
            continue  # the spread of the review delay: too fine for a label
        elif key.startswith("list.add.") or key.startswith("list.remove."):
            sign = "+" if parts[1] == "add" else "−"
            lists.append("%s%s %s" % (sign, value, parts[2]))
        elif key == "list.set":
            named = [p.split(":")[-1].strip() for p in value.split(",") if ":" in p]
            counts = ", ".join("%d %s" % (named.count(s), s)
                               for s in ("control", "watch", "none") if named.count(s))
            lists.append("named: " + counts if counts else "list.set")
        elif key == "transit_months":
            other.append("transit %s mo" % value)
        else:
            other.append("%s %s" % (key, shorten(value, 16)))
    bits = list(switches)
    if approval:
        bits.append(_by_status("approval", approval, pct))
    if lists:
        bits.append(" ".join(lists))
    if review:
        bits.append(_by_status("review", review, lambda d: "%g d" % d))
    for el, values in el_approval.items():
        bits.append(_by_status(el + " approval", values, pct))
    if licence:
        bits.append(_by_status("general licence", licence, pct))
    for el, values in el_licence.items():
        bits.append(_by_status(el + " general licence", values, pct))
    bits += other
    return shorten("; ".join(bits), EVENT_LABEL_CHARS)


def event_markers_from(meta):
    """[(Timestamp, label)] for each month with events in the sidecar's timeline."""
    timeline = meta.get("timeline")
    if not isinstance(timeline, list):
        return []
    by_date = {}
    for e in timeline:
        if isinstance(e, dict) and re.fullmatch(r"\d{4}-\d{2}", str(e.get("date", ""))):
            by_date.setdefault(str(e["date"]), []).append(e)
    out = []
    for date in sorted(by_date):
        label = event_label(by_date[date])
        if label:
            out.append((pd.Timestamp(date + "-01"), "%s %s" % (date, label)))
    return out


def draw_events(ax, events, labels=True, color="0.35", ls=(0, (4, 3)), where="top",
                side="left"):
    """Dated vertical lines, each with its label written up the line inside the
    axes, from the top or from the bottom, on the left or right of the line (a
    white halo keeps it readable over the data)."""
    lo, hi = ax.get_xlim()
    # Labels stay inside the axes: about 7 px per character at this font size.
    height_px = ax.get_position().height * ax.figure.get_figheight() * ax.figure.dpi
    room = max(12, int(height_px / 7.0))
    for when, label in events:
        label = shorten(label, room)
        x = mdates.date2num(when)
        if x < lo or x > hi:
            continue
        ax.axvline(when, color=color, lw=1.0, ls=ls, zorder=1.5, gid="event")
        if labels:
            top = where == "top"
            t = ax.text(when, 0.985 if top else 0.015, " " + label,
                        transform=ax.get_xaxis_transform(), rotation=90,
                        ha="right" if side == "left" else "left",
                        va="top" if top else "bottom", fontsize=8.5, color=color,
                        zorder=5, gid="event-label")
            t.set_path_effects([patheffects.withStroke(linewidth=3, foreground="white")])


def draw_threshold(ax, threshold, horizontal=True):
    """A dashed line at the threshold, labelled at its right end."""
    if threshold is None:
        return
    value, label = threshold
    if horizontal:
        ax.axhline(value, color="#b2182b", lw=1.4, ls="--", zorder=1.6, gid="threshold")
        t = ax.text(0.995, value, label + " ", transform=ax.get_yaxis_transform(),
                    ha="right", va="bottom", fontsize=10, color="#b2182b", zorder=5)
    else:
        ax.axvline(value, color="#b2182b", lw=1.4, ls="--", zorder=1.6, gid="threshold")
        t = ax.text(value, 0.02, " " + label, transform=ax.get_xaxis_transform(),
                    rotation=90, ha="right", va="bottom", fontsize=10, color="#b2182b")
    t.set_path_effects([patheffects.withStroke(linewidth=3, foreground="white")])


def time_axes(ax, events, threshold=None, labels=True, where="top"):
    """What every time axis gets: dated ticks, event markers, the threshold.
    Availability charts write event labels from the bottom, where the lines
    near 100 % are not."""
    date_axis(ax)
    if threshold is not None:
        draw_threshold(ax, threshold)
    draw_events(ax, events, labels=labels, where=where)


def legend_right(ax):
    """A legend right of the axes, clear of the data and the event labels."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=10.5, frameon=False)


def legend_below(ax, ncol):
    """A legend under the x axis label, clear of the data and the event labels."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=ncol, fontsize=10.5,
              frameon=False)


# ---------------------------------------------------------------- run charts

def fig_availability_overview(src, elements=None, threshold=None):
    """Availability of every element (all importers), one line each."""
    df = src.df[src.df["group"] == "all"]
    thr = src.threshold(threshold)
    fig, (ax,) = new_figure()
    cmap = plt.get_cmap("tab10")
    els = src.elements(elements)
    for k, el in enumerate(els):
        d = df[df["element"] == el]
        ax.plot(d["when"], d["availability"], lw=2, color=cmap(k % 10), label=el)
    ax.set_title(src.title("availability by element, all importers"))
    ax.set_ylabel("availability (consumption / demand)")
    ax.set_xlabel("month")
    percent_axis(ax, floor=thr[0] if thr else None)
    time_axes(ax, src.events(), thr, where="bottom")
    legend_below(ax, len(els))
    return fig


def fig_supply(src, el):
    """Supply by source stacked against demand. Shortfall is the band between
    consumption and demand, so it never rises above the demand line: when the
    stack is above demand, the excess refills inventory, and some importers
    can still be short."""
    d = src.df[(src.df["group"] == "all") & (src.df["element"] == el)]
    fig, (ax,) = new_figure()
    ys = [d[c].to_numpy(dtype=float) for c, _, _ in SUPPLY_LAYERS]
    ax.stackplot(d["when"], *ys, labels=[lab for _, lab, _ in SUPPLY_LAYERS],
                 colors=[col for _, _, col in SUPPLY_LAYERS], alpha=0.85)
    demand = d["demand"].to_numpy(dtype=float)
    short = d["shortfall"].to_numpy(dtype=float)
    ax.fill_between(d["when"], demand - short, demand, facecolor=(1, 1, 1, 0.55),
                    edgecolor="#67001f", hatch="////", lw=0.0, label=SHORTFALL_LABEL,
                    zorder=3, gid="shortfall")
    ax.plot(d["when"], demand, color="black", lw=2.2, label="demand", zorder=4)
    ax.plot(d["when"], d["consumption"], color="black", lw=1.2, ls=":", label="consumption",
            zorder=4)
    ax.set_title(src.title("%s supply to Japanese importers" % el))
    ax.set_ylabel("t REO per month")
    ax.set_xlabel("month (supply above consumption refills inventory, below it draws "
                  "inventory down)")
    top = max(float(np.nanmax(sum(ys))), float(np.nanmax(demand)))
    ax.set_ylim(0, top * 1.5 if top > 0 else 1.0)  # headroom for the event labels
    time_axes(ax, src.events())
    legend_below(ax, 3)
    return fig


def group_spans(months_with_demand):
    """[(first, last)] index ranges where a group has demand."""
    spans, start = [], None
    for i, has in enumerate(months_with_demand):
        if has and start is None:
            start = i
        if not has and start is not None:
            spans.append((start, i - 1))
            start = None
    if start is not None:
        spans.append((start, len(months_with_demand) - 1))
    return spans


def fig_status(src, el, threshold=None):
    """Availability by list status. A group with no importers using the element
    that month has no line; where a group empties, the line ends in a marker
    and a label saying from which month it is empty."""
    df = src.df[src.df["element"] == el]
    groups = list(dict.fromkeys(df["group"].astype(str)))
    thr = src.threshold(threshold)
    fig, (ax,) = new_figure()
    empty = []
    for g in [g for g in STATUS_GROUPS if g in groups]:
        dg = df[df["group"] == g]
        has = (dg["demand"] > 0).to_numpy()
        color, ls, lw = STATUS_STYLE[g]
        if not has.any():
            ax.plot([], [], color=color, ls=":", lw=lw,
                    label="%s: no importers use %s" % (STATUS_LABEL[g], el))
            continue
        a = dg["availability"].where(dg["demand"] > 0)
        ax.plot(dg["when"], a, color=color, ls=ls, lw=lw, label=STATUS_LABEL[g])
        when = dg["when"].to_list()
        for first, last in group_spans(has):
            if last < len(has) - 1:
                empty.append((g, when[last], a.iloc[last], when[last + 1]))
    for g, when, value, since in empty:
        color = STATUS_STYLE[g][0]
        ax.plot([when], [value], marker="X", ms=10, color=color, zorder=6, ls="none")
        t = ax.annotate("%s empty from %s" % (STATUS_LABEL[g], since.strftime("%Y-%m")),
                        (mdates.date2num(when), value), xytext=(6, -14),
                        textcoords="offset points", fontsize=10, color=color,
                        fontweight="bold", zorder=6, gid="group-empty")
        t.set_path_effects([patheffects.withStroke(linewidth=3, foreground="white")])
    ax.set_title(src.title("%s availability by list status" % el))
    ax.set_ylabel("availability (consumption / demand)")
    ax.set_xlabel("month (a list with no importers using %s that month has no line)" % el)
    percent_axis(ax, floor=thr[0] if thr else None)
    time_axes(ax, src.events(), thr, where="bottom")
    legend_below(ax, 4)
    return fig


def run_charts(src, opts):
    """(file name, Figure) for a run CSV: the overview, then supply and status per element."""
    yield "%s_availability.png" % src.stem, fig_availability_overview(src, opts.element,
                                                                      opts.threshold)
    for el in src.elements(opts.element):
        yield "%s_supply_%s.png" % (src.stem, el), fig_supply(src, el)
        yield "%s_status_%s.png" % (src.stem, el), fig_status(src, el, opts.threshold)


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


def ensemble_rows(src, group):
    cols = list(src.df.columns)
    if not quantile_columns(cols, "availability") and "availability_mean" not in cols:
        raise PlotError("%s: ensemble summary without availability columns" % src.path)
    sel = src.df[src.df["group"] == group]
    if sel.empty:
        raise PlotError("%s: no rows for group '%s'" % (src.path, group))
    return sel


def replicates_text(src):
    reps = src.meta.get("replicates")
    return " (%s replicates)" % reps if reps else ""


def fig_fan_availability(src, el, group="all", threshold=None):
    """Fan chart of availability with the threshold, over the probability of
    falling below it."""
    d = ensemble_rows(src, group)
    d = d[d["element"] == el]
    thr = src.threshold(threshold)
    fig, (ax, axp) = new_figure(2, height_ratios=[3, 1])
    fan(ax, d, list(src.df.columns), "availability")
    ax.set_title(src.title("%s availability, %s importers%s" % (el, group, replicates_text(src))))
    ax.set_ylabel("availability (consumption / demand)")
    percent_axis(ax, floor=thr[0] if thr else None)
    time_axes(ax, src.events(), thr, where="bottom")
    legend_right(ax)
    if "prob_availability_below" in d:
        axp.fill_between(d["when"], 0, d["prob_availability_below"], color="tab:red",
                         alpha=0.35, lw=0)
        axp.plot(d["when"], d["prob_availability_below"], color="tab:red", lw=1.8)
    t = src.meta.get("threshold")
    axp.set_ylabel("P(availability < %s)" % pct(t) if isinstance(t, (int, float))
                   else "P(availability below threshold)", fontsize=11)
    axp.set_ylim(0, 1.02)
    axp.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
    axp.set_xlabel("month")
    time_axes(axp, src.events(), labels=False)
    return fig


def fig_fan_shortfall(src, el, group="all"):
    """Fan chart of the monthly shortfall."""
    d = ensemble_rows(src, group)
    d = d[d["element"] == el]
    fig, (ax,) = new_figure()
    fan(ax, d, list(src.df.columns), "shortfall")
    ax.set_title(src.title("%s shortfall, %s importers%s" % (el, group, replicates_text(src))))
    ax.set_ylabel("shortfall, t REO per month")
    ax.set_xlabel("month")
    ax.set_ylim(bottom=0)
    lo, hi = ax.get_ylim()
    ax.set_ylim(0, hi * 1.35 if hi > 0 else 1.0)  # headroom for the event labels
    time_axes(ax, src.events())
    legend_right(ax)
    return fig


def ensemble_charts(src, opts):
    """(file name, Figure) for an ensemble summary: two fan charts per element."""
    ensemble_rows(src, opts.group)
    for el in src.elements(opts.element):
        yield ("%s_fan_availability_%s.png" % (src.stem, el),
               fig_fan_availability(src, el, opts.group, opts.threshold))
        yield "%s_fan_shortfall_%s.png" % (src.stem, el), fig_fan_shortfall(src, el, opts.group)


# ---------------------------------------------------------------- raw replicates

def fig_replicates(src, el, group="all", threshold=None, max_lines=100):
    """Availability of each replicate (up to max_lines) and the median of all."""
    sel = src.df[src.df["group"] == group] if "group" in src.df else src.df
    d = sel[sel["element"] == el]
    thr = src.threshold(threshold)
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
    ax.set_title(src.title("%s availability per replicate, %s importers" % (el, group)))
    ax.set_ylabel("availability (consumption / demand)")
    events = src.events()
    ax.set_xlabel("month" if src.meta else
                  "month (no sidecar found, not even the summary's: events not marked)")
    percent_axis(ax, floor=thr[0] if thr else None)
    time_axes(ax, events, thr, where="bottom")
    legend_below(ax, 2)
    return fig


def raw_charts(src, opts):
    """(file name, Figure) for raw replicates: one chart per element."""
    sel = src.df[src.df["group"] == opts.group] if "group" in src.df else src.df
    if sel.empty:
        raise PlotError("%s: no rows for group '%s'" % (src.path, opts.group))
    for el in src.elements(opts.element):
        yield ("%s_replicates_%s.png" % (src.stem, el),
               fig_replicates(src, el, opts.group, opts.threshold))


# ---------------------------------------------------------------- sweep

def sweep_columns(df):
    varied = [c for c in df.columns[1:] if "." in c and not OUTCOME_RE.match(c)]
    outcomes = [c for c in df.columns[1:] if c not in varied and OUTCOME_RE.match(c)]
    return varied, outcomes


def measure_of(col):
    m = OUTCOME_RE.match(col)
    return m.group("measure") if m else None


def outcome_label(col, threshold=None):
    m = OUTCOME_RE.match(col)
    if not m:
        return col
    measure = m.group("measure")
    unit = MEASURE_UNITS.get(measure)
    name = measure.replace("_", " ")
    if threshold is not None and measure in ("months_below", "first_below", "recovered"):
        name += " " + pct(threshold[0])
    text = "%s %s, %s importers" % (m.group("el"), name, m.group("group"))
    return "%s (%s)" % (text, unit) if unit else text


def is_grid(d, x, y):
    """True when the (x, y) pairs fill a small full grid (repeated values)."""
    nx, ny = d[x].nunique(), d[y].nunique()
    pairs = d[[x, y]].drop_duplicates().shape[0]
    return pairs == nx * ny and nx < len(d) and ny < len(d)


def sweep_axes(src, x, y, outcome):
    """Validated (x, y, outcome); y is None for a one-key chart."""
    df = src.df
    varied, outcomes = sweep_columns(df)
    if not varied:
        raise PlotError("%s: sweep CSV without varied SECTION.KEY columns" % src.path)
    if not outcomes:
        raise PlotError("%s: sweep CSV without <El>_<group>_<measure> outcome columns" % src.path)
    if outcome is None:
        outcome = "Dy_all_cum_shortfall" if "Dy_all_cum_shortfall" in outcomes else outcomes[0]
    for name, col in (("--outcome", outcome), ("--x", x), ("--y", y)):
        if col is not None and col not in df.columns:
            raise PlotError("%s: no column '%s' for %s (varied: %s; outcomes: %s ...)"
                            % (src.path, col, name, " ".join(varied), " ".join(outcomes[:6])))
    x = x or varied[0]
    if y is None:
        y = next((v for v in varied if v != x), None)
    if y == x:
        y = None
    return x, y, outcome


def sweep_file_name(src, x, y, outcome):
    """<stem>_<outcome>.png for the default axes (the first two varied keys);
    other --x/--y choices add them, so each choice writes its own file."""
    varied, _ = sweep_columns(src.df)
    if y is None:
        return "%s_%s_by_%s.png" % (src.stem, outcome, safe_name(x))
    if (x, y) == tuple(varied[:2]):
        return "%s_%s.png" % (src.stem, outcome)
    return "%s_%s_by_%s_and_%s.png" % (src.stem, outcome, safe_name(x), safe_name(y))


def safe_name(text):
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", text)


def first_crossing(xs, ys, level):
    """The x where ys first falls below level, by linear interpolation, or None."""
    for i in range(len(xs)):
        if ys[i] < level:
            if i == 0:
                return xs[0]
            x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
            return x0 + (x1 - x0) * (y0 - level) / (y0 - y1)
    return None


def one_key_panel(ax, d, x, col, threshold):
    ax.plot(d[x], d[col], "o-", color="tab:blue", lw=2)
    ax.grid(True, alpha=0.35)
    if measure_of(col) in AVAILABILITY_MEASURES:
        ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
        if threshold is not None:
            draw_threshold(ax, threshold)
            lo = min(float(d[col].min()), threshold[0])
            ax.set_ylim(max(0.0, math.floor((lo - 0.05) * 10) / 10), 1.03)
            cross = first_crossing(d[x].to_list(), d[col].to_list(), threshold[0])
            if cross is not None:
                ax.axvline(cross, color="0.3", ls=":", lw=1.2)
                ax.annotate("below %s from %s ≈ %.3g" % (pct(threshold[0]), x, cross),
                            (cross, threshold[0]), xytext=(8, -18), textcoords="offset points",
                            fontsize=10, color="0.15", gid="crossing")


def fig_sweep_line(src, x, outcome, threshold=None):
    """A one-key sweep: the outcome over the key (mean over repeated values) and,
    unless the outcome is itself an availability, the same element's lowest
    availability with the threshold below it."""
    df = src.df
    thr = sweep_threshold(src, threshold)
    m = OUTCOME_RE.match(outcome)
    avail = "%s_%s_min_availability" % (m.group("el"), m.group("group")) if m else None
    second = avail if (measure_of(outcome) not in AVAILABILITY_MEASURES and avail in df) else None
    cols = [outcome] + ([second] if second else [])
    d = df.groupby(x, as_index=False)[cols].mean().sort_values(x)
    if second:
        fig, (ax, ax2) = new_figure(2, height_ratios=[3, 2])
    else:
        fig, (ax,) = new_figure()
    one_key_panel(ax, d, x, outcome, thr)
    ax.set_ylabel(wrap_title([outcome_label(outcome, thr)], 32))
    if second:
        one_key_panel(ax2, d, x, second, thr)
        ax2.set_ylabel(wrap_title([outcome_label(second, thr)], 32))
        ax2.set_xlabel(x)
    else:
        ax.set_xlabel(x)
    lines = ["%s over %s (%d points)" % (outcome_label(outcome, thr), x, len(df))]
    if src.overrides:
        lines.append("%s --set %s" % (src.scenario, ", ".join(src.overrides)))
    elif src.meta:
        lines.append(src.scenario)
    ax.set_title(wrap_title(lines, SWEEP_TITLE_CHARS), fontsize=13)
    return fig


def sweep_threshold(src, given):
    if given is not None:
        return given, "threshold %s" % pct(given)
    t = src.meta.get("threshold")
    if isinstance(t, (int, float)):
        return float(t), "threshold %s" % pct(t)
    return 0.9, "threshold %s (resim's default)" % pct(0.9)


def fig_sweep_map(src, x, y, outcome, threshold=None):
    """A heat map (grid), scatter or hexbin of the outcome over two varied keys."""
    df = src.df
    varied, _ = sweep_columns(df)
    thr = sweep_threshold(src, threshold)
    label = outcome_label(outcome, thr)
    is_avail = measure_of(outcome) in AVAILABILITY_MEASURES
    fig, (ax,) = new_figure()
    others = [v for v in varied if v not in (x, y)]
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
                    ax.text(j, i, ("%.1f %%" % (100 * v)) if is_avail else "%.3g" % v,
                            ha="center", va="center", fontsize=9,
                            color="white" if v < mid else "black")
        if is_avail and np.nanmin(piv.to_numpy(dtype=float)) < thr[0] < np.nanmax(
                piv.to_numpy(dtype=float)) and min(piv.shape) > 1:
            ax.contour(piv.to_numpy(dtype=float), levels=[thr[0]], colors="#b2182b",
                       linewidths=2.0, linestyles="--")
            ax.plot([], [], color="#b2182b", lw=2.0, ls="--", label=thr[1])
            ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.08), frameon=False)
        design = "grid"
    elif len(df) >= 300:
        im = ax.hexbin(df[x], df[y], C=df[outcome], reduce_C_function=np.mean,
                       gridsize=max(6, int(math.sqrt(len(df) / 3))), cmap="viridis", mincnt=1)
        design = "hexbin of the mean"
    else:
        im = ax.scatter(df[x], df[y], c=df[outcome], cmap="viridis", s=60,
                        edgecolors="black", linewidths=0.4)
        design = "scattered design"
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(wrap_title([label], 50))
    if is_avail:
        cb.ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
        cb.ax.axhline(thr[0], color="#b2182b", lw=2.0, ls="--", gid="threshold")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    lines = [label, "%sover %s and %s%s; %d points, %s"
             % (src.scenario + ": " if src.meta else "", x, y,
                " (mean over %s)" % ", ".join(others) if others else "", len(df), design)]
    if src.overrides:
        lines.append("%s --set %s" % (src.scenario, ", ".join(src.overrides)))
    ax.set_title(wrap_title(lines, SWEEP_TITLE_CHARS), fontsize=13)
    return fig


def sweep_charts(src, opts):
    """(file name, Figure) for a sweep: a heat map, or a line chart for one key."""
    x, y, outcome = sweep_axes(src, opts.x, opts.y, opts.outcome)
    if y is None:
        fig = fig_sweep_line(src, x, outcome, opts.threshold)
    else:
        fig = fig_sweep_map(src, x, y, outcome, opts.threshold)
    yield sweep_file_name(src, x, y, outcome), fig


# ---------------------------------------------------------------- compare

COMPARE_KINDS = {"run": "availability", "ensemble": "availability_p50"}


def date_span(dates):
    return "%s..%s, %d months" % (dates[0], dates[-1], len(dates)) if dates else "no months"


def check_comparable(sources, group):
    """Raises PlotError naming the first file that cannot be compared with the first."""
    first = sources[0]
    for s in sources:
        if s.kind not in COMPARE_KINDS:
            raise PlotError("%s: cannot compare a %s CSV; compare run CSVs (or ensemble "
                            "summaries) of the same elements and months"
                            % (s.path, s.kind or "non-resim"))
        if s.kind != first.kind:
            raise PlotError("cannot compare %s (%s) with %s (%s): different kinds of output"
                            % (s.path, s.kind, first.path, first.kind))
    ref_els = list(dict.fromkeys(first.df["element"].astype(str)))
    ref_dates = list(dict.fromkeys(first.df["date"].astype(str)))
    for s in sources[1:]:
        els = list(dict.fromkeys(s.df["element"].astype(str)))
        if set(els) != set(ref_els):
            raise PlotError("cannot compare %s with %s: different elements (%s vs %s)"
                            % (s.path, first.path, " ".join(els), " ".join(ref_els)))
        dates = list(dict.fromkeys(s.df["date"].astype(str)))
        if dates != ref_dates:
            raise PlotError("cannot compare %s with %s: different months (%s vs %s)"
                            % (s.path, first.path, date_span(dates), date_span(ref_dates)))
    for s in sources:
        if group not in set(s.df["group"].astype(str)):
            raise PlotError("%s: no rows for group '%s' (run with --by status for list groups)"
                            % (s.path, group))


def run_labels(sources):
    """One legend label per file: scenario and overrides, with the file name
    added where two files would otherwise read the same."""
    labels = [s.label for s in sources]
    return [lab if labels.count(lab) == 1 else "%s [%s]" % (lab, os.path.basename(s.path))
            for lab, s in zip(labels, sources)]


def compare_colors(n):
    cmap = plt.get_cmap("tab10")
    return ["black"] + [cmap(k % 10) for k in range(n - 1)]


def fig_compare(sources, el, group="all", threshold=None):
    """One line per file: availability (%) above, cumulative shortfall below.
    Events shared by every file are grey; an event only some files have is
    drawn in the colour of the first file that has it."""
    labels = run_labels(sources)
    colors = compare_colors(len(sources))
    thr = sources[0].threshold(threshold)
    col = COMPARE_KINDS[sources[0].kind]
    if col not in sources[0].df.columns:
        col = "availability_mean"
    short_col = "shortfall" if sources[0].kind == "run" else "shortfall_mean"
    fig, (ax, ax2) = new_figure(2, height_ratios=[3, 2])
    for s, lab, c in zip(sources, labels, colors):
        d = s.df[(s.df["element"] == el) & (s.df["group"] == group)]
        ax.plot(d["when"], d[col], color=c, lw=2.2 if c == "black" else 1.8, label=lab)
        ax2.plot(d["when"], d[short_col].cumsum(), color=c, lw=2.2 if c == "black" else 1.8)
    what = "availability" if sources[0].kind == "run" else "median availability"
    ax.set_title(wrap_title(["%s %s, %s: %d runs compared"
                             % (el, what, STATUS_LABEL.get(group, group), len(sources))]))
    ax.set_ylabel("availability (consumption / demand)")
    percent_axis(ax, floor=thr[0] if thr else None)
    ax2.set_ylabel("cumulative shortfall, t REO")
    ax2.set_xlabel("month")
    ax2.set_ylim(bottom=0)
    date_axis(ax)
    date_axis(ax2)
    if thr is not None:
        draw_threshold(ax, thr)
    # Per month, each distinct event label once: grey when every file has it,
    # else in the colour of the first file with it; where files differ in a
    # month, the first two labels go left and right of the line.
    per_run = [dict(s.events()) for s in sources]
    for when in sorted(set().union(*per_run)):
        distinct = []
        for k, evs in enumerate(per_run):
            if when in evs and evs[when] not in [lab for lab, _ in distinct]:
                distinct.append((evs[when], k))
        for n, (label, k) in enumerate(distinct):
            shared = all(p.get(when) == label for p in per_run)
            color = "0.35" if shared else colors[k]
            draw_events(ax, [(when, label)], labels=n < 2, color=color, where="bottom",
                        side="left" if n == 0 else "right")
            draw_events(ax2, [(when, label)], labels=False, color=color)
    handles, texts = ax.get_legend_handles_labels()
    ax2.legend(handles, [wrap_title([t], 70) for t in texts], loc="upper center",
               bbox_to_anchor=(0.5, -0.2), ncol=1 if len(texts) > 4 else min(len(texts), 2),
               fontsize=10.5, frameon=False)
    return fig


def compare_stem(sources, name=None):
    if name:
        return name
    stems = [s.stem for s in sources]
    stem = "_vs_".join(stems)
    if len(stem) > 80:
        digest = hashlib.sha256("\0".join(s.path for s in sources).encode()).hexdigest()[:8]
        stem = "%s_vs_%d_more_%s" % (stems[0], len(stems) - 1, digest)
    return stem


def compare_charts(sources, opts):
    """(file name, Figure) per element for several comparable files."""
    check_comparable(sources, opts.group)
    stem = compare_stem(sources, opts.name)
    for el in sources[0].elements(opts.element):
        for s in sources[1:]:
            s.elements([el])
        yield "%s_compare_%s.png" % (stem, el), fig_compare(sources, el, opts.group,
                                                            opts.threshold)


# ---------------------------------------------------------------- dispatch

def plugin_for(columns, notes):
    """(kind, builder, module) of the first module in PLUGINS that charts this header."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    for kind, module, detector, builder in PLUGINS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module:
                continue
            notes.append("%s could not be imported (%s)" % (module, e))
            continue
        except Exception as e:  # a broken module must not stop the built-in charts
            notes.append("%s could not be imported (%s: %s)" % (module, type(e).__name__, e))
            continue
        detect, build = getattr(mod, detector, None), getattr(mod, builder, None)
        if detect is None or build is None:
            notes.append("%s has no %s() or %s()" % (module, detector, builder))
            continue
        if detect(list(columns)):
            return kind, build, mod
    return None, None, None


def charts_for(src, opts):
    """(file name, Figure or written path) for one CSV, by its kind."""
    if src.kind == "run":
        return run_charts(src, opts)
    if src.kind == "ensemble":
        return ensemble_charts(src, opts)
    if src.kind == "raw":
        return raw_charts(src, opts)
    if src.kind == "sweep":
        return sweep_charts(src, opts)
    notes = []
    kind, build, mod = plugin_for(src.df.columns, notes)
    if build is None:
        raise PlotError("%s: not a resim output (header starts %s); expected a run, ensemble "
                        "summary, raw replicates or sweep CSV%s"
                        % (src.path, ",".join(map(str, src.df.columns[:6])),
                           "; " + "; ".join(notes) if notes else ""))
    opts.meta, opts.stem = src.meta, src.stem
    os.makedirs(opts.outdir, exist_ok=True)
    try:
        return build(src.df.drop(columns=["when"], errors="ignore"), src.path, opts)
    except PlotError:
        raise
    except Exception as e:
        if type(e).__module__ != mod.__name__:
            raise
        msg = str(e)
        raise PlotError(msg if msg.startswith(src.path) else "%s: %s" % (src.path, msg)) from None


def write(items, outdir):
    """Saves each (name, Figure) into outdir; returns the paths, in order."""
    paths = []
    for item in items:
        if isinstance(item, str):
            paths.append(item)
            continue
        name, fig = item
        os.makedirs(outdir, exist_ok=True)
        paths.append(save(fig, os.path.join(outdir, name)))
    return paths


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scripts/plot",
        description="Charts (1200x800 PNG) for resim CSVs: run, ensemble summary, raw "
                    "replicates or sweep, detected from the header. With several run CSVs "
                    "(or ensemble summaries), one comparison chart per element with one "
                    "line per file. Prints each file written.")
    p.add_argument("csv", metavar="FILE.csv", nargs="+")
    p.add_argument("-o", "--outdir", metavar="DIR",
                   help="where to write (default: next to the first FILE)")
    p.add_argument("--element", action="append", default=[], metavar="El",
                   help="only this element (repeatable; default all)")
    p.add_argument("--group", default="all",
                   help="ensemble, raw replicates and comparisons: which group to chart "
                        "(default all)")
    p.add_argument("--threshold", type=float, metavar="X",
                   help="availability threshold line (default: the file's --threshold, "
                        "or the stockpile trigger)")
    p.add_argument("--name", metavar="STEM",
                   help="comparison: file name stem (default FILE1_vs_FILE2...)")
    p.add_argument("--x", metavar="KEY", help="sweep: varied key on the x axis")
    p.add_argument("--y", metavar="KEY", help="sweep: varied key on the y axis")
    p.add_argument("--outcome", metavar="COLUMN",
                   help="sweep: outcome column (default Dy_all_cum_shortfall)")
    a = p.parse_args(argv)
    if a.threshold is not None and not 0 <= a.threshold <= 1:
        p.error("--threshold takes a fraction in [0, 1], not %g" % a.threshold)
    return a


def split_scenarios(src):
    """One Source per scenario name when a run CSV or ensemble summary holds
    several (files joined with cat, say), so they are compared, not drawn as
    one line; the sidecar stays with the scenario it names. Rows that repeat
    within one scenario are refused."""
    if src.kind not in COMPARE_KINDS:
        return [src]
    names = list(dict.fromkeys(src.df["scenario"].astype(str)))
    if len(names) == 1:
        parts = [src]
    else:
        parts = []
        for name in names:
            sc = src.meta.get("scenario")
            mine = isinstance(sc, dict) and sc.get("name") == name
            part = Source(src.path, df=src.df[src.df["scenario"].astype(str) == name],
                          meta=src.meta if mine else {})
            part.stem = "%s_%s" % (src.stem, safe_name(name))
            parts.append(part)
    for part in parts:
        dup = part.df.duplicated(["date", "element", "group"])
        if dup.any():
            row = part.df[dup].iloc[0]
            raise PlotError("%s: rows repeat for scenario %s, %s %s %s: several runs of one "
                            "scenario in one file? Give each run its own file"
                            % (src.path, part.scenario, row["date"], row["element"],
                               row["group"]))
    return parts


def main(argv=None):
    a = parse_args(argv)
    style()
    try:
        sources = []
        for path in a.csv:
            src = Source(path)
            if src.kind is not None and src.df.empty:
                raise PlotError("%s: %s CSV has no rows" % (path, src.kind))
            sources += split_scenarios(src)
        a.outdir = a.outdir or os.path.dirname(os.path.abspath(a.csv[0]))
        if len(sources) > 1:
            items = compare_charts(sources, a)
        else:
            items = charts_for(sources[0], a)
        paths = write(items, a.outdir)
    except PlotError as e:
        print("scripts/plot: %s" % e, file=sys.stderr)
        return 1
    except (KeyError, ValueError, TypeError) as e:
        print("scripts/plot: %s: malformed CSV (%s: %s)" % (", ".join(a.csv), type(e).__name__, e),
              file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0
