#!/usr/bin/env python3
"""The explorer's JSON API against the command line: `resim serve` on 127.0.0.1.

Bad requests (malformed JSON, unknown fields and keys, out-of-range values,
file paths, huge bodies, wrong methods and hosts) are answered 4xx with the
line `resim run --set` prints; runs equal `resim run --set` number for number
and, as CSV, byte for byte; 2,000 requests from 16 concurrent clients all
succeed and each gets its own result; SIGTERM stops the server cleanly.

  tests/py_serve_api.py RESIM_BINARY
"""

import collections
import configparser
import csv
import http.client
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

RESIM = sys.argv[1] if len(sys.argv) > 1 else "build/resim"
SCENARIO = "scenarios/japan-2026.ini"
failures = 0


def scenario_ini(path):
    """The scenario file as sections of keys (what the expectations below are read from)."""
    ini = configparser.ConfigParser(interpolation=None, strict=False)
    ini.optionxform = str
    ini.read(path)
    return ini


def data_table(name):
    """Rows of one of the scenario's data tables (its [scenario] data folder)."""
    folder = os.path.join(os.path.dirname(SCENARIO), SC["scenario"].get("data", "../data"))
    with open(os.path.join(folder, name), newline="") as f:
        return list(csv.DictReader(f))


SC = scenario_ini(SCENARIO)


def check(ok, what):
    global failures
    if not ok:
        failures += 1
    print(("ok   " if ok else "FAIL ") + what, flush=True)


def start(*args):
    p = subprocess.Popen([RESIM, "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    line = p.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if m is None:
        p.kill()
        raise SystemExit("resim serve did not start: " + line + p.stderr.read())
    return p, int(m.group(1))


def request(port, method, path, body=None, headers=None, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r.status, r.getheader("Content-Type"), data


def cli(*sets, by="status"):
    args = [RESIM, "run", SCENARIO] + (["--by", by] if by != "none" else [])
    for s in sets:
        args += ["--set", s]
    return subprocess.run(args, capture_output=True)


def error_of(data):
    try:
        return json.loads(data)["error"]
    except (ValueError, KeyError, TypeError):
        return None


server, port = start(SCENARIO, "--port", "0")
try:
    # ---------------------------------------------------------------- levers
    status, ctype, data = request(port, "GET", "/api/levers")
    lv = json.loads(data)
    check(status == 200 and ctype == "application/json", "GET /api/levers answers JSON")
    check(lv["scenario"]["name"] == "japan-2026" and lv["scenario"]["months"] == 48
          and lv["scenario"]["elements"] == ["Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"],
          "levers name the scenario, its months and elements")
    ids = {x["id"]: x for x in lv["levers"]}
    check("policy.approval.watch" in ids and ids["policy.approval.watch"]["value"] == 1,
          "levers hold policy.approval.watch with its value in the scenario")
    add_months = [m for m in SC.sections() if re.fullmatch(r"\d{4}-\d{2}", m) and "list.add.control" in SC[m]]
    check(add_months and all(any(e["date"] == m and e["key"] == "list.add.control"
                                 and e["lever"] == "list.add.control"
                                 and float(e["value"]) == float(SC[m]["list.add.control"])
                                 for e in lv["timeline"]) for m in add_months),
          "the timeline holds the list additions of %s with their counts" % add_months)
    check(all(x["help"] and "unit" in x and "kind" in x and "shape" in x for x in lv["levers"]),
          "every lever has its help, unit, kind and shape from the lever table")
    d = ids.get("policy.delay_mean_days.watch", {})
    check(d.get("unit") == "days" and d.get("min") == 0 and d.get("max") is None and d.get("default") == 0,
          "policy.delay_mean_days.watch: days, [0, inf), default 0")
    held = {r["element"]: float(r["tonnes"]) for r in data_table("stockpile.csv")}
    check(ids.get("stockpile.tonnes.Dy", {}).get("value") == held["Dy"],
          "stockpile.tonnes.Dy holds the data table's %g t" % held["Dy"])
    start_of = {r["id"]: r["start"] for r in data_table("alt_sources.csv")}
    check(ids.get("alt.lynas_my2_dy.start", {}).get("value") == start_of["lynas_my2_dy"],
          "a source's start is a month, the data table's %s" % start_of["lynas_my2_dy"])
    check(ids.get("list.add.control", {}).get("event_only") is True, "list.add.control is an event key")
    # A list of statuses (docs/model.md section 12) comes as the names the scenario writes.
    eligible = ids.get("stockpile.eligible", {})
    check(eligible.get("kind") == "statuses"
          and eligible.get("value", "").split() == SC["stockpile"]["eligible"].split()
          and eligible.get("default") == "none watch control",
          "stockpile.eligible: kind statuses, the scenario's names %s, default every status" % eligible)
    check(not any(x["section"] in ("scenario", "stochastic", "list_process") for x in lv["levers"]),
          "the fixed [scenario] keys and ensemble-only keys are not offered")
    check(all(e["lever"] in ids for e in lv["timeline"]),
          "every event of the timeline names a lever of the list")

    # ---------------------------------------------------------------- bad requests
    def bad(body, code, what, same_as=None, path="/api/run", headers=None):
        status, ctype, data = request(port, "POST", path, body, headers)
        err = error_of(data)
        ok = status == code and err is not None and err.startswith("resim: ")
        if same_as is not None:
            line = cli(*same_as).stderr.decode().strip()
            ok = ok and err == line
            what += f" (same line as the command line: {line})"
        check(ok, f"{what}: {status} {err}")

    bad("{\"set\": ", 400, "truncated JSON")
    bad("[1, 2]", 400, "JSON that is not an object")
    bad("{\"set\": {}, \"set\": {}}", 400, "a field given twice")
    bad({"sets": {}}, 400, "an unknown request field")
    bad({"set": []}, 400, "set that is not an object")
    bad({"set": {"policy.approval.watch": None}}, 400, "a null value")
    bad({"set": {"policy.approval.watch": [0.3]}}, 400, "a list as value")
    bad({"set": {"policy.approval.watch": 2}}, 400, "a rate outside [0, 1]",
        same_as=["policy.approval.watch=2"])
    bad({"set": {"policy.approval.watch": "lots"}}, 400, "a value that is not a number",
        same_as=["policy.approval.watch=lots"])
    bad({"set": {"policy.no_such_lever": 1}}, 400, "an unknown key",
        same_as=["policy.no_such_lever=1"])
    bad({"set": {"2026-03.approval.sometimes": 0.5}}, 400, "an unknown event key",
        same_as=["2026-03.approval.sometimes=0.5"])
    bad({"set": {"alt.nowhere_dy.delay_months": 3}}, 400, "an unknown source",
        same_as=["alt.nowhere_dy.delay_months=3"])
    bad({"set": {"policy.delay_mean_days.watch": -5}}, 400, "a negative delay",
        same_as=["policy.delay_mean_days.watch=-5"])
    bad({"set": {"scenario.data": "/etc"}}, 400, "a data folder (no file paths from the client)")
    bad({"set": {"scenario.months": 12000}}, 400, "the horizon (fixed at start)")
    bad({"set": {"stochastic.lot_tonnes": 2}}, 400, "a key that only ensembles read")
    bad({"set": {"nodot": 1}}, 400, "a key without a section")
    bad({"set": {"policy.approval.watch": "0.3\n[scenario]"}}, 400, "a value with a line break")
    bad({"set": {"2026-03.list.set": "x" * 5000}}, 400, "a value over 160 characters")
    bad({"set": {f"2026-03.approval.w{i}": 1 for i in range(300)}}, 400, "300 keys at once")
    bad({"by": "importer"}, 400, "grouping by importer")
    bad({"metrics": ["price"]}, 400, "an unknown column")
    bad(b"{\"set\": {\"policy.approval.watch\": \"\xff\xfe\"}}", 400, "text that is not UTF-8")
    bad(b"{" * 100000, 413, "a 100 kB body (with Content-Length)")
    # A 2 GB body is refused from its Content-Length, before any of it is read.
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n\r\n{"
                  % (port, 2 << 30))
        answer = s.recv(4096)
    check(answer.startswith(b"HTTP/1.1 413"), "a 2 GB Content-Length: " + answer.split(b"\r\n")[0].decode())
    # A 2 MB body sent whole: the server may close before the client has sent it all.
    try:
        status, _, data = request(port, "POST", "/api/run", b"{" + b" " * (2 << 20) + b"}")
        check(status == 413, f"a 2 MB body: {status}")
    except (BrokenPipeError, ConnectionResetError) as e:
        check(True, f"a 2 MB body: the server answered 413 and closed before reading it ({e.__class__.__name__})")

    # A huge chunked body, without Content-Length.
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/api/run", body=iter([b"[" + b" " * 65536] * 4), encode_chunked=True)
    r = c.getresponse()
    check(r.status == 413 and error_of(r.read()) is not None, f"a 256 kB chunked body: {r.status}")
    c.close()

    status, _, data = request(port, "GET", "/api/run")
    check(status == 405, f"GET /api/run: {status}")
    status, _, data = request(port, "POST", "/api/levers", {})
    check(status == 405, f"POST /api/levers: {status}")
    for path in ["/api/nothing", "/etc/passwd", "/../CMakeLists.txt", "/web/app.js", "/%2e%2e/README.md"]:
        status, _, data = request(port, "GET", path)
        check(status == 404, f"GET {path}: {status}")
    status, _, data = request(port, "GET", "/", headers={"Host": "attacker.example:%d" % port})
    check(status == 403, f"a request naming another host: {status}")
    status, ctype, data = request(port, "GET", "/")
    check(status == 200 and ctype.startswith("text/html") and b"uPlot.iife.min.js" in data,
          "GET / serves the page")
    status, ctype, data = request(port, "GET", "/uPlot.iife.min.js")
    check(status == 200 and len(data) > 20000, f"GET /uPlot.iife.min.js serves uPlot ({len(data)} bytes)")

    # ---------------------------------------------------------------- runs
    def rows(csv_bytes):
        return list(csv.DictReader(io.StringIO(csv_bytes.decode())))

    cases = [
        {},
        {"2026-07.approval.watch": "0.35"},
        {"2026-07.approval.watch": 0.35, "policy.military_ban": True},
        {"stockpile.enabled": 0, "alt.lynas_my2_dy.delay_months": 12, "2027-01.list.add.control": 40},
        {"2026-02.delay_mean_days.watch": 300, "demand.growth.Dy": 0.05},
    ]
    for set_ in cases:
        for by in ["status", "none"]:
            status, ctype, got = request(port, "POST", "/api/run.csv", {"set": set_, "by": by})
            status_j, _, js = request(port, "POST", "/api/run", {"set": set_, "by": by})
            j = json.loads(js)
            want = cli(*j["command"].split(" --set ")[1:], by=by)
            check(status == 200 and ctype.startswith("text/csv") and got == want.stdout,
                  f"run.csv equals `{j['command']}` byte for byte ({len(got)} bytes)")
            r = rows(want.stdout)
            same = status_j == 200 and j["rows"] == len(r) and j["baseline"] == (not set_)
            for k, name in enumerate(j["columns"][5:]):
                col = j["data"][name]
                same = same and all((x is None and row[name] == "") or
                                    (x is not None and float(row[name]) == x)
                                    for x, row in zip(col, r))
            same = same and all(j["data"]["group"][i] == row["group"] and
                                j["data"]["date"][i] == row["date"] for i, row in enumerate(r))
            check(same, f"run JSON equals the CSV exactly ({len(j['columns']) - 5} columns, by {by})")
    h = json.loads(request(port, "POST", "/api/run", {})[2])["headline"]
    summ = subprocess.run([RESIM, "run", SCENARIO, "--summary"], capture_output=True).stderr.decode()
    dy = [x for x in h if x["element"] == "Dy"][0]
    # The headline's first line per element: all importers, with the national
    # stockpile: lowest availability, its month, cumulative shortfall.
    m = re.search(r"^Dy\s+all\s+(\S+)%\s+(\S+)\s+(\S+) t", summ, re.M)
    check(m is not None and f"{dy['cum_shortfall']:.2f}" == m.group(3)
          and f"{100 * dy['min_availability']:.1f}" == m.group(1) and dy["min_date"] == m.group(2),
          f"headline numbers equal --summary (Dy: {m.group(0) if m else summ})")

    status, ctype, ini = request(port, "POST", "/api/scenario.ini",
                                 {"set": {"2026-07.approval.watch": "0.35", "stockpile.enabled": False,
                                          "2026-07.list.add.watch": 10}})
    check(status == 200 and ini.decode().endswith(
        "[scenario]\nbase = japan-2026.ini\n\n[2026-07]\napproval.watch = 0.35\nlist.add.watch = 10\n"
        "\n[stockpile]\nenabled = 0\n"), "scenario.ini names its base and groups keys by section")
    bad({"set": {"policy.approval.watch": 7}}, 400, "scenario.ini with a bad value",
        path="/api/scenario.ini", same_as=["policy.approval.watch=7"])

    # ---------------------------------------------------------------- concurrency
    variants = [f"{v / 20:.2f}" for v in range(20)]
    expected = {}
    for v in variants:
        r = rows(cli(f"2026-07.approval.watch={v}").stdout)
        expected[v] = [float(x["availability"]) for x in r]
    lat, errors, lock = [], [], threading.Lock()
    N, CLIENTS = 2000, 16

    def client(k):
        rnd = random.Random(k)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(N // CLIENTS):
            v = rnd.choice(variants)
            t0 = time.perf_counter()
            try:
                status, _, data = request(port, "POST", "/api/run",
                                          {"by": "status", "metrics": ["availability"],
                                           "set": {"2026-07.approval.watch": v}}, conn=conn)
                dt = time.perf_counter() - t0
                j = json.loads(data) if status == 200 else None
                ok = (j is not None and j["set"] == {"2026-07.approval.watch": v}
                      and j["data"]["availability"] == expected[v])
            except (OSError, http.client.HTTPException, ValueError) as e:
                ok, status, dt = False, repr(e), 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                lat.append(dt)
                if not ok:
                    errors.append((k, i, v, status))
        conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    check(len(lat) == N and not errors,
          f"{N} requests from {CLIENTS} concurrent clients: {len(errors)} failed or got another's "
          f"result {errors[:3]} (in {wall:.1f} s; p50 {1000 * lat[len(lat) // 2]:.1f} ms, "
          f"p99 {1000 * lat[int(0.99 * len(lat))]:.1f} ms; not asserted)")
finally:
    server.send_signal(signal.SIGTERM)
    try:
        out, err = server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        out, err = server.communicate()
check(server.returncode == 0, f"SIGTERM stops the server cleanly (exit {server.returncode}) {err.strip()}")

# ---------------------------------------------------------------- slow clients
import socket
server, port = start(SCENARIO, "--port", "0", "--timeout", "1")
try:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 40\r\n\r\n" % port)
        # A byte every 0.3 s: never idle for 1 s, but 9 s for the whole body.
        sent = 0
        try:
            for k in range(30):
                time.sleep(0.3)
                s.sendall(b" ")
                sent += 1
        except (BrokenPipeError, ConnectionResetError):
            pass
    check(sent < 30, f"a body that trickles in for over --timeout 1 s is cut off (after {sent} bytes, "
          f"{0.3 * sent:.1f} s)")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 40\r\n\r\n" % port)
        t = time.perf_counter()
        answer = s.recv(4096)
        waited = time.perf_counter() - t
    check(not answer.startswith(b"HTTP/1.1 200") and waited < 10,
          f"an idle connection is closed after --timeout 1 s (after {waited:.1f} s)")
    status, _, data = request(port, "POST", "/api/run", {"metrics": ["availability"]})
    check(status == 200, "the server still answers after them")
finally:
    server.send_signal(signal.SIGTERM)
    server.communicate(timeout=30)
check(server.returncode == 0, f"SIGTERM stops the server cleanly (exit {server.returncode})")

# ---------------------------------------------------------------- saturation
server, port = start(SCENARIO, "--port", "0", "--runs", "1", "--wait", "0")
try:
    codes, lock = collections.Counter(), threading.Lock()
    wrong = []

    def burst(k):
        for i in range(8):
            v = f"{(k * 8 + i) % 20 / 20:.2f}"
            status, _, data = request(port, "POST", "/api/run",
                                      {"metrics": ["availability"], "by": "status",
                                       "set": {"2026-07.approval.watch": v}})
            j = json.loads(data)
            with lock:
                codes[status] += 1
                if status == 200 and j["data"]["availability"] != expected[v]:
                    wrong.append(v)
                if status == 503 and not j["error"].startswith("resim: "):
                    wrong.append(j)

    for attempt in range(5):
        threads = [threading.Thread(target=burst, args=(k,)) for k in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if codes[503] > 0:
            break
    check(codes[503] > 0 and set(codes) <= {200, 503} and not wrong,
          f"one run at a time and no wait: the others are answered 503 ({dict(codes)}), the runs are right")
finally:
    server.send_signal(signal.SIGTERM)
    server.communicate(timeout=30)
check(server.returncode == 0, f"SIGTERM stops the server cleanly (exit {server.returncode})")

# ---------------------------------------------------------------- command line
r = subprocess.run([RESIM, "serve", "--bind", "nowhere"], capture_output=True, text=True)
check(r.returncode == 2 and r.stderr.count("\n") == 1, "a bad --bind is a usage error: " + r.stderr.strip())
r = subprocess.run([RESIM, "serve", "no/such.ini", "--port", "0"], capture_output=True, text=True)
check(r.returncode == 1 and "no/such.ini" in r.stderr, "a missing scenario is an input error: " + r.stderr.strip())
r = subprocess.run([RESIM, "serve", "--port", "70000"], capture_output=True, text=True)
check(r.returncode == 2, "--port 70000 is a usage error")
r = subprocess.run([RESIM, "serve", "--help"], capture_output=True, text=True)
check(r.returncode == 0 and "--bind" in r.stdout, "resim serve --help")

print("all checks passed" if failures == 0 else f"{failures} check(s) failed")
sys.exit(1 if failures else 0)
