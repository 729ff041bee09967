#!/usr/bin/env python3
"""Independent reference implementation of the deterministic model in docs/model.md.

Usage: python3 tests/py_reference.py /path/to/build/resim   (from the repo root)

Written from docs/model.md (sections 1-13: version 1 and the version-2
mechanisms), data/README.md and the scenario INI grammar only; it does not
share code or structure with sim/core.  Every application (importer,
element, filing month) is stored separately with its own review-delay
kernel.  The engine's CSV is compared cell by cell with relative tolerance
1e-9 and an absolute floor of 1e-9 t.

Three kinds of case:
- version-1 cases (shipped scenarios, fixtures and perturbations), which the
  engine must always match;
- version-2 cases (every new lever; docs/model.md sections 9-13), which run
  only when the engine accepts the keys they use, and are reported as SKIP
  otherwise (set RESIM_REFERENCE_REQUIRE_V2=1 to make a skip a failure);
- the hand-worked cases of tests/reference/v2_hand_cases.json (see
  tests/py_reference_cases.py), whose expected numbers this implementation
  must reproduce, and the engine too once it accepts their keys.

Exits non-zero on any mismatch and ends with a line "N passed, M failed".
"""

import copy
import csv
import glob
import json
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
V1_COLS = ["demand", "requirement", "alt_capacity", "alt_supply", "china_applied",
           "china_approved", "china_rejected", "china_pending", "china_arrivals",
           "stockpile_release", "national_stockpile", "inventory", "consumption",
           "shortfall", "availability", "cover_days"]
NUM_COLS = V1_COLS + ["substituted"]  # docs/model.md section 7 (substituted: section 11)
ALL_COLS = ["scenario", "date", "month", "element", "group"] + NUM_COLS
HERE = os.path.dirname(os.path.abspath(__file__))
HAND_CASES = os.path.join(HERE, "reference", "v2_hand_cases.json")

# ----------------------------------------------------------------------------
# Version 2: where each new key lives (docs/model.md sections 3 and 9-13)
#
# A key named "a.b.c" in docs/model.md is section "a", key "b.c" when "a" is
# an INI section, exactly as --set splits SECTION.KEY at the first dot.
# Policy levers have no section prefix in the text and live in [policy].
#
#   key in the text                         section          key in the file
#   approval.<status>[.<El>]                [policy]         approval.<status>[.<El>]
#   delay_mean_days.<status>[.<El>]         [policy]         delay_mean_days.<status>[.<El>]
#   delay_cv.<status>[.<El>]                [policy]         delay_cv.<status>[.<El>]
#   military_ban[.<El>]                     [policy]         military_ban[.<El>]
#   precaution_months.<status>[.<El>]       [policy]         precaution_months.<status>[.<El>]
#   general_licence.<status>[.<El>]         [policy]         general_licence.<status>[.<El>]
#   precaution_adjust_months                [scenario]       precaution_adjust_months (not an event)
#   substitution.rate[.<El>]                [substitution]   rate[.<El>]
#   substitution.cap[.<El>]                 [substitution]   cap[.<El>]
#   substitution.reversion[.<El>]           [substitution]   reversion[.<El>]
#   substitution.trigger                    [substitution]   trigger
#   stockpile.decision_months               [stockpile]      decision_months
#   stockpile.eligible                      [stockpile]      eligible (status names, space-separated;
#                                                             empty: no one)
#
# --set names them as SECTION.KEY: policy.approval.watch.Dy=0.3,
# substitution.rate.Dy=0.1, stockpile.eligible=none watch,
# scenario.precaution_adjust_months=2.
#
# Event sections [YYYY-MM] follow the version-1 convention: a lever key is
# written with its section as a prefix (stockpile.trigger,
# policy.approval.watch, substitution.cap.Dy, stockpile.eligible) or bare
# (approval.watch, decision_months, rate.Dy), a bare key being looked up in
# [policy], [demand], [alt], [stockpile], then [substitution].  So a bare
# `trigger` in an event is the stockpile's, as in version 1, and the
# substitution threshold is written `substitution.trigger`.
#
# Order: keys apply in the order written (base sections in file order,
# events by date then file order), so `approval.watch` written after
# `approval.watch.Dy` overrides it.  A --set key that the file has replaces
# it in place; a new one comes after the file's keys.
# ----------------------------------------------------------------------------

POLICY_TABLES = ("approval", "delay_mean_days", "delay_cv", "precaution_months", "general_licence")
SUBST_TABLES = ("rate", "cap", "reversion")
LEVER_SECTIONS = ("policy", "demand", "alt", "stockpile", "substitution")
RANGES = {  # version-2 ranges (version-1 keys are validated by the engine's own tests)
    "approval": (0.0, 1.0), "delay_mean_days": (0.0, math.inf), "delay_cv": (0.0, math.inf),
    "precaution_months": (0.0, math.inf), "general_licence": (0.0, 1.0),
    "rate": (0.0, math.inf), "cap": (0.0, 1.0), "reversion": (0.0, math.inf), "trigger": (0.0, 1.0),
}

# The keys each version-2 mechanism adds, as --set assignments on a scenario
# with the seven elements; the engine "accepts" a mechanism when `resim check`
# takes all of them (in a base section and in an event).
V2_PROBES = {
    "per-element policy": ["policy.approval.watch.Dy=0.5", "policy.delay_mean_days.none.Tb=40",
                           "policy.delay_cv.control.Sm=0.5", "policy.military_ban.Dy=1",
                           "2026-02.approval.none.Sm=0", "2026-02.military_ban.Tb=1"],
    "precautionary inventory": ["policy.precaution_months.watch=1", "policy.precaution_months.none.Dy=2",
                                "scenario.precaution_adjust_months=2",
                                "2026-02.precaution_months.control.Dy=1"],
    "substitution": ["substitution.rate=0.1", "substitution.rate.Dy=0.2", "substitution.cap.Dy=0.5",
                     "substitution.reversion=0.05", "substitution.trigger=0.9",
                     "2026-02.substitution.cap.Dy=0.2"],
    "stockpile decision rule": ["stockpile.decision_months=2", "stockpile.eligible=none watch",
                                "2026-02.stockpile.eligible=none"],
    "general licences": ["policy.general_licence.none=0.5", "policy.general_licence.watch.Dy=0.2",
                         "2026-02.general_licence.none.Dy=0.8"],
}


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


def read_ini(path, seen=()):
    """Return an ordered list of [section, [[key, value], ...]], with the
    file's [scenario] base read first and the file's keys replacing the
    base's keys of the same section (events included) or added to them."""
    sections = read_ini_file(path)
    here = os.path.dirname(os.path.abspath(path))
    for name, kvs in sections:
        if name != "scenario":
            continue
        for kv in kvs:
            if kv[0] == "data":  # relative to the file that states it
                kv[1] = os.path.join(here, kv[1])
    base = [kv[1] for name, kvs in sections if name == "scenario" for kv in kvs if kv[0] == "base"]
    if not base:
        return sections
    base_path = os.path.realpath(os.path.join(here, base[0]))
    if base_path in seen:
        raise ValueError("cycle of bases at " + path)
    merged = read_ini(base_path, seen + (os.path.realpath(path),))
    for name, kvs in sections:
        target = next((k for n, k in merged if n == name), None)
        if target is None:
            target = []
            merged.append([name, target])
        for key, value in kvs:
            if name == "scenario" and key == "base":
                continue
            for kv in target:
                if kv[0] == key:
                    kv[1] = value
                    break
            else:
                target.append([key, value])
    return merged


def read_ini_file(path):
    """Return an ordered list of [section, [[key, value], ...]] of one file."""
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
            last = [k.strip(), re.split(r"\s;", v, maxsplit=1)[0].strip()]  # inline comment
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
    sc.known_elements = set(r["symbol"] for r in elements)
    if base.get("elements", "").strip():
        sc.elements = split_list(base["elements"])
    else:
        sc.elements = [r["symbol"] for r in elements if r["licensed_2025"].strip() == "1"]
    sc.L = int(float(base.get("transit_months", "1") or 1))
    sc.tau = float(base.get("adjust_months", "2") or 2)
    sc.pi = float(base.get("precaution_adjust_months", "1") or 1)  # section 10
    if not sc.pi >= 1:
        raise ValueError("precaution_adjust_months must be at least 1")

    # importers
    sc.imp = []
    for r in read_csv(os.path.join(datadir, "importers.csv")):
        sc.imp.append({
            "id": r["id"], "status": r["status"].strip(), "exposure": float(r["exposure"]),
            "military": float(r["military"]), "cover": float(r["cover_months"]),
            "share": {e: float(r["share_" + e]) for e in sc.elements},
        })
    # levers: policy tables by status and element (section 9)
    lev = {"controlled": set()}
    defaults = {"approval": (1.0, 1.0, 0.0), "delay_mean_days": (0.0,) * 3, "delay_cv": (0.0,) * 3,
                "precaution_months": (0.0,) * 3, "general_licence": (0.0,) * 3}
    for tab in POLICY_TABLES:
        lev[tab] = {s: {e: defaults[tab][k] for e in sc.elements} for k, s in enumerate(STATUSES)}
    lev["military_ban"] = {e: 0.0 for e in sc.elements}
    # substitution (section 11)
    lev["substitution.rate"] = {e: 0.0 for e in sc.elements}
    lev["substitution.cap"] = {e: 1.0 for e in sc.elements}
    lev["substitution.reversion"] = {e: 0.0 for e in sc.elements}
    lev["substitution.trigger"] = 0.95
    # stockpile decision rule (section 12)
    lev["stockpile.decision_months"] = 0.0
    lev["stockpile.eligible"] = set(STATUSES)
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
    sc.v2_keys = []  # version-2 keys used (for the mechanisms a case needs)
    for name, kvs in sections:
        if name in LEVER_SECTIONS:
            for k, v in kvs:
                op = section_op(sc, name, k)
                if op is None:
                    raise ValueError("[%s] %s: unknown key" % (name, k))
                apply_op(sc, lev, None, op, v)
        elif re.fullmatch(r"\d{4}-\d{2}", name):
            m = month_index(name) - sc.start
            for k, v in kvs:
                op = event_op(sc, k)
                if op is not None:
                    events.append((m, op, v))
    # sections in date order, keys in file order (stable sort)
    events.sort(key=lambda ev: ev[0])
    sc.events = [ev for ev in events if ev[0] <= sc.T - 1]
    return sc


def _element_ok(sc, el):
    if el not in sc.known_elements:
        raise ValueError("unknown element %r" % el)
    return True


def section_op(sc, section, k):
    """Canonical lever name of key k of a lever section, or None if it has no such key."""
    parts = k.split(".")
    if section == "policy":
        if k == "controlled":
            return k
        if parts[0] in POLICY_TABLES and len(parts) in (2, 3) and parts[1] in STATUSES:
            if len(parts) == 3:
                _element_ok(sc, parts[2])
            if parts[0] in ("precaution_months", "general_licence") or len(parts) == 3:
                sc.v2_keys.append("policy." + k)
            return k
        if parts[0] == "military_ban" and len(parts) <= 2:
            if len(parts) == 2:
                _element_ok(sc, parts[1])
                sc.v2_keys.append("policy." + k)
            return k
        return None
    if section == "demand":
        if parts[0] in ("base_tpy", "growth") and len(parts) == 2:
            return k
        return None
    if section == "alt":
        if k in ("capacity_factor", "delay_months"):
            return "alt." + k
        if len(parts) == 2 and parts[0] in sc.source_ids:
            return "alt." + k
        return None
    if section == "stockpile":
        if k in ("enabled", "trigger") or (parts[0] in ("tonnes", "release_max_tpm") and len(parts) == 2):
            return "stockpile." + k
        if k in ("decision_months", "eligible"):
            sc.v2_keys.append("stockpile." + k)
            return "stockpile." + k
        return None
    if section == "substitution":
        if (parts[0] in SUBST_TABLES and len(parts) <= 2) or k == "trigger":
            if len(parts) == 2:
                _element_ok(sc, parts[1])
            sc.v2_keys.append("substitution." + k)
            return "substitution." + k
        return None
    return None


def event_op(sc, key):
    """Canonical lever name of an event key (None: the event's source)."""
    if key == "source":
        return None
    if key in ("controlled", "controlled.add", "controlled.remove", "policy.controlled"):
        return key.replace("policy.", "")
    if key.startswith("list."):
        return key
    head, _, rest = key.partition(".")
    if head in LEVER_SECTIONS and rest:
        op = section_op(sc, head, rest)
        if op is not None:
            return op
    for section in LEVER_SECTIONS:
        op = section_op(sc, section, key)
        if op is not None:
            return op
    raise ValueError("unknown key %r" % key)


def number(v):
    """A key's value; a distribution (README, Ensembles) gives its central value."""
    m = re.fullmatch(r"\s*([a-z]+)\s*\((.*)\)\s*", v)
    if m is None:
        return float(v)
    p = [float(x) for x in m.group(2).split(",")]
    return {"uniform": lambda: (p[0] + p[1]) / 2, "triangular": lambda: p[1]}.get(m.group(1), lambda: p[0])()


def _number(op, v, lo=-math.inf, hi=math.inf):
    x = number(v)
    if not lo <= x <= hi:
        raise ValueError("%s = %s: outside [%g, %g]" % (op, v, lo, hi))
    return x


def apply_op(sc, lev, state, op, v):
    parts = op.split(".")
    if op == "controlled":
        lev["controlled"] = set(split_list(v))
    elif op == "controlled.add":
        lev["controlled"] |= set(split_list(v))
    elif op == "controlled.remove":
        lev["controlled"] -= set(split_list(v))
    elif op.startswith("list."):
        status = state["status"]
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
    elif parts[0] in POLICY_TABLES:
        # section 9: a bare key sets every element, an element key one
        x = _number(op, v, *RANGES[parts[0]])
        els = sc.elements if len(parts) == 2 else [e for e in parts[2:] if e in sc.elements]
        for e in els:
            lev[parts[0]][parts[1]][e] = x
    elif parts[0] == "military_ban":
        x = _number(op, v, 0.0, 1.0)
        if x not in (0.0, 1.0):
            raise ValueError("%s must be 0 or 1" % op)
        for e in (sc.elements if len(parts) == 1 else [e for e in parts[1:] if e in sc.elements]):
            lev["military_ban"][e] = x
    elif op == "substitution.trigger":
        lev[op] = _number(op, v, *RANGES["trigger"])
    elif parts[0] == "substitution":
        x = _number(op, v, *RANGES[parts[1]])
        for e in (sc.elements if len(parts) == 2 else [e for e in parts[2:] if e in sc.elements]):
            lev["substitution." + parts[1]][e] = x
    elif op == "stockpile.decision_months":
        x = _number(op, v, 0.0)
        if x != math.floor(x):
            raise ValueError("%s must be a whole number" % op)
        lev[op] = x
    elif op == "stockpile.eligible":
        names = split_list(v)
        for s in names:
            if s not in STATUSES:
                raise ValueError("%s: unknown status %r" % (op, s))
        lev[op] = set(names)
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
    lev = copy.deepcopy(sc.lev0)
    state = {"status": [x["status"] for x in imp], "N": {}}
    status = state["status"]
    t0, T = -sc.W, sc.T
    L, tau, pi = sc.L, sc.tau, sc.pi
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

    def extra_cover_target(e, i):  # section 10: X*
        return lev["precaution_months"][status[i]][e] if e in lev["controlled"] else 0.0

    # per (e, i) state
    inv = {e: [0.0] * n for e in els}
    approved_hist = {e: [dict() for _ in range(n)] for e in els}  # month -> approved volume
    apps = {e: [] for e in els}  # each: [i, f, a, w, decided_so_far]
    stuck = {e: [0.0] * n for e in els}  # undecided volume of applications with no bins left
    X = {e: [0.0] * n for e in els}  # extra cover, months (section 10)
    S = {e: [0.0] * n for e in els}  # substituted share (section 11)
    low = {e: 0 for e in els}        # n_e(t): consecutive months below the trigger (section 12)
    rows = []

    for t in range(t0, T):
        # 1. events
        while ev_pos < len(events) and events[ev_pos][0] <= t:
            _, op, v = events[ev_pos]
            apply_op(sc, lev, state, op, v)
            ev_pos += 1
        if t == t0:
            for e in els:
                state["N"][e] = lev["stockpile.tonnes." + e]
                De, Ae = demand_e(e, t), alt_cap(e, t)
                frac = min(1.0, Ae / De) if De > 0 else 1.0
                for i in range(n):
                    X[e][i] = extra_cover_target(e, i)
                    D = imp[i]["share"][e] * De
                    inv[e][i] = (imp[i]["cover"] + X[e][i]) * D
                    c0 = max(0.0, D - D * frac)
                    for s in range(t0 - L, t0):
                        approved_hist[e][i][s] = c0
        for e in els:
            cap_e = lev["substitution.cap"][e]
            for i in range(n):
                # 1: a lowered cap clamps S at once (section 11)
                S[e][i] = min(S[e][i], cap_e)
                # 1a: precautionary cover follows its target (section 10)
                X[e][i] = X[e][i] + (extra_cover_target(e, i) - X[e][i]) / pi
        for e in els:
            ctrl = e in lev["controlled"]
            ban = lev["military_ban"][e]
            De = demand_e(e, t)
            Ae = alt_cap(e, t)
            frac = min(1.0, Ae / De) if De > 0 else 1.0
            P = [imp[i]["share"][e] * De for i in range(n)]     # potential demand
            D = [P[i] * (1.0 - S[e][i]) for i in range(n)]      # after substitution
            # supply line at the start of the month
            pend = list(stuck[e])
            for ap in apps[e]:
                pend[ap[0]] += ap[2] - ap[4]
            SL = [pend[i] + sum(approved_hist[e][i].get(s, 0.0) for s in range(t - L, t)) for i in range(n)]
            R = [0.0] * n
            for i in range(n):
                s = status[i]
                mu = lev["delay_mean_days"][s][e]
                g = lev["general_licence"][s][e]
                lead = ((1.0 - g) * mu / M + L) if ctrl else float(L)
                Istar = (imp[i]["cover"] + X[e][i]) * D[i]
                SLstar = D[i] * (1.0 - frac) * lead
                R[i] = max(0.0, D[i] + ((Istar - inv[e][i]) + (SLstar - SL[i])) / tau)
            sumR = sum(R)
            alt = [min(R[i], Ae * R[i] / sumR) if sumR > 0 else 0.0 for i in range(n)]
            a = [R[i] - alt[i] for i in range(n)]
            appr = [0.0] * n
            rej = [0.0] * n
            # file this month's applications with their own kernels; a
            # general licence decides its share at once (section 13)
            nb = T - t
            for i in range(n):
                if a[i] > 0:
                    s = status[i]
                    review = a[i]
                    if ctrl:
                        g = lev["general_licence"][s][e]
                        if g > 0:
                            p_gl = 1.0 - imp[i]["military"] * ban
                            appr[i] += p_gl * g * a[i]
                            rej[i] += (1.0 - p_gl) * g * a[i]
                            review = (1.0 - g) * a[i]
                    w = kernel(ctrl, lev["delay_mean_days"][s][e], lev["delay_cv"][s][e], nb)
                    apps[e].append([i, t, review, w, 0.0])
            # decisions (section 9: approval and military ban by element)
            if ctrl:
                p = [lev["approval"][status[i]][e] * (1.0 - imp[i]["military"] * ban) for i in range(n)]
            else:
                p = [1.0] * n
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
            # stockpile, with the decision rule (section 12)
            avail = [inv[e][i] + arr[i] + alt[i] for i in range(n)]
            unmet = [max(0.0, D[i] - avail[i]) for i in range(n)]
            sumD = sum(D)
            before = sum(min(D[i], avail[i]) for i in range(n)) / sumD if sumD > 0 else 1.0
            low[e] = low[e] + 1 if before < lev["stockpile.trigger"] else 0
            eligible = [status[i] in lev["stockpile.eligible"] for i in range(n)]
            Ne = state["N"][e]
            sum_unmet = sum(unmet[i] for i in range(n) if eligible[i])
            Rel = 0.0
            if lev["stockpile.enabled"] != 0 and Ne > 0 and before < lev["stockpile.trigger"] \
                    and low[e] > lev["stockpile.decision_months"]:
                Rel = min(Ne, lev["stockpile.release_max_tpm." + e], sum_unmet)
            rel = [Rel * unmet[i] / sum_unmet if sum_unmet > 0 and eligible[i] else 0.0 for i in range(n)]
            state["N"][e] = Ne - Rel
            C = [min(D[i], avail[i] + rel[i]) for i in range(n)]
            U = [D[i] - C[i] for i in range(n)]
            newI = [avail[i] + rel[i] - C[i] for i in range(n)]
            inv[e] = newI
            # 10. substitution update (section 11)
            r_e = lev["substitution.rate"][e]
            v_e = lev["substitution.reversion"][e]
            cap_e = lev["substitution.cap"][e]
            theta = lev["substitution.trigger"]
            for i in range(n):
                if P[i] > 0:
                    if D[i] > 0 and C[i] / D[i] < theta:
                        S[e][i] = min(cap_e, S[e][i] + r_e / 12.0)
                    else:
                        S[e][i] = max(0.0, min(cap_e, S[e][i] - v_e / 12.0))
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
                    "substituted": sum(P[i] - D[i] for i in members),
                }
                rows.append(row)
    return rows


# ----------------------------------------------------------------------------
# Comparison
# ----------------------------------------------------------------------------

def run_engine(resim, ini, sets, by_status, warmup, tmpdir):
    """The engine's rows and header, or (None, None, error)."""
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
        return None, None, p.stderr.strip()
    with open(out, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return rows, list(reader.fieldnames or []), None


def engine_check(resim, ini, sets):
    """resim check: None if the engine accepts the scenario, else its message."""
    cmd = [resim, "check", ini]
    for s in sets:
        cmd += ["--set", s]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return None if p.returncode == 0 else (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]


WORST = {"v1": 0.0, "v2": 0.0}  # largest |x - y| / max(1, |x|, |y|) over compared cells, by kind


def close(x, y):
    return abs(x - y) <= max(ATOL, RTOL * max(abs(x), abs(y)))


def check_header(header, label, need_v2):
    """The engine writes the leading columns of section 7 in order, then substituted."""
    errs = []
    if header[:len(ALL_COLS) - 1] != ALL_COLS[:-1]:
        errs.append("%s: header starts %s, expected %s" % (label, header[:len(ALL_COLS) - 1], ALL_COLS[:-1]))
    if "substituted" in header:
        if header.index("substituted") != len(ALL_COLS) - 1:
            errs.append("%s: substituted is column %d, expected right after cover_days"
                        % (label, header.index("substituted") + 1))
    elif need_v2:
        errs.append("%s: the engine takes version-2 keys but writes no substituted column" % label)
    for m in errs:
        print("  MISMATCH " + m)
    return not errs


def compare(mine, theirs, header, label, max_print=8, kind="v1"):
    """Cell by cell over the columns both sides have; without the engine's
    substituted column, the reference's must be 0 (version 1)."""
    errs = []
    cols = [c for c in NUM_COLS if c in header]
    if len(mine) != len(theirs):
        errs.append("%s: row count %d (python) vs %d (engine)" % (label, len(mine), len(theirs)))
    for r, (a, b) in enumerate(zip(mine, theirs)):
        where = "%s row %d (%s %s %s)" % (label, r + 2, b.get("date"), b.get("element"), b.get("group"))
        for col in ("scenario", "date", "element", "group"):
            if str(a[col]) != b.get(col):
                errs.append("%s: %s python=%r engine=%r" % (where, col, a[col], b.get(col)))
        if int(b["month"]) != a["month"]:
            errs.append("%s: month python=%r engine=%r" % (where, a["month"], b["month"]))
        for col in cols:
            x, s = a[col], b.get(col)
            if x is None or s == "" or s is None:
                if not (x is None and s == ""):
                    errs.append("%s: %s python=%r engine=%r" % (where, col, x, s))
                continue
            y = float(s)
            WORST[kind] = max(WORST[kind], abs(x - y) / max(1.0, abs(x), abs(y)))
            if not close(x, y):
                errs.append("%s: %s python=%.15g engine=%.15g (diff %.3g)" % (where, col, x, y, x - y))
        if "substituted" not in header and a["substituted"] != 0:
            errs.append("%s: python substituted=%.15g, but the engine (version 1) substitutes nothing"
                        % (where, a["substituted"]))
    for m in errs[:max_print]:
        print("  MISMATCH " + m)
    if len(errs) > max_print:
        print("  ... %d mismatches in all" % len(errs))
    return not errs


def check_group_sums(rows, header, label):
    """none + watch + control rows add up to the all row (engine output)."""
    ok = True
    by = {}
    for r in rows:
        by.setdefault((r["date"], r["element"]), {})[r["group"]] = r
    sum_cols = [c for c in NUM_COLS if c in header and c not in ("alt_capacity", "national_stockpile",
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


# ----------------------------------------------------------------------------
# Version-2 support in the engine
# ----------------------------------------------------------------------------

class EngineV2:
    """Which version-2 mechanisms the engine under test accepts (asked once each)."""

    def __init__(self, resim, root):
        self.resim = resim
        self.probe_ini = os.path.join(root, "scenarios", "japan-2026.ini")
        self.status = {}  # mechanism -> (accepted, message)

    def accepts(self, mech):
        if mech not in self.status:
            err = engine_check(self.resim, self.probe_ini, V2_PROBES[mech])
            if err is None:
                self.status[mech] = (True, None)
            elif "unknown" in err:
                self.status[mech] = (False, err)
            else:  # the engine knows the key but refuses a valid value
                self.status[mech] = (None, err)
        return self.status[mech]

    def any(self):
        return any(self.accepts(m)[0] for m in V2_PROBES)


def mechanisms(keys):
    """The version-2 mechanisms a list of canonical keys uses."""
    out = set()
    for k in keys:
        k = k.split("=")[0]
        head = k.split(".")[1] if k.startswith("policy.") else k.split(".")[0]
        if k.startswith("substitution."):
            out.add("substitution")
        elif k.startswith("stockpile."):
            out.add("stockpile decision rule")
        elif head == "precaution_months" or k.endswith("precaution_adjust_months"):
            out.add("precautionary inventory")
        elif head == "general_licence":
            out.add("general licences")
        else:
            out.add("per-element policy")
    return sorted(out)


def case_mechanisms(ini, sets, warmup):
    sc = load_scenario(ini, sets, warmup)
    keys = list(sc.v2_keys)
    sections = read_ini(ini)
    apply_sets(sections, sets)
    for name, kvs in sections:
        if name == "scenario":
            keys += ["precaution_adjust_months" for k, _ in kvs if k == "precaution_adjust_months"]
    return mechanisms(keys)


# ----------------------------------------------------------------------------
# Hand-worked cases (tests/reference/v2_hand_cases.json)
# ----------------------------------------------------------------------------

def write_case_files(case, dest):
    for rel, text in case["files"].items():
        path = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return os.path.join(dest, case["scenario"])


def hand_mismatches(rows, expected, who):
    """Expected values (a subset of rows and columns) against rows of either side."""
    errs = []
    index = {(int(r["month"]), r["element"], r["group"]): r for r in rows}
    for exp in expected:
        key = (exp["month"], exp["element"], exp["group"])
        row = index.get(key)
        if row is None:
            errs.append("%s: no row for month %d %s %s" % (who, *key))
            continue
        for col, want in exp["values"].items():
            got = row.get(col)
            if want is None or got is None or got == "":
                if not (want is None and (got is None or got == "")):
                    errs.append("%s month %d %s %s: %s expected %r, got %r" % (who, *key, col, want, got))
                continue
            if not close(float(got), want):
                errs.append("%s month %d %s %s: %s expected %.15g, got %.15g"
                            % (who, *key, col, want, float(got)))
    return errs


def run_hand_cases(resim, engine, tmpdir, strict):
    """Returns (passed, failed, skipped)."""
    with open(HAND_CASES, encoding="utf-8") as fh:
        cases = json.load(fh)["cases"]
    passed = failed = skipped = 0
    for case in cases:
        label = "hand case %s (section %s)" % (case["name"], case["section"])
        dest = os.path.join(tmpdir, "hand", case["name"])
        ini = write_case_files(case, dest)
        by_status = case.get("by") == "status"
        errs = []
        try:
            mine = simulate(load_scenario(ini), by_status)
            errs += hand_mismatches(mine, case["expected"], "python")
        except Exception as exc:  # noqa: BLE001
            errs.append("python could not run: %r" % (exc,))
        note = "python"
        err = engine_check(resim, ini, [])
        if err is None:
            theirs, _, run_err = run_engine(resim, ini, [], by_status, None, tmpdir)
            if theirs is None:
                errs.append("engine error: %s" % run_err)
            else:
                errs += hand_mismatches(theirs, case["expected"], "engine")
                note = "python and engine"
        elif "unknown" in err and not strict:
            note = "python only; engine SKIPPED: it does not accept the keys yet (%s)" % err
            skipped += 1
        else:
            errs.append("engine rejects the case: %s" % err)
        for m in errs[:8]:
            print("  MISMATCH " + m)
        print("%s %s (%d values; %s)" % ("ok  " if not errs else "FAIL", label,
                                         sum(len(x["values"]) for x in case["expected"]), note))
        if errs:
            failed += 1
        else:
            passed += 1
    return passed, failed, skipped


# ----------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------

# Every version-2 lever written out at its default (docs/model.md sections
# 10-13): the reference must then print exactly what version 1 printed.
V2_DEFAULTS = [
    "scenario.precaution_adjust_months=1",
    "policy.precaution_months.none=0", "policy.precaution_months.watch=0",
    "policy.precaution_months.control=0", "policy.precaution_months.control.Dy=0",
    "policy.general_licence.none=0", "policy.general_licence.watch=0",
    "policy.general_licence.control=0", "policy.general_licence.watch.Dy=0",
    "substitution.rate=0", "substitution.rate.Dy=0", "substitution.cap=1", "substitution.cap.Dy=1",
    "substitution.reversion=0", "substitution.reversion.Dy=0", "substitution.trigger=0.95",
    "stockpile.decision_months=0", "stockpile.eligible=none watch control",
]

def v2_defaults_for(ini):
    """V2_DEFAULTS with its element keys on an element of the scenario (Dy when it has it)."""
    els = load_scenario(ini).elements
    el = "Dy" if "Dy" in els else els[0]
    return [k.replace(".Dy=", "." + el + "=") for k in V2_DEFAULTS]


J = "scenarios/japan-2026.ini"
LIC = "scenarios/licensing-2025.ini"
BASE = "scenarios/baseline.ini"
V2_FIXTURES = "tests/reference/v2"

V1_CASES = [
    ("japan --warmup 6", J, [], False, 6),
    ("licensing warmup_months=3 (ini key)", LIC, ["scenario.warmup_months=3"], False, None),
    ("japan transit_months=0", J, ["scenario.transit_months=0"], False, None),
    ("japan transit_months=3", J, ["scenario.transit_months=3"], False, None),
    ("japan adjust_months=1", J, ["scenario.adjust_months=1"], False, None),
    ("japan adjust_months=4.5", J, ["scenario.adjust_months=4.5"], False, None),
    ("baseline controlled Dy Tb, cv 0, mean 47 days", BASE,
     ["policy.controlled=Dy Tb", "policy.delay_mean_days.none=47", "policy.delay_cv.none=0"], False, None),
    ("licensing cv 0 mean 100 from 2025-09", LIC,
     ["2025-09.delay_cv.none=0", "2025-09.delay_mean_days.none=100",
      "2025-12.delay_cv.none=0", "2025-12.delay_mean_days.none=41"], False, None),
    ("japan cv 1.5", J, ["2025-09.delay_cv.none=1.5", "2026-02.delay_cv.watch=1.5"], False, None),
    ("japan 2026-03 controlled.remove=Dy", J, ["2026-03.controlled.remove=Dy"], False, None),
    ("japan list.remove", J, ["2026-09.list.remove.control=5", "2026-09.list.remove.watch=3",
                              "2027-01.list.set=magnet_a:watch trading_a:control"], False, None),
    ("baseline military_ban, approval 1", BASE,
     ["policy.controlled=Sm,Gd Y", "policy.military_ban=1", "policy.approval.control=1",
      "policy.delay_mean_days.none=40", "policy.delay_cv.none=0.3",
      "2025-06.list.add.control=15", "2025-06.list.add.watch=10"], False, None),
    ("japan tight stockpile release", J,
     ["stockpile.release_max_tpm.Dy=1.5", "stockpile.release_max_tpm.Sm=0.4",
      "stockpile.release_max_tpm.Tb=0.7", "stockpile.trigger=0.97",
      "2026-08.stockpile.tonnes.Dy=30", "2027-06.stockpile.enabled=0"], False, None),
    ("japan alt.delay_months=7", J, ["alt.delay_months=7", "alt.lynas_my_dy.capacity_factor=1.3",
                                     "2026-05.capacity_factor=0.8"], False, None),
    ("japan demand growth", J, ["demand.growth.Dy=0.2", "demand.growth.Y=-0.1",
                                "2026-07.base_tpy.Tb=200", "2027-01.growth.Sm=0.5"], False, None),
    ("control-doubles warmup 4, L=2, tau=3", "scenarios/whatif-control-doubles.ini",
     ["scenario.transit_months=2", "scenario.adjust_months=3"], False, 4),
    ("japan --by status", J, [], True, None),
    ("baseline cv 0, mean exactly 2 months, events before start", BASE,
     ["2024-10.controlled=Sm Dy", "2024-10.delay_mean_days.none=60.875", "2024-12.approval.none=0.8",
      "2025-05.delay_mean_days.none=30.4", "2025-09.delay_mean_days.none=30.5"], False, None),
    ("baseline Lu demand 0, growth to Y", BASE, ["demand.base_tpy.Lu=0", "2026-01.base_tpy.Lu=2",
                                                   "2027-01.base_tpy.Sc=0"], False, None),
    ("japan alt source fields", J,
     ["alt.lynas_my2_dy.ramp_months=0", "alt.recycle_jp_dy.growth=0.5", "alt.mp_us_dy.start=2025-03",
      "alt.mp_us_dy.japan_share=0.9", "2026-01.alt.caremag_dy.capacity_tpy=300",
      "2026-04.alt.lynas_my2_sm.delay_months=3"], False, None),
    ("japan list.add beyond the population", J, ["2027-01.list.add.watch=500",
                                                  "2027-07.list.add.control=1000"], False, None),
    ("licensing --by status with lists, warmup 2", LIC,
     ["2025-08.list.add.control=30", "2025-08.list.add.watch=25", "2025-08.approval.control=0.2",
      "2025-08.delay_mean_days.control=150", "2025-08.delay_cv.control=0.9"], True, 2),
]

# Perturbations that use every version-2 lever (docs/model.md sections 9-13).
V2_CASES = [
    # section 9: element keys, in base sections and events, in both orders
    ("v2 japan per-element approvals and delays", J,
     ["policy.approval.none.Sm=0.05", "2025-05.approval.none.Sm=0", "2025-05.approval.watch.Sm=0",
      "2025-09.approval.none.Dy=0.7", "2025-09.delay_mean_days.none.Dy=150",
      "2025-09.delay_cv.none.Dy=1.2", "2026-02.delay_mean_days.watch.Tb=240",
      "2026-02.delay_cv.watch.Tb=0.3", "2026-06.approval.none=0.8"], False, None),
    ("v2 japan military ban on Dy and Tb only", J,
     ["2026-01.military_ban=0", "2026-01.military_ban.Dy=1", "2026-01.military_ban.Tb=1",
      "2026-09.military_ban.Y=1"], True, None),
    # section 10
    ("v2 japan precautionary cover, pi 3", J,
     ["scenario.precaution_adjust_months=3", "policy.precaution_months.none=1.5",
      "policy.precaution_months.watch=2", "policy.precaution_months.control=0.5",
      "2026-02.precaution_months.watch.Dy=4", "2026-09.precaution_months.none=0"], True, None),
    ("v2 licensing precaution at the start (controlled before t0), warmup 2", LIC,
     ["2024-06.controlled=Dy Tb", "2024-06.delay_mean_days.none=50", "policy.precaution_months.none=2",
      "policy.precaution_months.none.Tb=3.5", "2026-01.controlled.remove=Tb"], False, 2),
    # section 11
    ("v2 japan substitution", J,
     ["substitution.rate=0.6", "substitution.rate.Dy=1.2", "substitution.cap=0.3",
      "substitution.cap.Sm=0.8", "substitution.reversion=0.24", "substitution.trigger=0.97",
      "2026-06.substitution.cap.Dy=0.05", "2027-01.substitution.reversion.Dy=2.4",
      "2027-03.substitution.trigger=0.9"], True, None),
    ("v2 japan approvals 0.1: full substitution and return", J,
     ["2026-01.approval.none=0.05", "substitution.rate=6", "substitution.reversion=1.5",
      "2026-08.approval.none=0.9", "2027-05.substitution.rate.Tb=0"], False, None),
    # section 12
    ("v2 japan stockpile decision after 2 months, none and watch only", J,
     ["stockpile.decision_months=2", "stockpile.eligible=none watch", "stockpile.trigger=0.97",
      "2026-04.stockpile.decision_months=0", "2026-10.stockpile.eligible=control",
      "2027-02.stockpile.eligible="], True, None),
    ("v2 japan stockpile switched on late (the count runs while it is off)", J,
     ["stockpile.enabled=0", "stockpile.decision_months=3", "stockpile.trigger=0.98",
      "2026-03.stockpile.enabled=1"], False, None),
    # section 13
    ("v2 japan general licences", J,
     ["2025-12.general_licence.none=0.6", "2025-12.general_licence.none.Sm=0",
      "2026-02.general_licence.watch=0", "2026-02.general_licence.control=0.2",
      "2026-06.general_licence.none.Dy=0.9"], True, None),
    # everything at once, warm-up and --by status
    ("v2 japan every lever, warmup 3", J,
     ["scenario.precaution_adjust_months=2", "policy.precaution_months.watch=1",
      "2026-02.precaution_months.none.Tb=2", "policy.approval.watch.Y=0.3", "policy.approval.watch=0.9",
      "2025-12.general_licence.none=0.5", "substitution.rate=0.9", "substitution.cap=0.2",
      "substitution.reversion=0.3", "stockpile.decision_months=1", "stockpile.eligible=none",
      "2026-01.military_ban.Sm=0"], True, 3),
]


# Pairs of inputs that the rules make equivalent; the reference must print the
# same rows for both (it checks itself, engine or not).
SELF_CHECKS = [
    # (months the file has no section for: japan-2026 restates its Sm approvals after
    # each bare key of its own events)
    ("element keys for every element = the bare key (section 9)", J,
     ["2026-05.approval.none.%s=0.3" % e for e in "Sm Gd Tb Dy Lu Sc Y".split()] +
     ["2026-05.delay_mean_days.watch.%s=200" % e for e in "Sm Gd Tb Dy Lu Sc Y".split()] +
     ["2026-04.military_ban.%s=1" % e for e in "Sm Gd Tb Dy Lu Sc Y".split()],
     ["2026-05.approval.none=0.3", "2026-05.delay_mean_days.watch=200", "2026-04.military_ban=1"]),
    # (in a month the file has no section for: a --set key that replaces a key
    # of the file keeps that key's place, before the new element keys; the
    # month is read from the file, see free_watch_month)
    ("a bare key after element keys overrides them (section 9)", J,
     ["{m}.approval.watch.Dy=0.9", "{m}.approval.watch.Tb=0.05", "{m}.approval.watch=0.3"],
     ["{m}.approval.watch=0.3"]),
    ("precaution has no effect while nothing is controlled (section 10)", BASE,
     ["policy.precaution_months.none=2", "policy.precaution_months.watch=5",
      "scenario.precaution_adjust_months=3"], []),
    ("a full general licence without a military ban = approval 1, no delay (section 13)", BASE,
     ["policy.controlled=Dy Tb", "policy.approval.none=0.4", "policy.delay_mean_days.none=80",
      "policy.delay_cv.none=0.6", "policy.general_licence.none=1"],
     ["policy.controlled=Dy Tb", "policy.approval.none=1", "policy.delay_mean_days.none=0"]),
    ("substitution with trigger 0 and no reversion does nothing (section 11)", J,
     ["substitution.rate=3", "substitution.trigger=0", "substitution.reversion=0"],
     ["substitution.rate=0", "substitution.reversion=0"]),
    ("the stockpile with nobody eligible = no stockpile (section 12)", J,
     ["stockpile.eligible="], ["stockpile.enabled=0"]),
]


def free_watch_month(ini):
    """The first month with importers on the watch list for which the file has
    no section (so that --set keys for it are appended in the order given)."""
    sections = read_ini(ini)
    base = dict(next((kvs for name, kvs in sections if name == "scenario"), []))
    start, months = month_index(base["start"]), int(base["months"])
    events = {name: dict(kvs) for name, kvs in sections if re.fullmatch(r"\d{4}-\d{2}", name)}
    listed = [m for m, kv in sorted(events.items())
              if float(kv.get("list.add.watch", "0") or 0) > 0 or ":watch" in kv.get("list.set", "")]
    if not listed:
        raise ValueError("%s puts nobody on the watch list" % ini)
    for t in range(month_index(listed[0]) + 1, start + months):
        if month_name(t) not in events:
            return month_name(t)
    raise ValueError("%s has a section for every month after %s" % (ini, listed[0]))


def rows_differ(a, b):
    return [(ra, rb, c) for ra, rb in zip(a, b) for c in NUM_COLS
            if not ((ra[c] is None and rb[c] is None) or
                    (ra[c] is not None and rb[c] is not None and close(ra[c], rb[c])))]


def run_self_checks():
    passed = failed = 0
    for label, ini, sets_a, sets_b in SELF_CHECKS:
        t1 = time.time()
        if any("{m}" in x for x in sets_a + sets_b):
            m = free_watch_month(ini)
            sets_a, sets_b = [x.format(m=m) for x in sets_a], [x.format(m=m) for x in sets_b]
            label += " (%s)" % m
        a = simulate(load_scenario(ini, sets_a), False)
        b = simulate(load_scenario(ini, sets_b), False)
        bad = rows_differ(a, b)
        ok = len(a) == len(b) and not bad
        if ok and len(sets_a) > len(sets_b) and sets_a[-len(sets_b):] == sets_b:
            # guard: the keys the later ones override must change the output on
            # their own, or the check would pass with any order
            c = simulate(load_scenario(ini, sets_a[:-len(sets_b)]), False)
            if not rows_differ(b, c):
                print("  MISMATCH %s: the overridden keys alone do not change the output" % label)
                ok = False
        for ra, rb, c in bad[:5]:
            print("  MISMATCH %s: %s %s %s: %r vs %r" % (label, ra["date"], ra["element"], c, ra[c], rb[c]))
        print("%s reference self-check: %s (%.1f s)" % ("ok  " if ok else "FAIL", label, time.time() - t1))
        passed, failed = passed + ok, failed + (not ok)
    return passed, failed


def main():
    if len(sys.argv) < 2:
        print("usage: py_reference.py /path/to/resim", file=sys.stderr)
        return 2
    resim = os.path.abspath(sys.argv[1])
    root = os.getcwd()
    strict = os.environ.get("RESIM_REFERENCE_REQUIRE_V2", "") not in ("", "0")
    t_start = time.time()
    engine = EngineV2(resim, root)
    # (label, ini, sets, by_status, warmup, kind); kind: shipped, v1, defaults, v2
    cases = []
    files = [os.path.relpath(p, root) for p in sorted(glob.glob(os.path.join(root, "scenarios", "*.ini")) +
                                                     glob.glob(os.path.join(root, "scenarios", "history", "*.ini")))]
    fixtures = [os.path.relpath(p, root) for p in sorted(glob.glob(os.path.join(root, "tests", "fixtures", "*.ini")) +
                                                        glob.glob(os.path.join(root, "tests", "reference", "*.ini")))]
    cases += [(f, f, [], False, None, "shipped") for f in files]
    cases += [(f, f, [], False, None, "v1") for f in fixtures]
    cases += [(lab, ini, sets, bys, w, "v1") for lab, ini, sets, bys, w in V1_CASES]
    cases += [(f + " (version-2 levers written at their defaults)", f, v2_defaults_for(f), False, None, "defaults")
              for f in files + fixtures]
    cases += [(lab, ini, sets, bys, w, "v2") for lab, ini, sets, bys, w in V2_CASES]
    for f in sorted(glob.glob(os.path.join(root, V2_FIXTURES, "*.ini"))):
        f = os.path.relpath(f, root)
        cases.append((f, f, [], False, None, "v2"))
        cases.append((f + " --by status", f, [], True, None, "v2"))
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory() as tmpdir:
        for label, ini, sets, by_status, warmup, kind in cases:
            t1 = time.time()
            engine_sets = sets
            if kind in ("v2", "defaults"):
                try:
                    mechs = case_mechanisms(ini, sets, warmup)
                except Exception as exc:  # noqa: BLE001
                    print("FAIL %s: reference could not read it: %r" % (label, exc))
                    failed += 1
                    continue
                missing = [(m, engine.accepts(m)) for m in mechs if not engine.accepts(m)[0]]
                broken = [(m, st) for m, st in missing if st[0] is None]
                if broken:
                    print("FAIL %s: the engine refuses valid %s keys: %s" % (label, broken[0][0], broken[0][1][1]))
                    failed += 1
                    continue
                if missing and kind == "defaults":
                    engine_sets = []  # a version-1 engine: compare with its output without the keys
                elif missing:
                    # The reference still runs the case, so that it cannot break unseen.
                    names = ", ".join(m for m, _ in missing)
                    try:
                        n_rows = len(simulate(load_scenario(ini, sets, warmup), by_status))
                    except Exception as exc:  # noqa: BLE001
                        print("FAIL %s: reference could not run: %r" % (label, exc))
                        failed += 1
                        continue
                    if strict:
                        print("FAIL %s: the engine does not accept the %s keys (%s)"
                              % (label, names, missing[0][1][1]))
                        failed += 1
                    else:
                        print("SKIP %s: the engine does not accept the %s keys yet; reference alone "
                              "ran %d rows (%s)" % (label, names, n_rows, missing[0][1][1]))
                        skipped += 1
                    continue
            theirs, header, err = run_engine(resim, ini, engine_sets, by_status, warmup, tmpdir)
            if theirs is None:
                if not strict and (kind == "shipped" or
                                   (kind == "defaults" and ini.startswith("scenarios" + os.sep))):
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
            ok = check_header(header, label, kind == "v2")
            uses_v2 = kind == "v2" or (kind == "shipped" and case_mechanisms(ini, sets, warmup))
            ok = compare(mine, theirs, header, label, kind="v2" if uses_v2 else "v1") and ok
            if kind in ("v1", "v2") and (sets or warmup is not None or by_status):
                # guard: the perturbation must change the engine's output (a key that
                # both implementations silently ignored would otherwise pass)
                base_rows, _, _ = run_engine(resim, ini, [], False, None, tmpdir)
                cols = lambda rows: [[r.get(c) for c in NUM_COLS] for r in rows if r["group"] == "all"]
                if base_rows is not None and cols(base_rows) == cols(theirs) and not by_status:
                    print("  MISMATCH %s: --set/--warmup did not change the engine output" % label)
                    ok = False
            if by_status:
                ok = check_group_sums(theirs, header, label) and ok
            note = ""
            if kind == "defaults":
                note = ", engine with the same keys" if engine_sets else ", engine without them (version 1)"
            print("%s %s (%d rows, %.1f s%s)" % ("ok  " if ok else "FAIL", label, len(theirs),
                                                 time.time() - t1, note))
            if ok:
                passed += 1
            else:
                failed += 1
        p, f, s = run_hand_cases(resim, engine, tmpdir, strict)
        passed, failed, skipped = passed + p, failed + f, skipped + s
        p, f = run_self_checks()
        passed, failed = passed + p, failed + f
    if skipped:
        print("%d skipped: the engine does not accept their version-2 keys yet "
              "(RESIM_REFERENCE_REQUIRE_V2=1 makes that a failure)" % skipped)
    print("total %.1f s" % (time.time() - t_start))
    print("largest difference |python - engine| / max(1, |value|): version-1 cases %.3g, "
          "version-2 cases %.3g" % (WORST["v1"], WORST["v2"]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
