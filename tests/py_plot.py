"""scripts/plot writes 1200x800 PNGs for every kind of resim CSV and refuses others.

Run from the repository root: python3 tests/py_plot.py /path/to/resim
The ensemble summary, raw replicates and sweep CSVs are built here from a real
run, following their column contracts, so the charts are tested whether or not
the commands that write them are in the binary; when they are, their real
output is charted too.
"""
import os
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
SCENARIO = "scenarios/japan-2026.ini"
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
    try:
        from PIL import Image
    except ImportError:
        return paths
    sizes = set()
    for p in paths:
        with Image.open(p) as im:
            sizes.add(im.size)
    check("%s: PIL reads 1200x800" % name, sizes == {(1200, 800)}, str(sizes))
    return paths


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


def synthetic_sweep(kind, n=None):
    rng = np.random.default_rng(4711)
    if kind == "grid":
        w = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
        f = np.array([0.5, 0.75, 1.0, 1.25])
        t = np.array([0.8, 0.9])
        g = np.array(np.meshgrid(w, f, t, indexing="ij")).reshape(3, -1)
        x, y, z = g
    else:
        x, y, z = rng.uniform(0, 1, n), rng.uniform(0.5, 1.5, n), rng.uniform(0.8, 0.95, n)
    d = pd.DataFrame({"point": np.arange(len(x)), "policy.approval.watch": x,
                      "alt.capacity_factor": y, "stockpile.trigger": z})
    d["Dy_all_cum_shortfall"] = 80 * (1 - x) / y + 5 * z
    d["Dy_all_min_availability"] = 1 - 0.3 * (1 - x) / y
    d["Dy_watch_months_below"] = np.round(20 * (1 - x)).astype(int)
    d["Tb_all_cum_shortfall"] = 30 * (1 - x) / y
    return d


def help_text():
    r = subprocess.run([RESIM, "help"], capture_output=True, text=True)
    return r.stdout + r.stderr


def main():
    tmp = tempfile.mkdtemp(prefix="resim-plot.")
    try:
        run_csv = os.path.join(tmp, "japan.csv")
        r = subprocess.run([RESIM, "run", SCENARIO, "--by", "status", "-o", run_csv],
                           capture_output=True, text=True)
        check("resim run writes the run CSV", r.returncode == 0, r.stderr)
        run = pd.read_csv(run_csv)

        out = os.path.join(tmp, "run")
        paths = check_pngs("run", plot([run_csv, "-o", out]), out, 1 + 2 * 7)
        check("run: supply and status charts for Dy",
              {os.path.join(out, "japan_supply_Dy.png"),
               os.path.join(out, "japan_status_Dy.png")} <= set(paths))
        out = os.path.join(tmp, "run-el")
        paths = check_pngs("run --element Dy --element Tb",
                           plot([run_csv, "-o", out, "--element", "Dy", "--element", "Tb"]),
                           out, 5)
        check("run --element: only the elements asked for", len(paths) == 5, str(paths))
        r = plot([run_csv, "-o", os.path.join(tmp, "x"), "--element", "Nd"])
        check("run --element Nd (absent): exit 1 naming the element",
              r.returncode == 1 and "Nd" in r.stderr, r.stderr)

        # Without -o the charts go next to the CSV.
        r = plot([run_csv, "--element", "Lu"])
        check("run without -o: charts next to the CSV",
              r.returncode == 0 and all(os.path.dirname(p) == tmp
                                        for p in r.stdout.split()), r.stdout + r.stderr)

        for label, qs in (("default quantiles", [0.05, 0.25, 0.5, 0.75, 0.95]),
                          ("quantiles 0.025 .. 0.975", [0.025, 0.1, 0.5, 0.9, 0.975])):
            ens = synthetic_ensemble(run, qs)
            path = os.path.join(tmp, "ens.csv")
            ens.to_csv(path, index=False)
            out = os.path.join(tmp, "ens-%d" % len(label))
            check_pngs("ensemble, %s" % label, plot([path, "-o", out]), out, 2 * 7)
        if "availability_p2.5" not in ens.columns:
            check("synthetic ensemble names the 2.5 % quantile availability_p2.5", False)

        raw = synthetic_raw(run[run["element"].isin(["Dy", "Y"])], 120)
        path = os.path.join(tmp, "raw.csv")
        raw.to_csv(path, index=False)
        out = os.path.join(tmp, "raw")
        check_pngs("raw replicates (120, 100 drawn)", plot([path, "-o", out]), out, 2)

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

        unknown = os.path.join(tmp, "prices.csv")
        with open(unknown, "w") as f:
            f.write("date,element,price_usd_kg\n2025-01,Dy,230\n")
        out = os.path.join(tmp, "unknown")
        r = plot([unknown, "-o", out])
        check("unknown CSV: exit 1 with a message on stderr",
              r.returncode == 1 and "not a resim output" in r.stderr and r.stdout == "",
              "rc=%d stderr=%r" % (r.returncode, r.stderr))
        check("unknown CSV: no charts written",
              not os.path.isdir(out) or not os.listdir(out))
        r = plot([os.path.join(tmp, "missing.csv")])
        check("missing file: exit 1", r.returncode == 1 and "missing.csv" in r.stderr, r.stderr)
        r = plot([])
        check("no arguments: usage error, exit 2", r.returncode == 2, str(r.returncode))

        real_outputs(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def real_outputs(tmp):
    """Charts of the real ensemble and sweep outputs, once the binary has them."""
    text = help_text()
    if "--replicates" in text:
        summary = os.path.join(tmp, "ensemble.csv")
        raw = os.path.join(tmp, "replicates.csv")
        r = subprocess.run([RESIM, "run", SCENARIO, "--replicates", "20", "-o", summary,
                            "--raw", raw], capture_output=True, text=True)
        check("resim run --replicates 20 --raw", r.returncode == 0, r.stderr)
        out = os.path.join(tmp, "real-ens")
        check_pngs("real ensemble summary", plot([summary, "-o", out]), out, 2 * 7)
        check_pngs("real raw replicates", plot([raw, "-o", out]), out, 7)
    else:
        print("note: resim has no --replicates yet; ensemble charts tested on synthetic CSVs only")
    if "sweep SCENARIO" in text:
        scen = os.path.abspath(SCENARIO)
        for design in (["--vary", "policy.approval.watch=0:1:3", "--vary",
                        "alt.capacity_factor=0.5:1.5:3", "--vary", "stockpile.trigger=0.8:0.9:2"],
                       ["--vary", "policy.approval.watch=0:1", "--vary",
                        "alt.capacity_factor=0.5:1.5", "--design", "lhs", "--points", "24"]):
            path = os.path.join(tmp, "sweep-real.csv")
            r = subprocess.run([RESIM, "sweep", scen] + design + ["-o", path],
                               capture_output=True, text=True)
            check("resim sweep %s" % design[-1], r.returncode == 0, r.stderr)
            out = os.path.join(tmp, "real-sweep-" + design[-1])
            check_pngs("real sweep (%s)" % design[-1], plot([path, "-o", out]), out, 1)
    else:
        print("note: resim has no sweep command yet; sweep charts tested on synthetic CSVs only")


if __name__ == "__main__":
    sys.exit(main())
