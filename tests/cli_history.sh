#!/usr/bin/env bash
# cli_history.sh - the shipped 2010 fit is what the shipped files and the docs say.
#
#   bash tests/cli_history.sh /path/to/resim      (from the repository root)
#
# Runs the fit command recorded in scenarios/history/embargo-2010-fitted.ini.json
# again and checks that it gives the shipped fitted values and series; that
# `resim run` of the shipped fitted scenario reproduces the fitted series; that
# the tables of the README's History section and of docs/history.md state the
# fitted values, intervals, bounds, RMSE and model runs of the shipped fit; and
# that the value carried into licensing-2025.ini and japan-2026.ini is the
# fit's interval.
set -u
resim=${1:?usage: bash tests/cli_history.sh /path/to/resim}
case $resim in /*) ;; *) resim=$PWD/$resim ;; esac
py=/usr/bin/python3
[ -x $py ] || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$py" - "$resim" "$tmp" <<'PY'
import csv, json, math, re, subprocess, sys

resim, tmp = sys.argv[1], sys.argv[2]
FITTED = "scenarios/history/embargo-2010-fitted.ini"
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + (": " + detail if detail else ""))


def ini_values(path):
    """section.key -> value string (the last assignment wins), comments dropped."""
    out, section = {}, ""
    with open(path) as f:
        for line in f:
            s = line.split(";", 1)[0].strip()
            if not s or line[0] in " \t":
                continue
            if s.startswith("[") and s.endswith("]"):
                section = s[1:-1]
            elif "=" in s:
                k, v = s.split("=", 1)
                out[section + "." + k.strip()] = v.strip()
    return out


def series(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def close(a, b, rel=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def g3(x):
    return float("%.3g" % x)


meta = json.load(open(FITTED + ".json"))
shipped = ini_values(FITTED)
shipped_csv = series(FITTED[:-4] + ".csv")

# 1. The recorded command, with -o into the temporary directory, gives the shipped fit.
cmd = list(meta["command_line"])
cmd[cmd.index("-o") + 1] = tmp + "/fitted.ini"
run = subprocess.run([resim] + cmd, capture_output=True, text=True)
check("the recorded fit command runs", run.returncode == 0, run.stderr.strip())
if run.returncode == 0:
    again = ini_values(tmp + "/fitted.ini")
    keys = set(shipped) | set(again)
    diff = [k for k in sorted(keys) if k != "scenario.data" and shipped.get(k) != again.get(k)]
    check("the fit again gives the shipped fitted scenario's values", not diff,
          ", ".join("%s: %s vs %s" % (k, shipped.get(k), again.get(k)) for k in diff))
    rows = series(tmp + "/fitted.csv")
    same = len(rows) == len(shipped_csv) and all(
        r["date"] == s["date"] and close(float(r["fitted"]), float(s["fitted"]))
        and close(float(r["observed"]), float(s["observed"])) for r, s in zip(rows, shipped_csv))
    check("the fit again gives the shipped fitted series", same)
    m = re.search(r"RMSE (\S+) over", run.stdout)
    check("the fit's table prints the sidecar's RMSE",
          m is not None and close(float(m.group(1)), meta["rmse"], 1e-5))

# 2. resim run of the shipped fitted scenario reproduces the shipped fitted series.
run = subprocess.run([resim, "run", FITTED, "-o", tmp + "/run.csv"], capture_output=True, text=True)
check("resim run of the fitted scenario", run.returncode == 0, run.stderr.strip())
if run.returncode == 0:
    arr = {r["date"]: float(r["china_arrivals"]) for r in series(tmp + "/run.csv")}
    norm = arr[meta["normalise"]["month"]]
    bad = [s["date"] for s in shipped_csv if not close(arr[s["date"]] / norm, float(s["fitted"]), 1e-12)]
    check("the fitted scenario's china_arrivals / 2010-09 is the shipped fitted series", not bad,
          " ".join(bad))
    obs = {r["date"]: float(r["value"]) for r in series(meta["observed"]["path"])}
    bad = [s["date"] for s in shipped_csv
           if not close(obs[s["date"]] / obs[meta["normalise"]["month"]], float(s["observed"]), 1e-12)]
    check("the shipped series' observed column is the observed file normalised", not bad, " ".join(bad))

# 3. The tables of the README's History section and of docs/history.md.
free = {f["key"]: f for f in meta["free"]}


def table_rows(text):
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| `([^`]+)` \|", line)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        # The fit's table: key | lever | estimate | interval | bounds (bounds LO:HI).
        if m and m.group(1) in free and len(cells) == 5 and ":" in cells[4]:
            check("%s appears once in the fit's table" % m.group(1), m.group(1) not in rows)
            rows[m.group(1)] = cells
    return rows


def check_table(name, text):
    rows = table_rows(text)
    check(name + ": one row per free key", set(rows) == set(free),
          "rows %s, keys %s" % (sorted(rows), sorted(free)))
    for key, cells in rows.items():
        f = free[key]
        est, interval, bounds = cells[2], cells[3], cells[4]
        try:
            ok = float(est) == g3(float(shipped[key]))
        except (ValueError, KeyError):
            ok = False
        check("%s: %s estimate %s is the fitted scenario's" % (name, key, est), ok,
              "fitted %s" % shipped.get(key))
        if f["identified"]:
            m = re.match(r"\[(\S+), (\S+)\]", interval)
            ok = m is not None and float(m.group(1)) == g3(f["lower"]) and float(m.group(2)) == g3(f["upper"])
        else:
            ok = interval == "not identified"
        check("%s: %s interval '%s' is the fit's" % (name, key, interval), ok)
        check("%s: %s bounds %s" % (name, key, bounds), bounds == "%g:%g" % (f["lo"], f["hi"]))
    m = re.search(r"RMSE (\S+) ", text)
    check(name + ": RMSE", m is not None and float(m.group(1)) == g3(meta["rmse"]))
    m = re.search(r"(\d+)\s+model runs", text)
    check(name + ": model runs", m is not None and int(m.group(1)) == meta["model_runs"])


readme = open("README.md").read()
start = readme.find("\n## History\n")
check("README has a History section", start >= 0)
history = readme[start:readme.find("\n## ", start + 1)]
check_table("README History", history)
check_table("docs/history.md", open("docs/history.md").read())

# 4. The precautionary cover carried into the 2025 and 2026 scenarios is the fit's interval.
pm = free["policy.precaution_months.none"]
want = "triangular(0, 0, %g)" % g3(pm["upper"])
check("the fit identifies policy.precaution_months.none", pm["identified"])
check("its estimate rounds to 0 (the carried central value)", round(pm["estimate"], 2) == 0)
for path in ("scenarios/licensing-2025.ini", "scenarios/japan-2026.ini"):
    got = ini_values(path).get("policy.precaution_months.none")
    check("%s: precaution_months.none = %s" % (path, want), got == want, "got %s" % got)
    text = open(path).read()
    check(path + ": names the fit", "embargo-2010-fitted.ini" in text)
check("README states the carried value", want in history.replace("\n", " "))

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
