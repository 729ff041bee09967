"""resim's CSV outputs read cleanly in Python's csv module, pandas and gnuplot.

Run from the repository root: python3 tests/py_interop.py /path/to/resim
Checks the documented column names and types, that there are no comment lines
and no quoting, that the sidecar JSON parses and its SHA-256 values match the
scenario and data files, and that the pandas and gnuplot snippets in README.md
("From CSV to chart") run as written, in a shell, on a real output. Ensemble, raw replicate
and sweep outputs are checked when `resim help` lists those commands.
"""
import csv
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Debian's python3-pandas lives in the system interpreter.
try:
    import pandas as pd
except ImportError:
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

RESIM = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/resim"
ROOT = os.getcwd()
ID_COLUMNS = ["scenario", "date", "month", "element", "group"]
METRICS = ["demand", "requirement", "alt_capacity", "alt_supply", "china_applied",
           "china_approved", "china_rejected", "china_pending", "china_arrivals",
           "stockpile_release", "national_stockpile", "inventory", "consumption",
           "shortfall", "availability", "cover_days"]
RUN_COLUMNS = ID_COLUMNS + METRICS
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
    return subprocess.run([RESIM] + list(args), capture_output=True, text=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def plain_csv(name, path, header, numeric, allow_empty=()):
    """csv module: exact header, equal field counts, no comments, no quotes, numbers."""
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read()
    check("%s: no comment lines" % name,
          not any(line.startswith("#") for line in text.splitlines()))
    check("%s: no quoting" % name, '"' not in text)
    check("%s: ends with a newline, no blank lines" % name,
          text.endswith("\n") and "\n\n" not in text)
    rows = list(csv.reader(text.splitlines()))
    check("%s: header is %s..." % (name, ",".join(header[:6])), rows[0][:len(header)] == header,
          str(rows[0][:len(header)]))
    width = len(rows[0])
    check("%s: every row has %d fields" % (name, width), all(len(r) == width for r in rows))
    bad = []
    idx = [rows[0].index(c) for c in numeric if c in rows[0]]
    for r in rows[1:]:
        for i in idx:
            v = r[i]
            if v == "" and rows[0][i] in allow_empty:
                continue
            try:
                x = float(v)
                if not math.isfinite(x):
                    bad.append((rows[0][i], v))
            except ValueError:
                bad.append((rows[0][i], v))
    check("%s: numeric fields parse as finite numbers" % name, not bad, str(bad[:3]))
    return rows


def pandas_types(name, path, float_cols, int_cols, text_cols, strict=True):
    df = pd.read_csv(path)
    for c in int_cols:
        check("%s: pandas reads %s as an integer" % (name, c),
              pd.api.types.is_integer_dtype(df[c]), str(df[c].dtype))
    for c in text_cols:
        check("%s: pandas reads %s as text" % (name, c), df[c].dtype == object, str(df[c].dtype))
    wrong = {c: str(df[c].dtype) for c in float_cols if df[c].dtype != "float64"}
    if strict:
        check("%s: pandas reads every metric as float64" % name, not wrong, str(wrong))
    elif wrong:
        print("note %s: all-whole-number columns read as int64 without a dtype: %s"
              % (name, ", ".join(sorted(wrong))))
    # The README's recipe gives float64 whatever the values.
    df2 = df.copy()
    df2[float_cols] = df2[float_cols].astype("float64")
    check("%s: README recipe gives float64 metrics" % name,
          all(df2[c].dtype == "float64" for c in float_cols))
    return df


def readme_block(command):
    """The shell block of README.md's 'From CSV to chart' section that starts
    with `command` (e.g. /usr/bin/python3 or gnuplot)."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## From CSV to chart$(.*?)^## ", text, re.S | re.M)
    if not m:
        return None
    for b in re.finditer(r"^```sh\n(.*?)^```", m.group(1), re.S | re.M):
        if b.group(1).startswith(command + " "):
            return b.group(1)
    return None


def run_snippet(block, work):
    """Runs a README shell block as a user would paste it: bash in the folder
    holding out/, no display, no MPLBACKEND, whatever python3 is on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    return subprocess.run(["bash", "-euc", block], capture_output=True, text=True, cwd=work,
                          env=env)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def check_sidecar(name, csv_path, scenario, columns):
    try:
        with open(csv_path + ".json", encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        check("%s: sidecar JSON parses" % name, False, str(e))
        return
    check("%s: sidecar JSON parses" % name, True)
    sc = meta.get("scenario", {})
    check("%s: sidecar scenario sha256 matches %s" % (name, scenario),
          sc.get("sha256") == sha256(scenario), "%s vs %s" % (sc.get("sha256"), sha256(scenario)))
    data = meta.get("data", [])
    check("%s: sidecar lists the five data tables" % name, len(data) == 5, str(len(data)))
    bad = [d.get("path") for d in data
           if not os.path.isfile(d.get("path", "")) or d.get("sha256") != sha256(d["path"])]
    check("%s: sidecar data sha256 values match the files" % name, not bad, str(bad))
    if "columns" in meta:
        check("%s: sidecar columns match the CSV header" % name, meta["columns"] == columns,
              str(meta["columns"]))


def check_run(tmp):
    scen = "scenarios/japan-2026.ini"
    path = os.path.join(tmp, "japan-2026.csv")
    r = resim("run", scen, "--by", "status", "-o", path)
    check("resim run --by status -o", r.returncode == 0, r.stderr)
    rows = plain_csv("run", path, RUN_COLUMNS, ["month"] + METRICS, allow_empty=("cover_days",))
    hdr = rows[0]
    # cover_days is empty exactly when demand is 0.
    di, ci = hdr.index("demand"), hdr.index("cover_days")
    check("run: cover_days empty exactly when demand is 0",
          all((r[ci] == "") == (float(r[di]) == 0.0) for r in rows[1:]))
    check("run: groups are all, none, watch, control",
          set(r[hdr.index("group")] for r in rows[1:]) == {"all", "none", "watch", "control"})
    check("run: dates are YYYY-MM",
          all(re.fullmatch(r"\d{4}-\d{2}", r[hdr.index("date")]) for r in rows[1:]))
    df = pandas_types("run", path, METRICS, ["month"], ["scenario", "date", "element", "group"])
    check("run: pandas reads the documented columns", list(df.columns[:21]) == RUN_COLUMNS)
    check("run: availability = consumption / demand",
          ((df.availability - (df.consumption / df.demand).where(df.demand > 0, 1.0)).abs()
           < 1e-12).all())
    check_sidecar("run", path, scen, hdr)

    # A scenario without controls has columns of zeros: the README recipe covers them.
    base = os.path.join(tmp, "baseline.csv")
    r = resim("run", "scenarios/baseline.ini", "-o", base)
    check("resim run baseline", r.returncode == 0, r.stderr)
    pandas_types("baseline", base, METRICS, ["month"], ["scenario", "date", "element", "group"],
                 strict=False)
    check_gnuplot(tmp, path, df)
    check_readme_pandas(tmp, path, df)


def check_gnuplot(tmp, path, df):
    gp = shutil.which("gnuplot")
    if gp is None:
        check("gnuplot is installed (scripts/deps: gnuplot-nox)", False)
        return
    # Values gnuplot reads by column name match pandas.
    table = os.path.join(tmp, "table.txt")
    script = """set datafile separator ','
set datafile missing NaN
set key autotitle columnheader
set table '%s'
plot '%s' using 'month':(strcol('element') eq 'Dy' && strcol('group') eq 'watch' ? column('cover_days') : NaN) with lines
unset table
""" % (table, path)
    r = subprocess.run([gp], input=script, capture_output=True, text=True)
    check("gnuplot reads the run CSV by column name", r.returncode == 0, r.stderr)
    got = []
    if os.path.isfile(table):
        for line in open(table):
            f = line.split()
            if len(f) == 3 and f[2] == "i":
                got.append((float(f[0]), float(f[1])))
    want = df[(df.element == "Dy") & (df.group == "watch") & df.cover_days.notna()]
    ok = len(got) == len(want) and all(
        m == w_m and abs(v - w_v) <= 1e-5 * max(1.0, abs(w_v))
        for (m, v), (w_m, w_v) in zip(got, zip(want.month, want.cover_days)))
    check("gnuplot values match pandas (Dy watch cover_days, empty fields missing)", ok,
          "%d vs %d points" % (len(got), len(want)))
    # The README snippet, as written.
    block = readme_block("gnuplot")
    check("README has a gnuplot snippet (a shell block starting 'gnuplot')", block is not None)
    if block is None:
        return
    work = os.path.join(tmp, "gnuplot")
    os.makedirs(os.path.join(work, "out"))
    shutil.copy(path, os.path.join(work, "out", "japan-2026.csv"))
    r = run_snippet(block, work)
    png = os.path.join(work, "dy-availability.png")
    check("README gnuplot snippet runs as written and writes a 1200x800 PNG",
          r.returncode == 0 and os.path.isfile(png) and png_size(png) == (1200, 800),
          r.stderr)


def check_readme_pandas(tmp, path, df):
    block = readme_block("/usr/bin/python3")
    check("README has a pandas snippet naming /usr/bin/python3", block is not None)
    if block is None:
        return
    work = os.path.join(tmp, "pandas")
    os.makedirs(os.path.join(work, "out"))
    shutil.copy(path, os.path.join(work, "out", "japan-2026.csv"))
    r = run_snippet(block, work)
    png = os.path.join(work, "availability.png")
    check("README pandas snippet runs as written and writes a 1200x800 PNG",
          r.returncode == 0 and os.path.isfile(png) and png_size(png) == (1200, 800),
          r.stderr[-500:])
    dy = df[(df.element == "Dy") & (df.group == "all")]
    per_year = dy.groupby(dy.date.str[:4])["shortfall"].sum()
    lines = dict(ln.split() for ln in r.stdout.splitlines() if re.fullmatch(r"\d{4}\s+\S+", ln))
    check("README pandas snippet prints the Dy shortfall per year",
          sorted(lines) == sorted(per_year.index) and
          all(abs(float(lines[y]) - v) <= 1e-5 * max(1.0, v) for y, v in per_year.items()),
          r.stdout[-300:])


def check_ensemble(tmp, text):
    if "--replicates" not in text:
        print("note: resim has no --replicates yet; ensemble and raw replicate outputs not checked")
        return
    scen = "scenarios/japan-2026.ini"
    summary, raw = os.path.join(tmp, "ens.csv"), os.path.join(tmp, "raw.csv")
    r = resim("run", scen, "--replicates", "8", "-o", summary, "--raw", raw)
    check("resim run --replicates 8 --raw", r.returncode == 0, r.stderr)
    if r.returncode != 0:
        return
    rows = plain_csv("ensemble", summary, ID_COLUMNS, [], ())
    hdr = rows[0]
    metric_cols = hdr[5:]
    want = []
    for m in METRICS:
        want.append(m + "_mean")
        want += ["%s_p%s" % (m, q) for q in ("05", "25", "50", "75", "95")]
    check("ensemble: M_mean and M_p05..M_p95 for every run metric",
          all(c in hdr for c in want), str([c for c in want if c not in hdr][:5]))
    check("ensemble: prob_availability_below column", "prob_availability_below" in hdr)
    plain_csv("ensemble", summary, ID_COLUMNS, ["month"] + metric_cols,
              allow_empty=tuple(c for c in metric_cols if c.startswith("cover_days")))
    pandas_types("ensemble", summary, metric_cols, ["month"],
                 ["scenario", "date", "element", "group"], strict=False)
    check_sidecar("ensemble", summary, scen, hdr)
    rows = plain_csv("raw", raw, ["scenario", "replicate", "date", "month", "element", "group"]
                     + METRICS, ["replicate", "month"] + METRICS, allow_empty=("cover_days",))
    df = pandas_types("raw", raw, METRICS, ["replicate", "month"],
                      ["scenario", "date", "element", "group"], strict=False)
    check("raw: replicates 0..7", sorted(df.replicate.unique()) == list(range(8)),
          str(sorted(df.replicate.unique())[:10]))


def check_sweep(tmp, text):
    if "sweep SCENARIO" not in text:
        print("note: resim has no sweep command yet; sweep output not checked")
        return
    scen = "scenarios/japan-2026.ini"
    path = os.path.join(tmp, "sweep.csv")
    r = resim("sweep", scen, "--vary", "policy.approval.watch=0:1:3",
              "--vary", "alt.capacity_factor=0.5:1.5:2", "-o", path)
    check("resim sweep (grid, 6 points)", r.returncode == 0, r.stderr)
    if r.returncode != 0:
        return
    with open(path, newline="") as f:
        hdr = next(csv.reader(f))
    outcomes = [c for c in hdr if re.fullmatch(r"[A-Z][a-z]?_[a-z]+_[a-z_]+", c)
                and not c.endswith("_date")]
    dates = [c for c in hdr if c.endswith("_date")]
    rows = plain_csv("sweep", path, ["point", "policy.approval.watch", "alt.capacity_factor"],
                     ["point", "policy.approval.watch", "alt.capacity_factor"] + outcomes,
                     allow_empty=tuple(outcomes))
    check("sweep: Dy_all_cum_shortfall, Dy_all_min_availability, Dy_watch_months_below",
          {"Dy_all_cum_shortfall", "Dy_all_min_availability", "Dy_watch_months_below"}
          <= set(hdr))
    check("sweep: one row per point, in order",
          [r[0] for r in rows[1:]] == [str(k) for k in range(6)], str([r[0] for r in rows[1:]]))
    df = pd.read_csv(path)
    check("sweep: pandas reads point as an integer", pd.api.types.is_integer_dtype(df["point"]))
    numeric = [c for c in hdr[1:] if c not in dates]
    check("sweep: pandas reads varied keys and outcomes as numbers",
          all(pd.api.types.is_numeric_dtype(df[c]) for c in numeric),
          str({c: str(df[c].dtype) for c in numeric if not pd.api.types.is_numeric_dtype(df[c])}))
    # Every month measure has a date column: YYYY-MM or empty, as pandas
    # parses it, and the start month plus the month number.
    bad = []
    for c in dates:
        month = {"peak_date": "peak_month", "min_date": "min_month"}.get(
            c.split("_", 2)[2], c.split("_", 2)[2][:-len("_date")])
        num = "_".join(c.split("_", 2)[:2]) + "_" + month
        for v, m in zip(df[c], df[num]):
            if pd.isna(v) != pd.isna(m):
                bad.append((c, v, m))
            elif not pd.isna(v):
                d = pd.to_datetime(v, format="%Y-%m")
                if (d.year - 2025) * 12 + d.month - 1 != int(m):
                    bad.append((c, v, m))
    check("sweep: %d date columns, each start + its month number (pandas to_datetime)" % len(dates),
          len(dates) == 7 * 4 * 5 and not bad, str(bad[:3]))
    check_sidecar("sweep", path, scen, hdr)


def main():
    tmp = tempfile.mkdtemp(prefix="resim-interop.")
    try:
        check_run(tmp)
        r = resim("help")
        text = r.stdout + r.stderr
        check_ensemble(tmp, text)
        check_sweep(tmp, text)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
