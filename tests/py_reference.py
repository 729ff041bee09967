#!/usr/bin/env python3
"""Independent reference implementation of the deterministic model in MODEL.md.

Usage: python3 tests/py_reference.py /path/to/build/resim   (from the repo root)

Written from MODEL.md (sections 1-7), data/README.md and the scenario INI
grammar only; it does not share code or structure with sim/core.  Every
application (importer, element, filing month) is stored separately with its
own review-delay kernel.  The engine's CSV is compared cell by cell with
relative tolerance 1e-9 and an absolute floor of 1e-9 t.

Exits non-zero on any mismatch and ends with a line "N passed, M failed".
"""

import csv
import glob
import math
import os
import re
import subprocess
import sys
import tempfile
import time

try:
    from scipy.stats import gamma as _gamma
except ImportError:  # pyenv python without scipy: fall back to Debian's python3
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != "/usr/bin/python3" \
            and not os.environ.get("PY_REFERENCE_REEXEC"):
        os.environ["PY_REFERENCE_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

M = 365.25 / 12.0
STATUSES = ("none", "watch", "control")
RTOL = 1e-9
ATOL = 1e-9
NUM_COLS = ["demand", "requirement", "alt_capacity", "alt_supply", "china_applied",
            "china_approved", "china_rejected", "china_pending", "china_arrivals",
            "stockpile_release", "national_stockpile", "inventory", "consumption",
            "shortfall", "availability", "cover_days"]
ALL_COLS = ["scenario", "date", "month", "element", "group"] + NUM_COLS


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------

def month_index(ym):
    m = re.fullmatch(r"\s*(\d{4})-(\d{2})\s*", ym)
    if not m:
        raise ValueError("bad month %r" % ym)
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_name(idx):
    return "%04d-%02d" % (idx // 12, idx % 12 + 1)


def split_list(v):
    return [x for x in re.split(r"[,\s]+", v.strip()) if x]


def read_ini(path):
    """Return an ordered list of [section, [[key, value], ...]]."""
    sections = []
    cur = None
    last = None
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.rstrip("\r\n")
            s = line.strip()
            if not s or s.startswith(";") or s.startswith("#"):
                continue
            if line[0] in " \t" and last is not None:
                last[1] = (last[1] + " " + s).strip()
                continue
            if s.startswith("["):
                name = s[1:s.index("]")].strip()
                cur = [name, []]
                sections.append(cur)
                last = None
                continue
            k, _, v = s.partition("=")
            last = [k.strip(), v.strip()]
            cur[1].append(last)
    return sections


def apply_sets(sections, sets):
    """--set SECTION.KEY=VALUE: replace the key in that section, else append."""
    for s in sets:
        lhs, _, val = s.partition("=")
        sec, _, key = lhs.strip().partition(".")
        found = None
        for name, kvs in sections:
            if name == sec:
                found = kvs
        if found is None:
            found = []
            sections.append([sec, found])
        for kv in found:
            if kv[0] == key:
                kv[1] = val.strip()
                break
        else:
            found.append([key, val.strip()])


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class Scenario:
    pass


def load_scenario(ini, sets=(), warmup=None):
    sections = read_ini(ini)
    apply_sets(sections, sets)
    sc = Scenario()
    base = {}
    for name, kvs in sections:
        if name == "scenario":
            for k, v in kvs:
                base[k] = v
    sc.name = base.get("name", os.path.splitext(os.path.basename(ini))[0])
    sc.start = month_index(base["start"])
    sc.T = int(base["months"])
    sc.W = int(base.get("warmup_months", "0") or 0)
    if warmup is not None:
        sc.W = int(warmup)
    datadir = os.path.join(os.path.dirname(os.path.abspath(ini)), base.get("data", "../data") or "../data")
    elements = read_csv(os.path.join(datadir, "elements.csv"))
    if base.get("elements", "").strip():
        sc.elements = split_list(base["elements"])
    else:
        sc.elements = [r["symbol"] for r in elements if r["licensed_2025"].strip() == "1"]
    sc.L = int(float(base.get("transit_months", "1") or 1))
    sc.tau = float(base.get("adjust_months", "2") or 2)

    # importers
    sc.imp = []
    for r in read_csv(os.path.join(datadir, "importers.csv")):
        sc.imp.append({
            "id": r["id"], "status": r["status"].strip(), "exposure": float(r["exposure"]),
            "military": float(r["military"]), "cover": float(r["cover_months"]),
            "share": {e: float(r["share_" + e]) for e in sc.elements},
        })
    # levers
    lev = {"controlled": set(), "military_ban": 0.0}
    for s, a in zip(STATUSES, (1.0, 1.0, 0.0)):
        lev["approval." + s] = a
        lev["delay_mean_days." + s] = 0.0
        lev["delay_cv." + s] = 0.0
    for r in read_csv(os.path.join(datadir, "demand.csv")):
        if r["element"] in sc.elements:
            lev["base_tpy." + r["element"]] = float(r["base_tpy"])
            lev["growth." + r["element"]] = float(r["growth"])
    lev["alt.capacity_factor"] = 1.0
    lev["alt.delay_months"] = 0.0
    sc.sources = []
    for r in read_csv(os.path.join(datadir, "alt_sources.csv")):
        j = r["id"]
        sc.sources.append((j, r["element"]))
        lev["alt.%s.capacity_factor" % j] = 1.0
        lev["alt.%s.delay_months" % j] = 0.0
        lev["alt.%s.capacity_tpy" % j] = float(r["capacity_tpy"])
        lev["alt.%s.start" % j] = float(month_index(r["start"]) - sc.start)
        lev["alt.%s.ramp_months" % j] = float(r["ramp_months"])
        lev["alt.%s.growth" % j] = float(r["growth"])
        lev["alt.%s.japan_share" % j] = float(r["japan_share"])
    sc.source_ids = set(j for j, _ in sc.sources)
    lev["stockpile.enabled"] = 0.0
    lev["stockpile.trigger"] = 0.9
    for e in sc.elements:
        lev["stockpile.tonnes." + e] = 0.0
        lev["stockpile.release_max_tpm." + e] = 0.0
    for r in read_csv(os.path.join(datadir, "stockpile.csv")):
        if r["element"] in sc.elements:
            lev["stockpile.tonnes." + r["element"]] = float(r["tonnes"])
            lev["stockpile.release_max_tpm." + r["element"]] = float(r["release_max_tpm"])
    sc.lev0 = lev

    # base sections are applied now, in file order (they are not events)
    events = []
    for name, kvs in sections:
        if name in ("policy", "demand", "alt", "stockpile"):
            for k, v in kvs:
                op = canon(sc, name + "." + k)
                if op is not None:
                    apply_op(sc, lev, None, op, v)
        elif re.fullmatch(r"\d{4}-\d{2}", name):
            m = month_index(name) - sc.start
            for k, v in kvs:
                op = canon(sc, k)
                if op is not None:
                    events.append((m, op, v))
    # sections in date order, keys in file order (stable sort)
    events.sort(key=lambda ev: ev[0])
    sc.events = [ev for ev in events if ev[0] <= sc.T - 1]
    return sc


def canon(sc, key):
    """Map a bare or section-prefixed key to a canonical lever name (None: ignore)."""
    k = key
    for p in ("policy.", "demand.", "stockpile.", "scenario."):
        if k.startswith(p):
            k = k[len(p):]
    if k.startswith("alt."):
        k = k[4:]
    if k == "source":
        return None
    head = k.split(".")[0]
    if head in ("controlled", "approval", "delay_mean_days", "delay_cv", "military_ban", "list",
                "base_tpy", "growth"):
        return k
    if k in ("capacity_factor", "delay_months"):
        return "alt." + k
    if head in sc.source_ids:
        return "alt." + k
    if head in ("enabled", "trigger", "tonnes", "release_max_tpm"):
        return "stockpile." + k
    if k in ("transit_months", "adjust_months"):
        return k
    raise ValueError("unknown key %r" % key)


def number(v):
    """A key's value; a distribution (README, Ensembles) gives its central value."""
    m = re.fullmatch(r"\s*([a-z]+)\s*\((.*)\)\s*", v)
    if m is None:
        return float(v)
    p = [float(x) for x in m.group(2).split(",")]
    return {"uniform": lambda: (p[0] + p[1]) / 2, "triangular": lambda: p[1]}.get(m.group(1), lambda: p[0])()


def apply_op(sc, lev, state, op, v):
    if op == "controlled":
        lev["controlled"] = set(split_list(v))
    elif op == "controlled.add":
        lev["controlled"] |= set(split_list(v))
    elif op == "controlled.remove":
        lev["controlled"] -= set(split_list(v))
    elif op.startswith("list."):
        status = state["status"]
        parts = op.split(".")
        if parts[1] == "set":
            ids = {imp["id"]: n for n, imp in enumerate(sc.imp)}
            for item in split_list(v):
                iid, _, st = item.partition(":")
                status[ids[iid]] = st
        else:
            n = int(math.floor(number(v) + 0.5))
            target = parts[2]
            order = list(range(len(sc.imp)))
            if parts[1] == "add":
                if target == "control":
                    cand = [i for i in order if status[i] != "control"]
                else:
                    cand = [i for i in order if status[i] == "none"]
                cand.sort(key=lambda i: -sc.imp[i]["exposure"])  # stable: table order on ties
                for i in cand[:n]:
                    status[i] = target
            else:
                cand = [i for i in order if status[i] == target]
                cand.sort(key=lambda i: sc.imp[i]["exposure"])
                for i in cand[:n]:
                    status[i] = "none"
    elif op in ("transit_months", "adjust_months"):
        lev[op] = float(v)
    elif op.startswith("stockpile.tonnes.") and state is not None:
        lev[op] = number(v)
        state["N"][op.split(".")[2]] = number(v)
    elif op.endswith(".start") and op.startswith("alt."):
        lev[op] = float(month_index(v) - sc.start)
    else:
        if op not in lev:
            raise ValueError("unknown lever %r" % op)
        lev[op] = number(v)


# ----------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------

_kernel_cache = {}


def kernel(controlled, mu, c, nbins):
    """w[k], k = 0 .. nbins-1 (bins past the horizon are not needed)."""
    if not controlled:
        return [1.0]
    key = (mu, c, nbins)
    w = _kernel_cache.get(key)
    if w is not None:
        return w
    if c == 0 or mu == 0:
        k = int(math.floor(mu / M))
        w = [0.0] * (k + 1)
        w[k] = 1.0
    else:
        shape = 1.0 / (c * c)
        scale = mu * c * c
        F = [float(x) for x in _gamma.cdf([k * M for k in range(nbins + 1)], shape, scale=scale)]
        w = [F[k + 1] - F[k] for k in range(nbins)]
    _kernel_cache[key] = w
    return w


def simulate(sc, by_status=False):
    els, imp = sc.elements, sc.imp
    n = len(imp)
    lev = dict(sc.lev0)
    lev["controlled"] = set(sc.lev0["controlled"])
    lev.setdefault("transit_months", float(sc.L))
    lev.setdefault("adjust_months", sc.tau)
    state = {"status": [x["status"] for x in imp], "N": {}}
    status = state["status"]
    t0, T = -sc.W, sc.T
    events = list(sc.events)
    ev_pos = 0

    def demand_e(e, t):
        return lev["base_tpy." + e] / 12.0 * (1.0 + lev["growth." + e]) ** (t / 12.0)

    def alt_cap(e, t):
        tot = 0.0
        for j, ej in sc.sources:
            if ej != e:
                continue
            start = lev["alt.%s.start" % j] + lev["alt.delay_months"] + lev["alt.%s.delay_months" % j]
            ramp_m = max(1.0, lev["alt.%s.ramp_months" % j])
            if t < start:
                ramp = 0.0
            else:
                ramp = min(1.0, (t - start + 1) / ramp_m)
            full = start + ramp_m - 1
            factor = lev["alt.capacity_factor"] * lev["alt.%s.capacity_factor" % j]
            cap = lev["alt.%s.capacity_tpy" % j] * factor * ramp * \
                (1.0 + lev["alt.%s.growth" % j]) ** (max(0.0, t - full) / 12.0)
            tot += lev["alt.%s.japan_share" % j] * cap / 12.0
        return tot

    # per (e, i) state
    inv = {e: [0.0] * n for e in els}
    approved_hist = {e: [dict() for _ in range(n)] for e in els}  # month -> approved volume
    apps = {e: [] for e in els}  # each: [i, f, a, w, decided_so_far]
    stuck = {e: [0.0] * n for e in els}  # undecided volume of applications with no bins left
    rows = []

    for t in range(t0, T):
        # 1. events
        while ev_pos < len(events) and events[ev_pos][0] <= t:
            _, op, v = events[ev_pos]
            apply_op(sc, lev, state, op, v)
            ev_pos += 1
        L = int(lev["transit_months"])
        tau = lev["adjust_months"]
        if t == t0:
            for e in els:
                state["N"][e] = lev["stockpile.tonnes." + e]
                De, Ae = demand_e(e, t), alt_cap(e, t)
                frac = min(1.0, Ae / De) if De > 0 else 1.0
                for i in range(n):
                    D = imp[i]["share"][e] * De
                    inv[e][i] = imp[i]["cover"] * D
                    c0 = max(0.0, D - D * frac)
                    for s in range(t0 - L, t0):
                        approved_hist[e][i][s] = c0
        for e in els:
            ctrl = e in lev["controlled"]
            De = demand_e(e, t)
            Ae = alt_cap(e, t)
            frac = min(1.0, Ae / De) if De > 0 else 1.0
            D = [imp[i]["share"][e] * De for i in range(n)]
            # supply line at the start of the month
            pend = list(stuck[e])
            for ap in apps[e]:
                pend[ap[0]] += ap[2] - ap[4]
            SL = [pend[i] + sum(approved_hist[e][i].get(s, 0.0) for s in range(t - L, t)) for i in range(n)]
            R = [0.0] * n
            for i in range(n):
                mu = lev["delay_mean_days." + status[i]]
                lead = (mu / M + L) if ctrl else float(L)
                Istar = imp[i]["cover"] * D[i]
                SLstar = D[i] * (1.0 - frac) * lead
                R[i] = max(0.0, D[i] + ((Istar - inv[e][i]) + (SLstar - SL[i])) / tau)
            sumR = sum(R)
            alt = [min(R[i], Ae * R[i] / sumR) if sumR > 0 else 0.0 for i in range(n)]
            a = [R[i] - alt[i] for i in range(n)]
            # file this month's applications with their own kernels
            nb = T - t
            for i in range(n):
                if a[i] > 0:
                    s = status[i]
                    w = kernel(ctrl, lev["delay_mean_days." + s], lev["delay_cv." + s], nb)
                    apps[e].append([i, t, a[i], w, 0.0])
            # decisions
            if ctrl:
                p = [lev["approval." + status[i]] * (1.0 - imp[i]["military"] * lev["military_ban"])
                     for i in range(n)]
            else:
                p = [1.0] * n
            appr = [0.0] * n
            rej = [0.0] * n
            keep = []
            for ap in apps[e]:
                k = t - ap[1]
                w = ap[3]
                if k < len(w):
                    dec = ap[2] * w[k]
                    ap[4] += dec
                    i = ap[0]
                    appr[i] += p[i] * dec
                    rej[i] += (1.0 - p[i]) * dec
                if k + 1 < len(w):
                    keep.append(ap)
                else:  # no bins left: what is undecided stays pending for good
                    stuck[e][ap[0]] += ap[2] - ap[4]
            apps[e] = keep
            for i in range(n):
                approved_hist[e][i][t] = appr[i]
            pend_end = list(stuck[e])
            for ap in apps[e]:
                pend_end[ap[0]] += ap[2] - ap[4]
            # arrivals
            arr = [approved_hist[e][i].get(t - L, 0.0) for i in range(n)]
            # stockpile
            avail = [inv[e][i] + arr[i] + alt[i] for i in range(n)]
            unmet = [max(0.0, D[i] - avail[i]) for i in range(n)]
            sumD = sum(D)
            before = sum(min(D[i], avail[i]) for i in range(n)) / sumD if sumD > 0 else 1.0
            Ne = state["N"][e]
            sum_unmet = sum(unmet)
            Rel = 0.0
            if lev["stockpile.enabled"] != 0 and Ne > 0 and before < lev["stockpile.trigger"]:
                Rel = min(Ne, lev["stockpile.release_max_tpm." + e], sum_unmet)
            rel = [Rel * unmet[i] / sum_unmet if sum_unmet > 0 else 0.0 for i in range(n)]
            state["N"][e] = Ne - Rel
            C = [min(D[i], avail[i] + rel[i]) for i in range(n)]
            U = [D[i] - C[i] for i in range(n)]
            newI = [avail[i] + rel[i] - C[i] for i in range(n)]
            inv[e] = newI
            if t < 0:
                continue
            groups = [("all", range(n))]
            if by_status:
                for s in STATUSES:
                    groups.append((s, [i for i in range(n) if status[i] == s]))
            for g, members in groups:
                members = list(members)
                dem = sum(D[i] for i in members)
                cons = sum(C[i] for i in members)
                invg = sum(newI[i] for i in members)
                row = {
                    "scenario": sc.name, "date": month_name(sc.start + t), "month": t,
                    "element": e, "group": g, "demand": dem,
                    "requirement": sum(R[i] for i in members), "alt_capacity": Ae,
                    "alt_supply": sum(alt[i] for i in members),
                    "china_applied": sum(a[i] for i in members),
                    "china_approved": sum(appr[i] for i in members),
                    "china_rejected": sum(rej[i] for i in members),
                    "china_pending": sum(pend_end[i] for i in members),
                    "china_arrivals": sum(arr[i] for i in members),
                    "stockpile_release": sum(rel[i] for i in members) if g != "all" else Rel,
                    "national_stockpile": state["N"][e],
                    "inventory": invg, "consumption": cons,
                    "shortfall": sum(U[i] for i in members),
                    "availability": cons / dem if dem > 0 else 1.0,
                    "cover_days": invg / (dem / M) if dem > 0 else None,
                }
                rows.append(row)
    return rows


# ----------------------------------------------------------------------------
# Comparison
# ----------------------------------------------------------------------------

def run_engine(resim, ini, sets, by_status, warmup, tmpdir):
    out = os.path.join(tmpdir, "out.csv")
    cmd = [resim, "run", ini, "-o", out]
    for s in sets:
        cmd += ["--set", s]
    if by_status:
        cmd += ["--by", "status"]
    if warmup is not None:
        cmd += ["--warmup", str(warmup)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip()
    return read_csv(out), None


def close(x, y):
    return abs(x - y) <= max(ATOL, RTOL * max(abs(x), abs(y)))


def compare(mine, theirs, label, max_print=8):
    errs = []
    if len(mine) != len(theirs):
        errs.append("%s: row count %d (python) vs %d (engine)" % (label, len(mine), len(theirs)))
    for r, (a, b) in enumerate(zip(mine, theirs)):
        where = "%s row %d (%s %s %s)" % (label, r + 2, b.get("date"), b.get("element"), b.get("group"))
        for col in ("scenario", "date", "element", "group"):
            if str(a[col]) != b.get(col):
                errs.append("%s: %s python=%r engine=%r" % (where, col, a[col], b.get(col)))
        if int(b["month"]) != a["month"]:
            errs.append("%s: month python=%r engine=%r" % (where, a["month"], b["month"]))
        for col in NUM_COLS:
            x, s = a[col], b.get(col)
            if x is None or s == "" or s is None:
                if not (x is None and s == ""):
                    errs.append("%s: %s python=%r engine=%r" % (where, col, x, s))
                continue
            y = float(s)
            if not close(x, y):
                errs.append("%s: %s python=%.15g engine=%.15g (diff %.3g)" % (where, col, x, y, x - y))
    for m in errs[:max_print]:
        print("  MISMATCH " + m)
    if len(errs) > max_print:
        print("  ... %d mismatches in all" % len(errs))
    return not errs


def check_group_sums(rows, label):
    """none + watch + control rows add up to the all row (engine output)."""
    ok = True
    by = {}
    for r in rows:
        by.setdefault((r["date"], r["element"]), {})[r["group"]] = r
    sum_cols = [c for c in NUM_COLS if c not in ("alt_capacity", "national_stockpile",
                                                  "availability", "cover_days")]
    bad = 0
    for key, g in by.items():
        if set(g) != {"all", "none", "watch", "control"}:
            print("  MISMATCH %s %s: groups %s" % (label, key, sorted(g)))
            ok = False
            continue
        for c in sum_cols:
            tot = sum(float(g[s][c]) for s in STATUSES)
            if not close(tot, float(g["all"][c])):
                bad += 1
                if bad <= 5:
                    print("  MISMATCH %s %s: %s groups sum %.15g vs all %.15g" % (label, key, c, tot, float(g["all"][c])))
                ok = False
        for c in ("alt_capacity", "national_stockpile"):
            for s in STATUSES:
                if g[s][c] != g["all"][c]:
                    print("  MISMATCH %s %s: %s %s=%s all=%s" % (label, key, c, s, g[s][c], g["all"][c]))
                    ok = False
    return ok


def main():
    if len(sys.argv) < 2:
        print("usage: py_reference.py /path/to/resim", file=sys.stderr)
        return 2
    resim = os.path.abspath(sys.argv[1])
    root = os.getcwd()
    t_start = time.time()
    J = "scenarios/japan-2026.ini"
    LIC = "scenarios/licensing-2025.ini"
    BASE = "scenarios/baseline.ini"
    cases = []  # (label, ini, sets, by_status, warmup, shipped)
    for ini in sorted(glob.glob(os.path.join(root, "scenarios", "*.ini")) +
                      glob.glob(os.path.join(root, "scenarios", "history", "*.ini"))):
        cases.append((os.path.relpath(ini, root), os.path.relpath(ini, root), [], False, None, True))
    for ini in sorted(glob.glob(os.path.join(root, "tests", "fixtures", "*.ini")) +
                      glob.glob(os.path.join(root, "tests", "reference", "*.ini"))):
        cases.append((os.path.relpath(ini, root), os.path.relpath(ini, root), [], False, None, False))
    cases += [
        ("japan --warmup 6", J, [], False, 6, False),
        ("licensing warmup_months=3 (ini key)", LIC, ["scenario.warmup_months=3"], False, None, False),
        ("japan transit_months=0", J, ["scenario.transit_months=0"], False, None, False),
        ("japan transit_months=3", J, ["scenario.transit_months=3"], False, None, False),
        ("japan adjust_months=1", J, ["scenario.adjust_months=1"], False, None, False),
        ("japan adjust_months=4.5", J, ["scenario.adjust_months=4.5"], False, None, False),
        ("baseline controlled Dy Tb, cv 0, mean 47 days", BASE,
         ["policy.controlled=Dy Tb", "policy.delay_mean_days.none=47", "policy.delay_cv.none=0"], False, None, False),
        ("licensing cv 0 mean 100 from 2025-09", LIC,
         ["2025-09.delay_cv.none=0", "2025-09.delay_mean_days.none=100",
          "2025-12.delay_cv.none=0", "2025-12.delay_mean_days.none=41"], False, None, False),
        ("japan cv 1.5", J, ["2025-09.delay_cv.none=1.5", "2026-02.delay_cv.watch=1.5"], False, None, False),
        ("japan 2026-03 controlled.remove=Dy", J, ["2026-03.controlled.remove=Dy"], False, None, False),
        ("japan list.remove", J, ["2026-09.list.remove.control=5", "2026-09.list.remove.watch=3",
                                  "2027-01.list.set=magnet_a:watch trading_a:control"], False, None, False),
        ("baseline military_ban, approval 1", BASE,
         ["policy.controlled=Sm,Gd Y", "policy.military_ban=1", "policy.approval.control=1",
          "policy.delay_mean_days.none=40", "policy.delay_cv.none=0.3",
          "2025-06.list.add.control=15", "2025-06.list.add.watch=10"], False, None, False),
        ("japan tight stockpile release", J,
         ["stockpile.release_max_tpm.Dy=1.5", "stockpile.release_max_tpm.Sm=0.4",
          "stockpile.release_max_tpm.Tb=0.7", "stockpile.trigger=0.97",
          "2026-08.stockpile.tonnes.Dy=30", "2027-06.stockpile.enabled=0"], False, None, False),
        ("japan alt.delay_months=7", J, ["alt.delay_months=7", "alt.lynas_my_dy.capacity_factor=1.3",
                                         "2026-05.capacity_factor=0.8"], False, None, False),
        ("japan demand growth", J, ["demand.growth.Dy=0.2", "demand.growth.Y=-0.1",
                                    "2026-07.base_tpy.Tb=200", "2027-01.growth.Sm=0.5"], False, None, False),
        ("control-doubles warmup 4, L=2, tau=3", "scenarios/whatif-control-doubles.ini",
         ["scenario.transit_months=2", "scenario.adjust_months=3"], False, 4, False),
        ("japan --by status", J, [], True, None, False),
        ("baseline cv 0, mean exactly 2 months, events before start", BASE,
         ["2024-10.controlled=Sm Dy", "2024-10.delay_mean_days.none=60.875", "2024-12.approval.none=0.8",
          "2025-05.delay_mean_days.none=30.4", "2025-09.delay_mean_days.none=30.5"], False, None, False),
        ("baseline Lu demand 0, growth to Y", BASE, ["demand.base_tpy.Lu=0", "2026-01.base_tpy.Lu=2",
                                                       "2027-01.base_tpy.Sc=0"], False, None, False),
        ("japan alt source fields", J,
         ["alt.lynas_my2_dy.ramp_months=0", "alt.recycle_jp_dy.growth=0.5", "alt.mp_us_dy.start=2025-03",
          "alt.mp_us_dy.japan_share=0.9", "2026-01.alt.caremag_dy.capacity_tpy=300",
          "2026-04.alt.lynas_my2_sm.delay_months=3"], False, None, False),
        ("japan list.add beyond the population", J, ["2027-01.list.add.watch=500",
                                                      "2027-07.list.add.control=1000"], False, None, False),
        ("licensing --by status with lists, warmup 2", LIC,
         ["2025-08.list.add.control=30", "2025-08.list.add.watch=25", "2025-08.approval.control=0.2",
          "2025-08.delay_mean_days.control=150", "2025-08.delay_cv.control=0.9"], True, 2, False),
    ]
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory() as tmpdir:
        for label, ini, sets, by_status, warmup, shipped in cases:
            t1 = time.time()
            theirs, err = run_engine(resim, ini, sets, by_status, warmup, tmpdir)
            if theirs is None:
                if shipped or ini.startswith("scenarios/"):
                    print("SKIP %s: engine rejected it (%s)" % (label, err))
                    skipped += 1
                else:
                    print("FAIL %s: engine error: %s" % (label, err))
                    failed += 1
                continue
            try:
                sc = load_scenario(ini, sets, warmup)
                mine = simulate(sc, by_status)
            except Exception as exc:  # noqa: BLE001
                print("FAIL %s: reference could not run: %r" % (label, exc))
                failed += 1
                continue
            ok = compare(mine, theirs, label)
            if sets or warmup is not None or by_status:
                # guard: the perturbation must change the engine's output (a key that
                # both implementations silently ignored would otherwise pass)
                base_rows, _ = run_engine(resim, ini, [], False, None, tmpdir)
                cols = lambda rows: [[r[c] for c in NUM_COLS] for r in rows if r["group"] == "all"]
                if base_rows is not None and cols(base_rows) == cols(theirs) and not by_status:
                    print("  MISMATCH %s: --set/--warmup did not change the engine output" % label)
                    ok = False
            if by_status:
                ok = check_group_sums(theirs, label) and ok
            print("%s %s (%d rows, %.1f s)" % ("ok  " if ok else "FAIL", label, len(theirs), time.time() - t1))
            if ok:
                passed += 1
            else:
                failed += 1
    print("total %.1f s%s" % (time.time() - t_start, (", %d skipped" % skipped) if skipped else ""))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
