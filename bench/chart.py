#!/usr/bin/env python3
"""bench/chart.py - the benchmark table as an SVG chart: for each platform of a
bench/results/latest.json (Linux, Wine), the round-trip p50 latency by message size and the one-way
throughput by message size, wipc's transports next to the raw OS calls, nng and ZeroMQ. Drawn with
matplotlib (Debian python3-matplotlib, installed by scripts/deps). Called by bench/driver.py after
every run (bench/results/latest.svg, shown in the README); on its own:

    /usr/bin/python3 bench/chart.py [bench/results/latest.json] [out.svg]
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (impl, label, style): wipc solid, raw OS calls dashed, peer libraries dotted
RTT_SERIES = [
    ("pipe", "wipc pipe", "-"), ("shm", "wipc shm", "-"), ("shm0", "wipc shm spin_us=0", "-"), ("msg", "wipc msg", "-"),
    ("unix", "raw AF_UNIX stream", "--"), ("seqpacket", "raw AF_UNIX seqpacket", "--"),
    ("futex", "raw futex", "--"), ("spin", "raw spin", "--"),
    ("npipe", "raw CreateNamedPipeW", "--"), ("copydata", "raw WM_COPYDATA", "--"),
    ("mapev", "raw section + events", "--"), ("mapspin", "raw section + spin", "--"),
    ("nng", "nng pair1 ipc://", ":"), ("zmq", "ZeroMQ PAIR ipc://", ":"),
]
TPUT_SERIES = [
    ("pipe", "wipc pipe", "-"), ("shm", "wipc shm", "-"), ("shmzc", "wipc shm zero-copy", "-"), ("msg", "wipc msg", "-"),
    ("unix", "raw AF_UNIX stream", "--"), ("npipe", "raw CreateNamedPipeW", "--"), ("memcpy", "memcpy", "--"),
    ("nng", "nng pair1 ipc://", ":"), ("zmq", "ZeroMQ PAIR ipc://", ":"),
]
PLATFORM_TITLES = {"linux": "Linux (native)", "wine": "Windows build under Wine"}


def size_label(n):
    if n >= 1 << 20:
        return "%d MiB" % (n >> 20)
    if n >= 1 << 10:
        return "%d KiB" % (n >> 10)
    return "%d B" % n


def series(med, impl, metric, key):
    """[(size, value)] of the cases impl.metric.* that have `key`, by size."""
    pts = []
    for cid, m in med.items():
        i, mt, size = cid.split(".")
        if i == impl and mt == metric and "error" not in m and m.get(key):
            pts.append((int(size), m[key]))
    return sorted(pts)


def draw(doc, out_path):
    """Writes the chart of `doc` (a latest.json document) to out_path (SVG). Returns out_path."""
    import matplotlib
    matplotlib.use("Agg")   # no display: files only
    import matplotlib.pyplot as plt

    plats = [p for p in ("linux", "wine") if p in doc.get("platforms", {})]
    if not plats:
        raise ValueError("no platform in the results")
    c = plt.get_cmap("tab10").colors
    # one colour per kind: a raw baseline has the colour of what it is the floor of on each platform
    colors = {"pipe": c[0], "shm": c[1], "shm0": "#f5b06a", "shmzc": "#a0522d", "msg": c[2],
              "unix": c[3], "npipe": c[3], "seqpacket": c[4], "copydata": c[4], "futex": c[5], "mapev": c[5],
              "spin": c[6], "mapspin": c[6], "memcpy": c[7], "nng": c[8], "zmq": c[9]}
    fig, axes = plt.subplots(len(plats), 2, figsize=(13, 4.8 * len(plats)), squeeze=False)
    for row, plat in enumerate(plats):
        med = doc["platforms"][plat]["median"]
        for col, (metric, key, ser, ylabel) in enumerate((
                ("rtt", "p50", RTT_SERIES, "round trip p50 (us, log)"),
                ("tput", "msgs_s", TPUT_SERIES, "one-way messages/s (log)"))):
            ax = axes[row][col]
            sizes = set()
            for impl, label, style in ser:
                pts = series(med, impl, metric, key)
                if not pts:
                    continue
                sizes.update(s for s, _ in pts)
                ax.plot([s for s, _ in pts], [v for _, v in pts], style, marker="o", markersize=4,
                        linewidth=2.2 if style == "-" else 1.4, color=colors[impl], label=label)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(sorted(sizes))
            ax.set_xticklabels([size_label(s) for s in sorted(sizes)])
            ax.minorticks_off()
            ax.set_xlabel("message size")
            ax.set_ylabel(ylabel)
            ax.grid(True, which="major", alpha=0.3)
            ax.set_title("%s: %s" % (PLATFORM_TITLES.get(plat, plat),
                                     "latency by size (lower is better)" if metric == "rtt" else
                                     "throughput by size (higher is better)"), fontsize=10)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7, loc="best")
    title = doc.get("title", "")
    fig.suptitle("wipc benchmark: %s" % title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(out_path, format="svg", metadata={"Date": None})   # no timestamp: the file changes only with the data
    plt.close(fig)
    return out_path


def main(argv):
    src = argv[1] if len(argv) > 1 else os.path.join(ROOT, "bench", "results", "latest.json")
    out = argv[2] if len(argv) > 2 else os.path.join(os.path.dirname(src), "latest.svg")
    with open(src) as f:
        doc = json.load(f)
    print(draw(doc, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
