#!/usr/bin/env python3
"""Hand-worked cases of the version-2 mechanisms (docs/model.md sections 9-13).

Each case is a tiny world (one or two importers, one or two elements, a few
months, no alternative supply) whose every output number is worked out by
hand below, from the rules of docs/model.md alone.  The cases are written to
tests/reference/v2_hand_cases.json (inputs: the scenario file and the data
tables; expected: per-month values of the output columns), which
tests/py_reference.py checks against the Python reference and, once it
accepts the keys, the engine; C tests can read the same file.

    python3 tests/py_reference_cases.py --write   # regenerate the JSON
    python3 tests/py_reference_cases.py [resim]   # check the JSON is in step
                                                  # and the hand numbers balance

Shared assumptions, unless a case says otherwise: demand 120 t/year, so
D_e = 10 t/month, no growth; no alternative source (A_e = 0, so the China
share of the supply-line target is 1); transit L = 1 month; adjust_months
tau = 1 (R closes both gaps at once); cover 1 month; review delay 0 (an
application is decided in its filing month), so the lead time of a
controlled element is mu / M + L = 1; stockpile empty.  Start state
(section 6): inventory = cover * D, and D was approved in month -1, so it
arrives in month 0 and the supply line starts at D.

M = 365.25 / 12 = 30.4375 days exactly; cover_days = inventory * M / demand.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
JSON_PATH = os.path.join(HERE, "reference", "v2_hand_cases.json")
M = 365.25 / 12.0
COLS = ["demand", "requirement", "alt_capacity", "alt_supply", "china_applied",
        "china_approved", "china_rejected", "china_pending", "china_arrivals",
        "stockpile_release", "national_stockpile", "inventory", "consumption",
        "shortfall", "availability", "cover_days", "substituted"]

ELEMENTS_CSV = "symbol,name_en,licensed_2025\nDy,Dysprosium,1\nTb,Terbium,1\n"
DEMAND_CSV = "element,base_tpy,growth,source\nDy,120,0,hand case\nTb,120,0,hand case\n"
ALT_CSV = "id,element,capacity_tpy,start,ramp_months,growth,japan_share\n"
IMPORTERS_HEAD = "id,name,status,exposure,military,cover_months,share_Dy,share_Tb\n"


def files(ini, importers, stockpile="Dy,0,0\nTb,0,0\n"):
    return {
        "scenario.ini": ini,
        "data/elements.csv": ELEMENTS_CSV,
        "data/demand.csv": DEMAND_CSV,
        "data/alt_sources.csv": ALT_CSV,
        "data/stockpile.csv": "element,tonnes,release_max_tpm\n" + stockpile,
        "data/importers.csv": IMPORTERS_HEAD + importers,
    }


def row(month, element, group="all", full=True, **v):
    """Expected values; with full=True every column, defaults 0 (availability 1)."""
    if full:
        base = {c: 0.0 for c in COLS}
        base.update(v)
        for c in COLS:
            if c not in v and c == "availability":
                base[c] = 1.0
        v = base
    return {"month": month, "element": element, "group": group, "values": v}


# ----------------------------------------------------------------------------
# Section 9: per-element policy.
# One importer (status none, military 0.4) uses Dy and Tb, both controlled.
#   approval.none.Dy = 0.2 then approval.none = 0.5: the bare key comes after,
#     so Dy's approval is 0.5 (not 0.2); approval.none.Tb = 1 then sets Tb.
#   military_ban.Dy = 1: Dy's p = 0.5 * (1 - 0.4) = 0.3; Tb's p = 1 * (1 - 0) = 1.
#   delay_mean_days.none.Tb = 30.4375 = M, cv 0: a Tb application is decided
#     exactly one month after filing (k = floor(M / M) = 1); its lead time is
#     mu / M + L = 2, so SL* = 20.  Dy keeps delay 0 (lead 1, SL* = 10).
#   Event in month 2: approval.none.Dy = 0.25 -> Dy's p = 0.25 * 0.6 = 0.15;
#     Tb is untouched.
#
# Dy, p = 0.3 in months 0-1 and 0.15 from month 2 (I: inventory at the start,
# SL: approved in month t-1, arriving now):
#   m0: I 10, SL 10.  R = 10 + (10-10) + (10-10) = 10; approved 0.3*10 = 3,
#       rejected 7.  Arrivals 10; avail 20; C 10; I' 10.  cover 10*M/10 = M.
#   m1: I 10, SL 3.  R = 10 + 0 + (10-3) = 17; approved 5.1, rejected 11.9.
#       Arrivals 3; avail 13; C 10; I' 3.
#   m2: I 3, SL 5.1.  R = 10 + 7 + 4.9 = 21.9; approved 0.15*21.9 = 3.285,
#       rejected 18.615.  Arrivals 5.1; avail 8.1; C 8.1; U 1.9; I' 0.
#   m3: I 0, SL 3.285.  R = 10 + 10 + 6.715 = 26.715; approved 4.00725,
#       rejected 22.70775.  Arrivals 3.285 = C; U 6.715.
# Tb, p = 1, decided one month after filing:
#   m0: I 10, SL 10 (in transit).  R = 10 + 0 + (20-10) = 20, all pending.
#       Arrivals 10; C 10; I' 10.
#   m1: I 10, SL = 20 pending + 0 in transit.  R = 10.  The 20 of m0 is
#       decided and approved; pending 10.  Arrivals 0 (nothing approved in
#       m0); avail 10; C 10; I' 0.
#   m2: I 0, SL = 10 + 20 = 30.  R = 10 + 10 + (20-30) = 10; approved 10
#       (m1's), pending 10; arrivals 20; C 10; I' 10.
#   m3: I 10, SL = 10 + 10 = 20.  R = 10; approved 10; arrivals 10; I' 10.
# ----------------------------------------------------------------------------
PER_ELEMENT = {
    "name": "per_element_policy",
    "section": 9,
    "description": "element keys for approval, delay and military ban; a bare key after an "
                   "element key overrides it; an element key in an event touches one element",
    "scenario": "scenario.ini",
    "files": files(
        "[scenario]\nname = hand-per-element\nstart = 2030-01\nmonths = 4\ndata = data\n"
        "elements = Dy Tb\ntransit_months = 1\nadjust_months = 1\n\n"
        "[policy]\ncontrolled = Dy Tb\napproval.none.Dy = 0.2\napproval.none = 0.5\n"
        "approval.none.Tb = 1\nmilitary_ban.Dy = 1\ndelay_mean_days.none.Tb = 30.4375\n\n"
        "[2030-03]\napproval.none.Dy = 0.25\nsource = hand case\n",
        "imp_a,Importer A,none,0.5,0.4,1,1,1\n"),
    "expected": [
        row(0, "Dy", demand=10, requirement=10, china_applied=10, china_approved=3, china_rejected=7,
            china_arrivals=10, inventory=10, consumption=10, cover_days=M),
        row(1, "Dy", demand=10, requirement=17, china_applied=17, china_approved=5.1, china_rejected=11.9,
            china_arrivals=3, inventory=3, consumption=10, cover_days=3 * M / 10),
        row(2, "Dy", demand=10, requirement=21.9, china_applied=21.9, china_approved=3.285,
            china_rejected=18.615, china_arrivals=5.1, inventory=0, consumption=8.1, shortfall=1.9,
            availability=0.81, cover_days=0),
        row(3, "Dy", demand=10, requirement=26.715, china_applied=26.715, china_approved=4.00725,
            china_rejected=22.70775, china_arrivals=3.285, inventory=0, consumption=3.285,
            shortfall=6.715, availability=0.3285, cover_days=0),
        row(0, "Tb", demand=10, requirement=20, china_applied=20, china_pending=20, china_arrivals=10,
            inventory=10, consumption=10, cover_days=M),
        row(1, "Tb", demand=10, requirement=10, china_applied=10, china_approved=20, china_pending=10,
            china_arrivals=0, inventory=0, consumption=10, cover_days=0),
        row(2, "Tb", demand=10, requirement=10, china_applied=10, china_approved=10, china_pending=10,
            china_arrivals=20, inventory=10, consumption=10, cover_days=M),
        row(3, "Tb", demand=10, requirement=10, china_applied=10, china_approved=10, china_pending=10,
            china_arrivals=10, inventory=10, consumption=10, cover_days=M),
    ],
}

# ----------------------------------------------------------------------------
# Section 10: precautionary inventory.
# Two importers of Dy, each share 0.5 (D = 5), cover 1: imp_a none, imp_b
# watch.  Dy controlled at the start; approvals 1; pi = 2.
#   precaution_months.none = 2; precaution_months.watch.Dy = 1 then
#   precaution_months.watch = 3 (bare after: watch gets 3).
#   Event m1: precaution_months.none.Dy = 4.  Event m2: controlled.remove = Dy
#   (then X* = 0 for everyone; delay 0 and approval 1 make control otherwise
#   irrelevant here).
# Start: X = X*(t0): X_a = 2, X_b = 3, so I_a = (1+2)*5 = 15, I_b = (1+3)*5 =
# 20; each has 5 in transit.  X = X + (X* - X) / 2 every month:
#   m0: X_a 2, X_b 3.  R_a = 5 + (15-15) + (5-5) = 5, R_b = 5.  All approved.
#       Arrivals 5 + 5; C 5 each; I' 15 and 20 (inventory 35).
#   m1: X_a = 2 + (4-2)/2 = 3, X_b = 3.  I*_a = 4*5 = 20:
#       R_a = 5 + (20-15) + (5-5) = 10, R_b = 5.  Requirement 15.  Arrivals 10
#       (m0's approvals); I' 15 and 20.
#   m2: not controlled: X* = 0, X_a = X_b = 3 - 3/2 = 1.5, I* = 2.5*5 = 12.5;
#       lead = L = 1, SL* = 5.  SL_a = 10, SL_b = 5.
#       R_a = max(0, 5 + (12.5-15) + (5-10)) = 0; R_b = max(0, 5 - 7.5) = 0.
#       Arrivals 10 + 5; avail 25 each; I' 20 each (inventory 40).
#   m3: X = 0.75, I* = 8.75; SL 0: R = max(0, 5 + (8.75-20) + 5) = 0.
#       Arrivals 0; I' 15 each (30).
#   m4: X = 0.375, I* = 6.875: R = 5 + (6.875-15) + 5 = 1.875 each (3.75),
#       decided and approved at once.  Arrivals 0; I' 10 each (20).
# ----------------------------------------------------------------------------
PRECAUTION = {
    "name": "precautionary_inventory",
    "section": 10,
    "description": "extra cover starts at its target, follows it by 1/pi a month, and "
                   "returns to 0 when the element is no longer controlled",
    "scenario": "scenario.ini",
    "by": "status",
    "files": files(
        "[scenario]\nname = hand-precaution\nstart = 2030-01\nmonths = 5\ndata = data\n"
        "elements = Dy\ntransit_months = 1\nadjust_months = 1\nprecaution_adjust_months = 2\n\n"
        "[policy]\ncontrolled = Dy\napproval.none = 1\napproval.watch = 1\n"
        "precaution_months.none = 2\nprecaution_months.watch.Dy = 1\nprecaution_months.watch = 3\n\n"
        "[2030-02]\nprecaution_months.none.Dy = 4\nsource = hand case\n\n"
        "[2030-03]\ncontrolled.remove = Dy\nsource = hand case\n",
        "imp_a,Importer A,none,0.5,0,1,0.5,1\nimp_b,Importer B,watch,0.7,0,1,0.5,0\n"),
    "expected": [
        row(0, "Dy", demand=10, requirement=10, china_applied=10, china_approved=10, china_arrivals=10,
            inventory=35, consumption=10, cover_days=35 * M / 10),
        row(1, "Dy", demand=10, requirement=15, china_applied=15, china_approved=15, china_arrivals=10,
            inventory=35, consumption=10, cover_days=35 * M / 10),
        row(2, "Dy", demand=10, requirement=0, china_applied=0, china_approved=0, china_arrivals=15,
            inventory=40, consumption=10, cover_days=40 * M / 10),
        row(3, "Dy", demand=10, requirement=0, china_arrivals=0, inventory=30, consumption=10,
            cover_days=30 * M / 10),
        row(4, "Dy", demand=10, requirement=3.75, china_applied=3.75, china_approved=3.75,
            china_arrivals=0, inventory=20, consumption=10, cover_days=20 * M / 10),
        row(0, "Dy", "none", full=False, requirement=5, inventory=15),
        row(0, "Dy", "watch", full=False, requirement=5, inventory=20),
        row(1, "Dy", "none", full=False, requirement=10, inventory=15),
        row(1, "Dy", "watch", full=False, requirement=5, inventory=20),
        row(2, "Dy", "none", full=False, requirement=0, china_arrivals=10, inventory=20),
        row(2, "Dy", "watch", full=False, requirement=0, china_arrivals=5, inventory=20),
    ],
}

# ----------------------------------------------------------------------------
# Section 11: substitution and thrift, with a cap lowered by an event.
# One importer of Dy, controlled, approval 0 until month 3.
#   [substitution] rate = 0.6 then rate.Dy = 1.2 (0.1 a month), cap = 0.25,
#   reversion = 0.6 (0.05 a month), trigger 0.95 (default).
#   Event m3: approval.none = 1.  Event m4: substitution.cap.Dy = 0.1.
# S starts at 0; potential demand P = 10; D = P (1 - S); substituted = P - D.
#   m0: S 0.  R = 10, all rejected.  Arrivals 10 (start state); C 10; I' 10.
#       C/D = 1: S = max(0, min(0.25, 0 - 0.05)) = 0.
#   m1: SL 0: R = 10 + 0 + 10 = 20, rejected.  Arrivals 0; C 10; I' 0.  S 0.
#   m2: R = 10 + 10 + 10 = 30, rejected; C 0, U 10.  S = 0.1.
#   m3: D = 9, substituted 1.  I* = SL* = 9; R = 9 + 9 + 9 = 27, approved
#       (p = 1 now), arriving m4.  C 0, U 9.  S = min(0.25, 0.2) = 0.2.
#   m4: cap 0.1 clamps S to 0.1 at once: D = 9, substituted 1.  SL 27:
#       R = max(0, 9 + 9 + (9-27)) = 0.  Arrivals 27; C 9; I' 18;
#       cover 18*M/9.  C/D = 1: S = max(0, min(0.1, 0.1 - 0.05)) = 0.05.
#   m5: D = 9.5, substituted 0.5.  R = 9.5 + (9.5-18) + (9.5-0) = 10.5,
#       approved.  Arrivals 0; C 9.5; I' 8.5.  S = 0.05 - 0.05 = 0.
#   m6: D = 10.  SL 10.5: R = 10 + (10-8.5) + (10-10.5) = 11, approved.
#       Arrivals 10.5; avail 19; C 10; I' 9.
# ----------------------------------------------------------------------------
SUBSTITUTION = {
    "name": "substitution_cap",
    "section": 11,
    "description": "substitution while short, a cap lowered by an event clamps the share "
                   "at once, reversion once supply is adequate",
    "scenario": "scenario.ini",
    "files": files(
        "[scenario]\nname = hand-substitution\nstart = 2030-01\nmonths = 7\ndata = data\n"
        "elements = Dy\ntransit_months = 1\nadjust_months = 1\n\n"
        "[policy]\ncontrolled = Dy\napproval.none = 0\n\n"
        "[substitution]\nrate = 0.6\nrate.Dy = 1.2\ncap = 0.25\nreversion = 0.6\n\n"
        "[2030-04]\napproval.none = 1\nsource = hand case\n\n"
        "[2030-05]\nsubstitution.cap.Dy = 0.1\nsource = hand case\n",
        "imp_a,Importer A,none,0.5,0,1,1,1\n"),
    "expected": [
        row(0, "Dy", demand=10, requirement=10, china_applied=10, china_rejected=10, china_arrivals=10,
            inventory=10, consumption=10, cover_days=M),
        row(1, "Dy", demand=10, requirement=20, china_applied=20, china_rejected=20, inventory=0,
            consumption=10, cover_days=0),
        row(2, "Dy", demand=10, requirement=30, china_applied=30, china_rejected=30, consumption=0,
            shortfall=10, availability=0, cover_days=0),
        row(3, "Dy", demand=9, requirement=27, china_applied=27, china_approved=27, consumption=0,
            shortfall=9, availability=0, cover_days=0, substituted=1),
        row(4, "Dy", demand=9, requirement=0, china_arrivals=27, inventory=18, consumption=9,
            cover_days=18 * M / 9, substituted=1),
        row(5, "Dy", demand=9.5, requirement=10.5, china_applied=10.5, china_approved=10.5,
            inventory=8.5, consumption=9.5, cover_days=8.5 * M / 9.5, substituted=0.5),
        row(6, "Dy", demand=10, requirement=11, china_applied=11, china_approved=11, china_arrivals=10.5,
            inventory=9, consumption=10, cover_days=9 * M / 10, substituted=0),
    ],
}

# ----------------------------------------------------------------------------
# Section 11: full substitution and return.  One importer of Dy, approval 0
# throughout; rate = 12 (1 a month), reversion = 6 (0.5 a month), cap 1.
#   m0, m1 as in the case above (R 10 then 20, rejected; C 10; I' 10 then 0).
#   m2: R 30 rejected; C 0, U 10; S = min(1, 0 + 1) = 1.
#   m3: D = 0 (substituted 10): R = max(0, 0 + 0 + 0) = 0; availability 1
#       (no demand), cover_days empty.  Potential demand 10 > 0 and D = 0:
#       second branch, S = max(0, min(1, 1 - 0.5)) = 0.5.
#   m4: D = 5 (substituted 5): R = 5 + 5 + 5 = 15, rejected; C 0, U 5.
#       S = min(1, 0.5 + 1) = 1.
#   m5: as m3.
# ----------------------------------------------------------------------------
FULL_SUBSTITUTION = {
    "name": "full_substitution_and_return",
    "section": 11,
    "description": "an importer that substitutes everything has no demand, takes the "
                   "reversion branch and comes back to the market",
    "scenario": "scenario.ini",
    "files": files(
        "[scenario]\nname = hand-full-substitution\nstart = 2030-01\nmonths = 6\ndata = data\n"
        "elements = Dy\ntransit_months = 1\nadjust_months = 1\n\n"
        "[policy]\ncontrolled = Dy\napproval.none = 0\n\n"
        "[substitution]\nrate = 12\nreversion = 6\n",
        "imp_a,Importer A,none,0.5,0,1,1,1\n"),
    "expected": [
        row(0, "Dy", demand=10, requirement=10, china_applied=10, china_rejected=10, china_arrivals=10,
            inventory=10, consumption=10, cover_days=M),
        row(1, "Dy", demand=10, requirement=20, china_applied=20, china_rejected=20, consumption=10,
            cover_days=0),
        row(2, "Dy", demand=10, requirement=30, china_applied=30, china_rejected=30, shortfall=10,
            availability=0, cover_days=0),
        row(3, "Dy", demand=0, availability=1, cover_days=None, substituted=10),
        row(4, "Dy", demand=5, requirement=15, china_applied=15, china_rejected=15, shortfall=5,
            availability=0, cover_days=0, substituted=5),
        row(5, "Dy", demand=0, availability=1, cover_days=None, substituted=10),
    ],
}

# ----------------------------------------------------------------------------
# Section 12: the stockpile decision rule.
# Two importers of Dy (D = 5 each): imp_a none, imp_b watch; approvals 0.
# Stockpile 30 t, release_max 4 t/month, trigger 0.9, decision_months 1,
# eligible = none, and disabled until an event enables it in month 3.
# Events: m3 stockpile.enabled = 1; m4 stockpile.eligible = none watch;
# m5 stockpile.decision_months = 6.
#   m0: R 5 each (10), rejected; arrivals 5 each; C 5 each; I' 5 each.
#       Availability before release 1: n = 0.
#   m1: R = 5 + 0 + 5 = 10 each (20); arrivals 0; C 5 each; I' 0.  n = 0.
#   m2: R = 5 + 5 + 5 = 15 each (30); avail 0; before 0 < 0.9: n = 1.
#       Disabled: no release; C 0, U 10.
#   m3: enabled.  n = 2 > d = 1 (the count ran while disabled): release
#       min(30, 4, unmet of eligible = imp_a's 5) = 4, all to imp_a.
#       C_a 4, C_b 0: consumption 4, shortfall 6; stockpile 26.
#   m4: everyone eligible; n = 3: release min(26, 4, 5 + 5) = 4, 2 each.
#       Consumption 4; stockpile 22.
#   m5: d = 6, n = 4: no release; consumption 0; stockpile 22.
# ----------------------------------------------------------------------------
STOCKPILE = {
    "name": "stockpile_decision_rule",
    "section": 12,
    "description": "releases wait for decision_months of low availability (counted while "
                   "the stockpile is off) and go only to eligible statuses",
    "scenario": "scenario.ini",
    "by": "status",
    "files": files(
        "[scenario]\nname = hand-stockpile\nstart = 2030-01\nmonths = 6\ndata = data\n"
        "elements = Dy\ntransit_months = 1\nadjust_months = 1\n\n"
        "[policy]\ncontrolled = Dy\napproval.none = 0\napproval.watch = 0\n\n"
        "[stockpile]\nenabled = 0\ntrigger = 0.9\ndecision_months = 1\neligible = none\n\n"
        "[2030-04]\nstockpile.enabled = 1\nsource = hand case\n\n"
        "[2030-05]\nstockpile.eligible = none watch\nsource = hand case\n\n"
        "[2030-06]\nstockpile.decision_months = 6\nsource = hand case\n",
        "imp_a,Importer A,none,0.5,0,1,0.5,1\nimp_b,Importer B,watch,0.7,0,1,0.5,0\n",
        stockpile="Dy,30,4\nTb,0,0\n"),
    "expected": [
        row(0, "Dy", demand=10, requirement=10, china_applied=10, china_rejected=10, china_arrivals=10,
            national_stockpile=30, inventory=10, consumption=10, cover_days=M),
        row(1, "Dy", demand=10, requirement=20, china_applied=20, china_rejected=20, national_stockpile=30,
            consumption=10, cover_days=0),
        row(2, "Dy", demand=10, requirement=30, china_applied=30, china_rejected=30, national_stockpile=30,
            shortfall=10, availability=0, cover_days=0),
        row(3, "Dy", demand=10, requirement=30, china_applied=30, china_rejected=30, stockpile_release=4,
            national_stockpile=26, consumption=4, shortfall=6, availability=0.4, cover_days=0),
        row(4, "Dy", demand=10, requirement=30, china_applied=30, china_rejected=30, stockpile_release=4,
            national_stockpile=22, consumption=4, shortfall=6, availability=0.4, cover_days=0),
        row(5, "Dy", demand=10, requirement=30, china_applied=30, china_rejected=30, national_stockpile=22,
            shortfall=10, availability=0, cover_days=0),
        row(3, "Dy", "none", full=False, stockpile_release=4, consumption=4, shortfall=1, availability=0.8,
            national_stockpile=26),
        row(3, "Dy", "watch", full=False, stockpile_release=0, consumption=0, shortfall=5, availability=0,
            national_stockpile=26),
        row(4, "Dy", "none", full=False, stockpile_release=2, consumption=2, shortfall=3, availability=0.4),
        row(4, "Dy", "watch", full=False, stockpile_release=2, consumption=2, shortfall=3, availability=0.4),
    ],
}

# ----------------------------------------------------------------------------
# Section 13: general licences.
# One importer (none, military 0.2) of Dy (controlled) and Tb (not).
#   approval.none = 0.5, military_ban = 1: a reviewed decision is approved
#   with p = 0.5 * (1 - 0.2) = 0.4; a general-licence decision with
#   1 - 0.2 = 0.8.  delay_mean_days.none = 60.875 = 2 M, cv 0: reviewed
#   applications are decided 2 months after filing.
#   general_licence.none.Dy = 0.3 then general_licence.none = 0.6 (bare
#   after: g = 0.6 for Dy; for Tb too, but Tb is not controlled).
#   Lead time of Dy: (1 - 0.6) * 2 + 1 = 1.8, so SL* = 18.
# Dy (SL = pending + approved last month):
#   m0: I 10, SL 10.  R = 10 + 0 + (18-10) = 18.  General licence 0.6*18 =
#       10.8: approved 8.64, rejected 2.16.  Review 7.2 (decided m2), pending.
#       Arrivals 10; C 10; I' 10.
#   m1: SL = 7.2 + 8.64 = 15.84.  R = 10 + 0 + 2.16 = 12.16.  GL 7.296:
#       approved 5.8368, rejected 1.4592; review 4.864 (decided m3).
#       Pending 12.064.  Arrivals 8.64; C 10; I' 8.64.
#   m2: SL = 12.064 + 5.8368 = 17.9008.  R = 10 + 1.36 + 0.0992 = 11.4592.
#       GL 6.87552: approved 5.500416, rejected 1.375104.  Review 4.58368.
#       m0's 7.2 decided: approved 2.88, rejected 4.32.  Approved 8.380416,
#       rejected 5.695104, pending 12.064 - 7.2 + 4.58368 = 9.44768.
#       Arrivals 5.8368; avail 14.4768; C 10; I' 4.4768.
#   m3: SL = 9.44768 + 8.380416 = 17.828096.  R = 10 + 5.5232 + 0.171904 =
#       15.695104.  GL 9.4170624: approved 7.53364992, rejected 1.88341248.
#       Review 6.2780416.  m1's 4.864 decided: approved 1.9456, rejected
#       2.9184.  Approved 9.47924992, rejected 4.80181248, pending
#       9.44768 - 4.864 + 6.2780416 = 10.8617216.  Arrivals 8.380416;
#       avail 12.857216; C 10; I' 2.857216.
# Tb (not controlled, g has no effect): the steady state, R = 10 decided and
# approved at once, arrivals 10, inventory 10, every month.
# ----------------------------------------------------------------------------
GENERAL_LICENCE = {
    "name": "general_licence",
    "section": 13,
    "description": "a general licence decides its share at once (military ban applies, "
                   "approval does not) and shortens the lead time; no effect on an "
                   "uncontrolled element",
    "scenario": "scenario.ini",
    "files": files(
        "[scenario]\nname = hand-general-licence\nstart = 2030-01\nmonths = 4\ndata = data\n"
        "elements = Dy Tb\ntransit_months = 1\nadjust_months = 1\n\n"
        "[policy]\ncontrolled = Dy\napproval.none = 0.5\nmilitary_ban = 1\n"
        "delay_mean_days.none = 60.875\ngeneral_licence.none.Dy = 0.3\ngeneral_licence.none = 0.6\n",
        "imp_a,Importer A,none,0.5,0.2,1,1,1\n"),
    "expected": [
        row(0, "Dy", demand=10, requirement=18, china_applied=18, china_approved=8.64, china_rejected=2.16,
            china_pending=7.2, china_arrivals=10, inventory=10, consumption=10, cover_days=M),
        row(1, "Dy", demand=10, requirement=12.16, china_applied=12.16, china_approved=5.8368,
            china_rejected=1.4592, china_pending=12.064, china_arrivals=8.64, inventory=8.64,
            consumption=10, cover_days=8.64 * M / 10),
        row(2, "Dy", demand=10, requirement=11.4592, china_applied=11.4592, china_approved=8.380416,
            china_rejected=5.695104, china_pending=9.44768, china_arrivals=5.8368, inventory=4.4768,
            consumption=10, cover_days=4.4768 * M / 10),
        row(3, "Dy", demand=10, requirement=15.695104, china_applied=15.695104, china_approved=9.47924992,
            china_rejected=4.80181248, china_pending=10.8617216, china_arrivals=8.380416,
            inventory=2.857216, consumption=10, cover_days=2.857216 * M / 10),
    ] + [row(m, "Tb", demand=10, requirement=10, china_applied=10, china_approved=10, china_arrivals=10,
             inventory=10, consumption=10, cover_days=M) for m in range(4)],
}

CASES = [PER_ELEMENT, PRECAUTION, SUBSTITUTION, FULL_SUBSTITUTION, STOCKPILE, GENERAL_LICENCE]


def document():
    return {
        "about": "Hand-worked cases of resim's version-2 mechanisms (docs/model.md sections 9-13). "
                 "Write each case's files into a folder, run the scenario file in it "
                 "(with --by status when 'by' is 'status') and compare the listed values of the "
                 "rows (month, element, group) within 1e-9 x max(1, |value|); cover_days null "
                 "means empty. Derivations: tests/py_reference_cases.py.",
        "generated_by": "python3 tests/py_reference_cases.py --write",
        "cases": CASES,
    }


def balance_errors(case):
    """Accounting identities the hand numbers must satisfy (docs/model.md sections 5, 7)."""
    errs = []

    def near(a, b):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))

    full = [r for r in case["expected"] if len(r["values"]) == len(COLS)]
    last = {}  # (element, group) -> (month, values) of the row before
    for r in sorted(full, key=lambda r: (r["element"], r["group"], r["month"])):
        v = r["values"]
        where = "%s month %d %s %s" % (case["name"], r["month"], r["element"], r["group"])
        checks = [
            ("shortfall = demand - consumption", v["shortfall"], v["demand"] - v["consumption"]),
            ("requirement = alt_supply + china_applied", v["requirement"], v["alt_supply"] + v["china_applied"]),
            ("availability = consumption / demand", v["availability"],
             v["consumption"] / v["demand"] if v["demand"] > 0 else 1.0),
        ]
        if v["demand"] > 0:
            checks.append(("cover_days = inventory * M / demand", v["cover_days"],
                           v["inventory"] * M / v["demand"]))
        elif v["cover_days"] is not None:
            errs.append("%s: cover_days must be empty when demand is 0" % where)
        month, p = last.get((r["element"], r["group"]), (None, None))
        if r["month"] == 0 or month == r["month"] - 1:
            # pending grows by what is filed for review and shrinks by what is decided
            checks.append(("pending balance", v["china_pending"],
                           (p["china_pending"] if p else 0.0) + v["china_applied"]
                           - v["china_approved"] - v["china_rejected"]))
        if month == r["month"] - 1:
            checks.append(("inventory balance", v["inventory"],
                           p["inventory"] + v["china_arrivals"] + v["alt_supply"] + v["stockpile_release"]
                           - v["consumption"]))
            checks.append(("stockpile balance", v["national_stockpile"],
                           p["national_stockpile"] - v["stockpile_release"]))
        for name, a, b in checks:
            if not near(a, b):
                errs.append("%s: %s: %.15g vs %.15g" % (where, name, a, b))
        last[(r["element"], r["group"])] = (r["month"], v)
    return errs


def main(argv):
    doc = document()
    text = json.dumps(doc, indent=1, sort_keys=False) + "\n"
    if "--write" in argv:
        with open(JSON_PATH, "w", encoding="utf-8") as fh:
            fh.write(text)
        print("wrote %s (%d cases)" % (os.path.relpath(JSON_PATH), len(CASES)))
        return 0
    errs = []
    try:
        with open(JSON_PATH, encoding="utf-8") as fh:
            on_disk = json.load(fh)
    except (OSError, ValueError) as exc:
        on_disk = None
        errs.append("cannot read %s: %s" % (JSON_PATH, exc))
    if on_disk is not None and on_disk != json.loads(text):
        errs.append("%s is not what this file writes: run python3 tests/py_reference_cases.py --write"
                    % os.path.relpath(JSON_PATH))
    for case in CASES:
        e = balance_errors(case)
        errs += e
        print("%s %s: %d rows, accounting %s" % ("ok  " if not e else "FAIL", case["name"],
                                                 len(case["expected"]), "balances" if not e else "does not balance"))
    for m in errs:
        print("  " + m)
    print("%d cases, %d problems" % (len(CASES), len(errs)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
