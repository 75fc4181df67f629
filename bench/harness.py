"""Side-by-side timing: opencodecs against the best peer, same data, same process.

Each workload names its sides (ours first, then peers, optionally a physical
floor). Outputs are compared before anything is timed, so a row is only
reported when both sides produce the same result. Sides then run
interleaved, after warm-up, each sample long enough to swamp timer noise;
the table shows medians, the ratio peer/ours (above 1 means we are faster),
and the spread (interquartile range over median) of our side.
"""

import json
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Side:
    name: str
    fn: Callable[[], Any]


@dataclass
class Workload:
    name: str
    ours: Side
    peers: list
    check: Callable[[Any, Any], bool] | None = None  # equal(ours_result, peer_result)
    floor: Side | None = None  # e.g. the raw codec time for the same bytes
    sizes: dict = field(default_factory=dict)  # side name -> output bytes
    note: str = ""
    target: float | None = None  # the ratio vs the best peer the issue asks for


@dataclass
class Result:
    workload: str
    medians: dict  # side name -> seconds per call
    spreads: dict
    ratios: dict  # peer name -> peer median / our median
    floor: float | None
    sizes: dict
    note: str
    target: float | None


def _sample(fn, inner):
    t = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t) / inner


def _calibrate(fn, min_sample):
    t = time.perf_counter()
    fn()
    once = time.perf_counter() - t
    return max(1, int(min_sample / max(once, 1e-9)))


def _spread(samples):
    if len(samples) < 4:
        return 0.0
    q = statistics.quantiles(samples, n=4)
    return (q[2] - q[0]) / statistics.median(samples)


def run(workload: Workload, repeats: int = 9, min_sample: float = 0.02) -> Result:
    sides = [workload.ours, *workload.peers] + ([workload.floor] if workload.floor else [])
    ours_out = workload.ours.fn()  # warm-up doubles as the correctness check
    for peer in workload.peers:
        peer_out = peer.fn()
        if workload.check is not None and not workload.check(ours_out, peer_out):
            raise AssertionError(f"{workload.name}: {workload.ours.name} and {peer.name} disagree")
    if workload.floor:
        workload.floor.fn()
    inner = {s.name: _calibrate(s.fn, min_sample) for s in sides}
    samples = {s.name: [] for s in sides}
    for _ in range(repeats):
        for s in sides:  # interleaved: drift in machine load hits every side alike
            samples[s.name].append(_sample(s.fn, inner[s.name]))
    medians = {k: statistics.median(v) for k, v in samples.items()}
    ours = medians[workload.ours.name]
    return Result(
        workload=workload.name,
        medians=medians,
        spreads={k: _spread(v) for k, v in samples.items()},
        ratios={p.name: medians[p.name] / ours for p in workload.peers},
        floor=medians[workload.floor.name] if workload.floor else None,
        sizes=workload.sizes,
        note=workload.note,
        target=workload.target,
    )


def _fmt_time(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def markdown(results: list) -> str:
    rows = ["| workload | opencodecs | peer | peer time | ratio | target | spread | floor | sizes / notes |",
            "|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        ours_name = next(iter(r.medians))
        ours = r.medians[ours_name]
        floor = f"{_fmt_time(r.floor)} (ours {ours / r.floor:.2f}×)" if r.floor else ""
        extra = ", ".join(f"{k}: {v:,}" for k, v in r.sizes.items())
        extra = "; ".join(x for x in (extra, r.note) if x)
        for i, (peer, ratio) in enumerate(r.ratios.items()):
            best = min(r.ratios.values())  # the fastest peer
            target = ""
            if r.target is not None and ratio == best:
                target = f"{r.target:g}× {'✓' if ratio >= r.target else '✗'}"
            rows.append(
                f"| {r.workload if i == 0 else ''} | {_fmt_time(ours) if i == 0 else ''} | {peer} | "
                f"{_fmt_time(r.medians[peer])} | {ratio:.2f}× | {target} | "
                f"{r.spreads[ours_name]:.0%} | {floor if i == 0 else ''} | {extra if i == 0 else ''} |")
    return "\n".join(rows)


def save(results: list, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    meta = {"machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with open(path, "w") as f:
        json.dump({"meta": meta, "results": [r.__dict__ for r in results]}, f, indent=1)
