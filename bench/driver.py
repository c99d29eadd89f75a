#!/usr/bin/env python3
"""bench/driver.py - runs wipc_bench (Linux, and the Windows build under Wine) several times, takes the
median of every figure, prints the tables and the PASS/FAIL summary of the issue-6 targets, and writes
bench/results/latest.json, latest.txt and the chart latest.svg (bench/chart.py). Called by scripts/bench (see there for the options).

Exit status: 0 when every measurement produced a number (targets are informational), 1 otherwise.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

from chart import size_label   # bench/chart.py: matplotlib is imported only when it draws

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---- labels -------------------------------------------------------------------------------------

LABELS = {
    "pipe": "wipc pipe (request/reply)",
    "pipesr": "wipc pipe (send/recv)",
    "pipenobig": "wipc pipe, WIPC_PIPE_BULK=0",
    "pipewb": "wipc pipe (write-behind, send/recv)",
    "shm": "wipc shm (request/reply)",
    "shmsr": "wipc shm (send/recv)",
    "shm0": "wipc shm spin_us=0",
    "shmzc": "wipc shm zero-copy",
    "msg": "wipc msg (msg_send)",
    "unix": "raw AF_UNIX stream",
    "seqpacket": "raw AF_UNIX seqpacket",
    "seqconn": "raw seqpacket, 1 conn/msg",
    "futex": "raw futex ping-pong",
    "spin": "raw spin ping-pong",
    "memcpy": "memcpy",
    "npipe": "raw CreateNamedPipeW",
    "copydata": "raw WM_COPYDATA",
    "mapev": "raw section + events",
    "mapspin": "raw section + spin",
    "nng": "nng pair1 ipc://",
    "zmq": "ZeroMQ PAIR ipc://",
}
ORDER = list(LABELS)
# Execution order: the cases a target compares run next to each other (the machine's load drifts),
# grouped by metric and size.
RUN_ORDER = ["pipe", "pipeasync", "pipewb", "pipenobig", "unix", "npipe", "pipesr", "msg", "seqpacket", "copydata", "seqconn", "shm", "spin", "mapspin",
             "shm0", "futex", "mapev", "shmsr", "shmzc", "memcpy", "nng", "zmq", "scale", "idle"]
METRIC_ORDER = ["rtt", "tput", "rate", "ticks"]


def run_key(cid):
    impl, metric, size = cid.split(".")
    return (METRIC_ORDER.index(metric) if metric in METRIC_ORDER else 9, int(size),
            RUN_ORDER.index(impl) if impl in RUN_ORDER else 99)
TPUT_LABELS = {"pipe": "wipc pipe (wipc_send)", "pipeasync": "wipc pipe (wipc_send_async)", "pipewb": "wipc pipe (write-behind)", "shm": "wipc shm (wipc_send)", "msg": "wipc msg (msg_send, sync)"}

# ---- targets: (platform, name, numerator, denominator, metric, op, limit, info) ---------
# denominator None: the numerator's own value is compared with the limit (memory, idle cost).

TARGETS = [
    ("linux", "pipe round trip 64 B vs raw AF_UNIX", "pipe.rtt.64", "unix.rtt.64", "p50", "<=", 1.15, False),
    ("linux", "pipe round trip 4 KiB vs raw AF_UNIX", "pipe.rtt.4096", "unix.rtt.4096", "p50", "<=", 1.15, True),
    ("linux", "pipe round trip 64 KiB vs raw AF_UNIX", "pipe.rtt.65536", "unix.rtt.65536", "p50", "<=", 1.15, True),
    ("linux", "pipe round trip 64 B vs nng", "pipe.rtt.64", "nng.rtt.64", "p50", "<=", 0.5, False),
    ("linux", "pipe round trip 64 B vs ZeroMQ", "pipe.rtt.64", "zmq.rtt.64", "p50", "<=", 0.5, False),
    ("linux", "shm round trip 64 B (defaults) vs raw spin", "shm.rtt.64", "spin.rtt.64", "p50", "<=", 3.0, False),
    ("linux", "shm round trip 64 B spin_us=0 vs raw futex", "shm0.rtt.64", "futex.rtt.64", "p50", "<=", 1.2, False),
    ("linux", "shm 1 MiB throughput wipc_send vs memcpy", "shm.tput.1048576", "memcpy.tput.1048576", "gbps", ">=", 0.5, False),
    ("linux", "shm 1 MiB throughput zero-copy vs memcpy", "shmzc.tput.1048576", "memcpy.tput.1048576", "gbps", ">=", 0.8, False),
    ("linux", "msg round trip 64 B vs raw seqpacket", "msg.rtt.64", "seqpacket.rtt.64", "p50", "<=", 1.3, False),
    ("linux", "msg round trip 64 B vs seqpacket conn/msg", "msg.rtt.64", "seqconn.rtt.64", "p50", "<=", 1.3, True),
    ("linux", "pipe server 64 clients vs 8 clients", "scale.rate.64", "scale.rate.8", "msgs_s", ">=", 0.8, False),
    ("linux", "pipe server 1,000 connections vs 8 clients", "scale.rate.1000", "scale.rate.8", "msgs_s", ">=", 0.8, False),
    ("linux", "pipe server memory per idle connection (RSS)", "scale.rate.1000", None, "rss_kib_per_conn", "<=", 64, False),
    ("linux", "idle process: CPU ticks in 10 s", "idle.ticks.10", None, "ticks", "<=", 0, False),
    ("linux", "idle process: thread wake-ups in 10 s", "idle.ticks.10", None, "wakeups", "<=", 0, False),
    ("wine", "pipe round trip 64 B vs raw CreateNamedPipeW", "pipe.rtt.64", "npipe.rtt.64", "p50", "<=", 1.2, False),
    ("wine", "pipe round trip 4 KiB vs raw CreateNamedPipeW", "pipe.rtt.4096", "npipe.rtt.4096", "p50", "<=", 1.2, True),
    ("wine", "pipe round trip 64 KiB vs raw CreateNamedPipeW", "pipe.rtt.65536", "npipe.rtt.65536", "p50", "<=", 1.2, True),
    ("wine", "msg round trip 64 B vs raw WM_COPYDATA", "msg.rtt.64", "copydata.rtt.64", "p50", "<=", 1.2, False),
    ("wine", "shm round trip 64 B spin_us=0 vs section + events", "shm0.rtt.64", "mapev.rtt.64", "p50", "<=", 1.2, True),
    ("wine", "pipe server 64 clients vs 8 clients", "scale.rate.64", "scale.rate.8", "msgs_s", ">=", 0.8, True),
    ("wine", "pipe server 1,000 connections vs 8 clients", "scale.rate.1000", "scale.rate.8", "msgs_s", ">=", 0.8, True),
    ("wine", "pipe server memory per idle connection (RSS)", "scale.rate.1000", None, "rss_kib_per_conn", "<=", 64, True),
    ("wine", "idle process: CPU ticks in 10 s", "idle.ticks.10", None, "ticks", "<=", 0, True),
    ("linux", "pipe 1 MiB throughput, section vs through the pipe", "pipe.tput.1048576", "pipenobig.tput.1048576", "gbps", ">=", 1.0, True),
    ("linux", "pipe 16 MiB throughput, section vs through the pipe", "pipe.tput.16777216", "pipenobig.tput.16777216", "gbps", ">=", 1.0, True),
    ("wine", "pipe 1 MiB throughput, section vs through the pipe", "pipe.tput.1048576", "pipenobig.tput.1048576", "gbps", ">=", 1.0, True),
    ("wine", "pipe 16 MiB throughput, section vs through the pipe", "pipe.tput.16777216", "pipenobig.tput.16777216", "gbps", ">=", 1.0, True),
    # One-way 64 B, frames queued behind a full pipe written together (pipe_wq.c)
    ("linux", "pipe 64 B one-way send_async vs ZeroMQ", "pipeasync.tput.64", "zmq.tput.64", "msgs_s", ">=", 2.0, False),
    ("linux", "pipe 64 B one-way send_async vs raw AF_UNIX", "pipeasync.tput.64", "unix.tput.64", "msgs_s", ">=", 2.0, False),
    ("wine", "pipe 64 B one-way send_async vs raw CreateNamedPipeW", "pipeasync.tput.64", "npipe.tput.64", "msgs_s", ">=", 2.0, False),
    # ... and with WIPC_PIPE_WRITE_BEHIND (wipc_send queues behind a busy pipe); a lone message must not wait
    ("linux", "pipe 64 B one-way write-behind vs ZeroMQ", "pipewb.tput.64", "zmq.tput.64", "msgs_s", ">=", 2.0, False),
    ("linux", "pipe 64 B one-way write-behind vs raw AF_UNIX", "pipewb.tput.64", "unix.tput.64", "msgs_s", ">=", 2.0, False),
    ("linux", "pipe round trip 64 B write-behind send/recv vs raw AF_UNIX", "pipewb.rtt.64", "unix.rtt.64", "p50", "<=", 1.10, False),
    ("wine", "pipe 64 B one-way write-behind vs raw CreateNamedPipeW", "pipewb.tput.64", "npipe.tput.64", "msgs_s", ">=", 2.0, False),
    ("wine", "pipe round trip 64 B write-behind send/recv vs raw CreateNamedPipeW", "pipewb.rtt.64", "npipe.rtt.64", "p50", "<=", 1.10, False),
]

# ---- running ------------------------------------------------------------------------------------


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def list_cases(cmd):
    out = subprocess.run(cmd + ["list"], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError("%s list failed: %s" % (" ".join(cmd), out.stderr.strip()))
    return [l.strip() for l in out.stdout.splitlines() if l.strip()]


def run_cases(cmd, ids, quick, env):
    """Runs the cases in as few processes as possible; a case that crashes or hangs is recorded as an
    error and the rest continue in a new process. Returns {id: result dict}."""
    results = {}
    remaining = list(ids)
    while remaining:
        args = cmd + ["run"] + (["--quick"] if quick else []) + remaining
        t0 = time.time()
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        got = []
        try:
            for line in proc.stdout:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("id") in remaining and r["id"] not in results:
                    results[r["id"]] = r
                    got.append(r["id"])
                    if "error" in r:
                        log("    %-24s ERROR %s" % (r["id"], r["error"]))
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        remaining = [i for i in remaining if i not in results]
        if remaining and proc.returncode not in (0, 1, 3):
            # crashed in the first case that has no result
            results[remaining[0]] = {"id": remaining[0], "error": "the benchmark process died (exit %s): %s" %
                                     (proc.returncode, err.strip()[-300:])}
            log("    %-24s ERROR process died (exit %s)" % (remaining[0], proc.returncode))
            remaining = remaining[1:]
        elif remaining and proc.returncode in (0, 1):
            for i in remaining:
                results[i] = {"id": i, "error": "no result reported"}
            remaining = []
        log("    %d case(s) in %.1f s" % (len(got), time.time() - t0))
    return results


# the scale.rate.1000 and idle.ticks.10 lines' own figures (bench/b_scale.c)
EXTRA_KEYS = ("rss_kib_per_conn", "pss_kib_per_conn", "connect_p50", "connect_p99", "connect_max", "accept_p50",
              "accept_p99", "accept_max", "ticks", "wakeups", "secs")


def median_result(runs):
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[-1].get("error", "no result") if runs else "not run"}
    med = {}
    for k in ("p50", "p99", "p999", "mean", "msgs_s", "gbps") + EXTRA_KEYS:
        vals = [r[k] for r in ok if k in r]
        if vals:
            med[k] = statistics.median(vals)
    med["runs_ok"] = len(ok)
    if len(ok) < len(runs):
        med["errors"] = [r["error"] for r in runs if "error" in r]
    return med


# ---- formatting ---------------------------------------------------------------------------------


def fus(v):
    if v is None:
        return "-"
    if v >= 1000:
        return "%.0f" % v
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def frate(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e3:
        return "%.1fk" % (v / 1e3)
    return "%.0f" % v


def fgb(v):
    return "-" if v is None else ("%.2f" % v if v < 100 else "%.0f" % v)


def split_id(cid):
    impl, metric, size = cid.split(".")
    return impl, metric, int(size)



def tables(plat, med):
    lines = []
    rtt_sizes = [64, 4096, 65536]
    impls = sorted({split_id(c)[0] for c in med if split_id(c)[1] == "rtt"}, key=lambda i: ORDER.index(i) if i in ORDER else 99)
    lines.append("Round trip (us)                    " + "".join("%-26s" % size_label(s) for s in rtt_sizes))
    lines.append("%-34s" % "" + "".join("%8s%8s%8s  " % ("p50", "p99", "p99.9") for _ in rtt_sizes))
    for impl in impls:
        row = "%-34s" % LABELS.get(impl, impl)
        for s in rtt_sizes:
            m = med.get("%s.rtt.%d" % (impl, s))
            if not m:
                row += "%8s%8s%8s  " % ("", "", "")
            elif "error" in m:
                row += "%24s  " % "error"
            else:
                row += "%8s%8s%8s  " % (fus(m.get("p50")), fus(m.get("p99")), fus(m.get("p999")))
        lines.append(row.rstrip())
    lines.append("")
    tput_sizes = sorted({split_id(c)[2] for c in med if split_id(c)[1] == "tput"})
    impls = sorted({split_id(c)[0] for c in med if split_id(c)[1] == "tput"}, key=lambda i: ORDER.index(i) if i in ORDER else 99)
    lines.append("One-way throughput                 " + "".join("%-20s" % size_label(s) for s in tput_sizes))
    lines.append("%-34s" % "" + "".join("%9s%9s  " % ("msgs/s", "GB/s") for _ in tput_sizes))
    for impl in impls:
        row = "%-34s" % TPUT_LABELS.get(impl, LABELS.get(impl, impl))
        for s in tput_sizes:
            m = med.get("%s.tput.%d" % (impl, s))
            if not m:
                row += "%9s%9s  " % ("", "")
            elif "error" in m:
                row += "%18s  " % "error"
            else:
                row += "%9s%9s  " % (frate(m.get("msgs_s")), fgb(m.get("gbps")))
        lines.append(row.rstrip())
    scale = sorted((split_id(c)[2], c) for c in med if split_id(c)[0] == "scale" and split_id(c)[1] == "rate")
    if scale:
        lines.append("")
        lines.append("Pipe server, callbacks, 64 B requests: aggregate msgs/s by client connections (1 per process;")
        lines.append("1000: 8 processes x 125 threads, one connection each)")
        lines.append("%-34s" % "clients" + "".join("%10d" % n for n, _ in scale))
        lines.append("%-34s" % "requests/s" + "".join("%10s" % (frate(med[c].get("msgs_s")) if "error" not in med[c] else "error")
                                                      for _, c in scale))
    big = med.get("scale.rate.1000")
    if big and "error" not in big and "rss_kib_per_conn" in big:
        lines.append("%-34s %.1f KiB RSS, %.1f KiB PSS (server process, /proc; Wine: working set, private bytes)" % (
            "memory per idle connection", big["rss_kib_per_conn"], big.get("pss_kib_per_conn", 0)))
        lines.append("%-34s p50 %s  p99 %s  max %s us (wipc_pipe_connect, all at once)" % (
            "connect, 1,000 connecting", fus(big.get("connect_p50")), fus(big.get("connect_p99")), fus(big.get("connect_max"))))
        lines.append("%-34s p50 %s  p99 %s  max %s us (200 sequential wipc_pipe_connect)" % (
            "accept with 1,000 open", fus(big.get("accept_p50")), fus(big.get("accept_p99")), fus(big.get("accept_max"))))
    idle = med.get("idle.ticks.10")
    if idle:
        lines.append("")
        if "error" in idle:
            lines.append("Idle process: error")
        else:
            wk = idle.get("wakeups")
            lines.append("Idle process (64 idle pipe clients, a blocked shm pair, a msg endpoint), %.1f s: %d CPU ticks, %s" % (
                idle.get("secs", 10), idle.get("ticks", 0),
                "%d thread wake-ups" % wk if wk is not None and wk >= 0 else "wake-ups not measurable here"))
    return lines


def summary(platforms):
    rows = []
    for plat, name, num, den, metric, op, limit, info in TARGETS:
        if plat not in platforms:
            continue
        med = platforms[plat]["median"]
        a = med.get(num)
        b = med.get(den) if den else {metric: 1.0}   # absolute: the value itself against the limit
        row = {"platform": plat, "target": name, "num": num, "den": den, "metric": metric, "op": op, "limit": limit, "info": info}
        if a is None or b is None:
            if info:
                continue   # an informational figure this build does not measure
            row.update(status="N/A", why="%s not measured" % (num if a is None else den))
        elif "error" in a or "error" in b or metric not in a or metric not in b or (den and not b[metric]):
            row.update(status="N/A", why="measurement failed")
        else:
            ratio = a[metric] / b[metric]
            if not den and metric == "wakeups" and ratio < 0:
                continue   # not measurable on this platform
            ok = ratio <= limit if op == "<=" else ratio >= limit
            row.update(ratio=ratio, a=a[metric], b=b[metric], status=("info" if info else ("PASS" if ok else "FAIL")),
                       met=ok)
        rows.append(row)
    return rows


def summary_lines(rows):
    lines = ["Targets (ratio of medians; informational)"]
    for r in rows:
        unit = {"p50": "us", "gbps": "GB/s", "msgs_s": "msgs/s", "rss_kib_per_conn": "KiB", "ticks": "ticks",
                "wakeups": "wake-ups"}[r["metric"]]
        if "ratio" in r and not r["den"]:
            status = r["status"] if r["status"] != "info" else ("info:ok" if r["met"] else "info:no")
            lines.append("%-7s %-5s %-50s %5.4g %s %-5s (%s)" % (status, r["platform"], r["target"], r["ratio"], r["op"],
                                                            r["limit"], unit))
        elif "ratio" in r:
            status = r["status"] if r["status"] != "info" else ("info:ok" if r["met"] else "info:no")
            fmt = (lambda v: frate(v)) if r["metric"] == "msgs_s" else (lambda v: "%.3g" % v)
            lines.append("%-7s %-5s %-50s %5.2f %s %-5s (%s / %s %s)" % (status, r["platform"], r["target"], r["ratio"], r["op"],
                                                                    r["limit"], fmt(r["a"]), fmt(r["b"]), unit))
        else:
            lines.append("%-7s %-5s %-50s %s" % (r["status"], r["platform"], r["target"], r["why"]))
    return lines


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except OSError:
        return "?"


def update_readme(text):
    path = os.path.join(ROOT, "README.md")
    with open(path, encoding="utf-8") as f:
        readme = f.read()
    section = ("## Benchmarks\n\n"
               "```sh\n"
               "scripts/bench            # about 5 minutes; --quick for a smoke run, --only REGEX, --no-wine, --runs N\n"
               "```\n\n"
               "It builds what it needs (`scripts/build`), runs `bench/wipc_bench` three times on Linux and three times\n"
               "under Wine (the Windows build), and prints the median of every figure next to the raw OS calls and to\n"
               "nng / ZeroMQ, then the PASS/FAIL summary of the speed targets (informational: it exits 0 unless a\n"
               "measurement failed). Results: `bench/results/latest.json`, `latest.txt` and the chart `latest.svg`\n"
               "(`bench/chart.py`, matplotlib; shown below the table). Round trip = `wipc_request`\n"
               "answered with `wipc_reply` (msg: `wipc_msg_send`); throughput = `wipc_send` back to back until the\n"
               "peer acknowledges the last (the \"wipc_send_async\" row: `wipc_send_async` back to back; frames that\n"
               "queue behind a full pipe go out together, up to 64 KiB of them in one write: no added delay, a lone\n"
               "message still goes at once; the \"write-behind\" rows: both ends with `WIPC_PIPE_WRITE_BEHIND`\n"
               "(since 1.1), so `wipc_send` itself writes at once when it is lone (no send just before it, or an answer\n"
               "came in) and nothing is queued, and otherwise queues the frame\n"
               "for the I/O thread's batched writes and returns; `wipc_flush` waits until the queue is in the pipe).\n"
               "Pipe messages of 256 KiB and more (Windows: 64 KiB and more) go through a shared section between\n"
               "the two processes when both are on this machine (`WIPC_PIPE_BULK=0` in the environment turns that\n"
               "off: the \"WIPC_PIPE_BULK=0\" rows). The latest run on the 2-core development machine (a VM; noisy:\n"
               "compare ratios within one run, not across runs; see the notes below the table):\n\n"
               "```\n" + text.rstrip() + "\n```\n\n"
               "![latency and throughput by message size: wipc, the raw OS calls, nng, ZeroMQ](bench/results/latest.svg)\n\n")
    m = re.search(r"^## Benchmarks\n.*?(?=^## )", readme, flags=re.M | re.S)
    if m:
        # the hand-written notes on the targets not met (profiles) stay: update them by hand
        notes = re.search(r"^### (Why targets are not met|Reading these numbers).*", m.group(0), flags=re.M | re.S)
        readme = readme[:m.start()] + section + (notes.group(0) if notes else "") + readme[m.end():]
    else:
        m = re.search(r"^## Layout", readme, flags=re.M)
        if not m:
            log("README.md has no '## Layout' heading: section not added")
            return
        readme = readme[:m.start()] + section + readme[m.start():]
    with open(path, "w", encoding="utf-8") as f:
        f.write(readme)
    log("README.md: Benchmarks section updated")


def write_chart(doc, path):
    """bench/results/latest.svg (bench/chart.py, matplotlib): a missing matplotlib is reported, not fatal."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import chart
        chart.draw(doc, path)
    except ImportError as e:
        log("no chart: %s (scripts/deps installs python3-matplotlib)" % e)
    except Exception as e:   # a chart problem must not lose the measured results
        log("no chart: %s: %s" % (type(e).__name__, e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--linux", help="path of the Linux wipc_bench")
    ap.add_argument("--win", help="path of wipc_bench.exe (run under Wine)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=None, help="regex of case ids")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--readme", action="store_true", help="put the table into README.md's Benchmarks section")
    ap.add_argument("--readme-from", help="only put this saved table (latest.txt) into README.md, run nothing")
    a = ap.parse_args()
    if a.readme_from:
        with open(a.readme_from) as f:
            update_readme(f.read())
        return 0

    plats = {}
    if a.linux:
        plats["linux"] = [a.linux]
    if a.win:
        plats["wine"] = [os.path.join(ROOT, "scripts", "wine-run"), a.win]
    env = dict(os.environ)
    ids = {}
    for p, cmd in plats.items():
        ids[p] = list_cases(cmd)
        if a.only:
            ids[p] = [i for i in ids[p] if re.search(a.only, i)]
        ids[p].sort(key=run_key)
    t_start = time.time()
    raw = {p: {} for p in plats}
    for r in range(a.runs):
        for p, cmd in plats.items():
            log("run %d/%d, %s: %d cases" % (r + 1, a.runs, p, len(ids[p])))
            res = run_cases(cmd, ids[p], a.quick, env)
            for cid in ids[p]:
                raw[p].setdefault(cid, []).append(res.get(cid, {"id": cid, "error": "not run"}))
    platforms = {}
    for p in plats:
        med = {cid: median_result(runs) for cid, runs in raw[p].items()}
        platforms[p] = {"median": med, "runs": {cid: [{k: v for k, v in r.items() if k != "id"} for r in runs]
                                                for cid, runs in raw[p].items()}}
    rows = summary(platforms)
    wine_ver = ""
    if "wine" in plats:
        try:
            wine_ver = subprocess.run(["wine", "--version"], capture_output=True, text=True).stdout.strip()
        except OSError:
            pass
    head = "wipc %s, %s, %d CPUs, Linux %s%s; median of %d run(s)%s; %s" % (
        git_rev(), datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), os.cpu_count(), platform.release(),
        (", " + wine_ver) if wine_ver else "", a.runs, " (--quick)" if a.quick else "", "load %.1f" % os.getloadavg()[0])
    text = [head, ""]
    for p in plats:
        text.append("== %s %s" % (p, "(native)" if p == "linux" else "(the Windows build under Wine)"))
        text += tables(p, platforms[p]["median"])
        text.append("")
    text += summary_lines(rows)
    out = "\n".join(l.rstrip() for l in text) + "\n"
    print(out)
    failed = [(p, cid) for p in platforms for cid, m in platforms[p]["median"].items() if "error" in m]
    if failed:
        print("measurements that failed: " + ", ".join("%s:%s" % f for f in failed))
    os.makedirs(a.out, exist_ok=True)
    doc = {"title": head, "date": datetime.datetime.now().isoformat(timespec="seconds"), "git": git_rev(),
           "cpus": os.cpu_count(), "kernel": platform.release(), "wine": wine_ver, "runs": a.runs, "quick": a.quick,
           "seconds": round(time.time() - t_start, 1), "platforms": platforms, "summary": rows}
    with open(os.path.join(a.out, "latest.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    with open(os.path.join(a.out, "latest.txt"), "w") as f:
        f.write(out)
    write_chart(doc, os.path.join(a.out, "latest.svg"))
    log("results: %s/latest.json, latest.txt, latest.svg (%.0f s)" % (a.out, time.time() - t_start))
    if a.readme:
        update_readme(out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
