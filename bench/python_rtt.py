#!/usr/bin/env python3
"""64 B request/reply round trip on a pipe, Linux, measured in one run:

  C         wipc_bench run pipe.rtt.64 (wipc_request against its own C peer process)
  sync      wipc.Connection.request() against `wipc listen --reply echo` (a C server process)
  asyncio   await wipc.aio.Connection.request(), one at a time, against the same server

Usage: PYTHONPATH=build/linux/bindings/python /usr/bin/python3 bench/python_rtt.py [BUILD_DIR] [--n N]
Prints one line per figure (median and mean microseconds per round trip) and the ratios to C.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import wipc
import wipc.aio


def percentiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.fmean(samples)


def sync_rtt(name: str, n: int) -> list[float]:
    out = []
    with wipc.connect(name, timeout=5) as conn:
        payload = bytes(64)
        for _ in range(200):
            conn.request(payload, timeout=5)
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request(payload, timeout=5)
            out.append((time.perf_counter() - t0) * 1e6)
    return out


def async_rtt(name: str, n: int) -> list[float]:
    async def main() -> list[float]:
        out = []
        async with wipc.aio.connect(name, timeout=5) as conn:
            payload = bytes(64)
            for _ in range(200):
                await conn.request(payload, timeout=5)
            for _ in range(n):
                t0 = time.perf_counter()
                await conn.request(payload, timeout=5)
                out.append((time.perf_counter() - t0) * 1e6)
        return out
    return asyncio.run(main())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build", nargs="?", default=str(Path(__file__).resolve().parents[1] / "build" / "linux"))
    ap.add_argument("--n", type=int, default=10000, help="round trips per Python figure")
    opts = ap.parse_args()
    n, build = opts.n, Path(opts.build)
    c = subprocess.run([str(build / "bench" / "wipc_bench"), "run", "pipe.rtt.64"], capture_output=True, text=True,
                       timeout=120, check=True)
    cfig = json.loads(c.stdout.strip().splitlines()[-1])
    name = f"pyrtt-{os.getpid()}"
    server = subprocess.Popen([str(build / "wipc"), "listen", f"pipe://{name}", "--reply", "echo", "--quiet"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().startswith("listening")
        s_med, s_mean = percentiles(sync_rtt(name, n))
        a_med, a_mean = percentiles(async_rtt(name, n))
    finally:
        server.terminate()
        server.wait(10)
    print(f"pipe 64 B round trip, Linux, libwipc {wipc.__version__}, Python {sys.version.split()[0]}, n={n}")
    print(f"  C  wipc_request (wipc_bench)         p50 {cfig['p50']:8.1f} us   mean {cfig['mean']:8.1f} us")
    print(f"  Python sync conn.request()           p50 {s_med:8.1f} us   mean {s_mean:8.1f} us   "
          f"p50 x{s_med / cfig['p50']:.2f} of C")
    print(f"  Python asyncio await conn.request()  p50 {a_med:8.1f} us   mean {a_mean:8.1f} us   "
          f"p50 x{a_med / cfig['p50']:.2f} of C")


if __name__ == "__main__":
    main()
