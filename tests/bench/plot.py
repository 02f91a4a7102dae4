"""Plot the spawn latency and redis throughput of a `make bench` run.

    python plot.py tests/bench/results/results.json tests/bench/results/bench.png

Reads the combined results.json written by `suite report` and draws two
panels: the median start-and-reap time of /bin/true and /bin/echo per
system, and redis-benchmark SET/GET throughput per system. Needs
matplotlib (make bench installs it into a virtualenv under build/).
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def spawn_rows(spawn):
    """(system, true ms, echo ms) in the report's order, skipping skips."""
    order, vals = [], {}
    for v in spawn.get("variants", []):
        if v.get("skipped") or not v.get("n"):
            continue
        s = v["system"]
        if s not in vals:
            order.append(s)
            vals[s] = [None, None]
        vals[s][1 if v.get("command") == "echo" else 0] = v.get("median_ms")
    return [(s, vals[s][0], vals[s][1]) for s in order]


def plot_spawn(ax, spawn):
    rows = spawn_rows(spawn)
    if not rows:
        ax.text(0.5, 0.5, "spawn latency: not measured", ha="center", va="center")
        ax.set_axis_off()
        return
    rows = rows[::-1]  # first system on top
    names = [r[0] for r in rows]
    y = range(len(rows))
    h = 0.4
    t = [r[1] or 0 for r in rows]
    e = [r[2] or 0 for r in rows]
    colors_t = ["#4c72b0" if not n.startswith("bare") else "#999999" for n in names]
    colors_e = ["#dd8452" if not n.startswith("bare") else "#cccccc" for n in names]
    ax.barh([i + h / 2 for i in y], t, h, color=colors_t, label="/bin/true")
    ax.barh([i - h / 2 for i in y], e, h, color=colors_e, label="/bin/echo hi (output captured)")
    for i, (a, b) in enumerate(zip(t, e)):
        if a:
            ax.text(a, i + h / 2, " %.2f" % a, va="center", fontsize=7)
        if b:
            ax.text(b, i - h / 2, " %.2f" % b, va="center", fontsize=7)
    ax.set_yticks(list(y))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("median start-and-reap time, ms (lower is better)")
    ax.set_title("Spawn latency (%d interleaved rounds)" % spawn.get("rounds", 0))
    ax.set_xlim(0, max(t + e) * 1.18)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)


def plot_redis(ax, redis):
    rows = [r for r in (redis or {}).get("rows", []) if r.get("median_rps")]
    if not rows:
        why = (redis or {}).get("skipped") or "not measured"
        ax.text(0.5, 0.5, "redis: " + why, ha="center", va="center", wrap=True, fontsize=8)
        ax.set_axis_off()
        return
    names = [r["system"] for r in rows]
    x = range(len(rows))
    w = 0.38
    for k, (test, color) in enumerate((("SET", "#4c72b0"), ("GET", "#55a868"))):
        vals = [r["median_rps"].get(test, 0) for r in rows]
        pos = [i + (k - 0.5) * w for i in x]
        ax.bar(pos, vals, w, color=color, label=test)
        for p, v, r in zip(pos, vals, rows):
            p99 = r.get("median_p99_ms", {}).get(test)
            label = "%.0fk" % (v / 1000)
            if p99 is not None:
                label += "\np99 %.1f ms" % p99
            ax.text(p, v, label, ha="center", va="bottom", fontsize=6.5)
    ax.set_xticks(list(x))
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylabel("requests per second (higher is better)")
    ax.set_title("redis-benchmark, %d requests x %d runs, %d clients" % (
        redis.get("requests", 0), redis.get("reps", 0), redis.get("clients", 0)))
    ymax = max(max(r["median_rps"].values()) for r in rows)
    ax.set_ylim(0, ymax * 1.25)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot.py results.json out.png")
    with open(sys.argv[1]) as f:
        res = json.load(f)
    spawn = res.get("spawn") or {}
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(15, 7), gridspec_kw={"width_ratios": [1.35, 1]})
    plot_spawn(a1, spawn)
    plot_redis(a2, res.get("redis"))
    meta = res.get("meta", {})
    fig.suptitle("sandlock benchmarks - kernel %s, %s CPUs, %s" % (
        spawn.get("kernel", meta.get("kernel", "?")), spawn.get("cpus", meta.get("cpus", "?")),
        spawn.get("time", meta.get("time", ""))), fontsize=11)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    print("wrote " + sys.argv[2])


if __name__ == "__main__":
    main()
