"""The load benchmark's arithmetic (benchmarks.complaint_life): when lives
arrive, what one step of offered load achieved, and where the knee is.
Pure: no clock, no I/O; times are plain seconds (time.monotonic values).
"""
import math
from dataclasses import dataclass, field

from scripts.life import BOOKKEEPING_CALLS, CALLS, HOPS, STEPS

# A rate is kept up with when this share of its lives completes, and they
# come out at least this share of the rate they went in.
MIN_COMPLETION = 0.95


@dataclass
class LifeResult:
    """One complaint life of the load: when it was due to start, when it did,
    when it ended, how long each step took, each HTTP call it made ((label,
    seconds), scripts.life.CALLS), its asynchronous hops ({hop: (upper,
    lower)} s), and why it failed if it did."""
    tag: str
    arrival: float
    started: float = None
    ended: float = None
    error: str = None
    steps: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    hops: dict = field(default_factory=dict)
    complaint_id: str = None

    def completed_by(self, cutoff):
        return self.ended is not None and self.error is None and self.ended <= cutoff


def percentile(values, p):
    """Nearest-rank percentile (the smallest value with at least p % of the
    values at or below it); None for no values. With fewer than 100 values
    the p99 is the maximum, never an interpolation below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


def arrivals(rate, seconds):
    """Offsets (s) of open-loop arrivals: one every 1/rate s, whatever the others do."""
    if rate <= 0 or seconds <= 0:
        return []
    count = math.floor(rate * seconds + 1e-9)
    return [n / rate for n in range(count)]


def error_kind(message):
    """'GaveUp', 'StepRefused sign: HTTP 409', ...: what the counts group by."""
    kind, _, rest = message.partition(": ")
    if kind == "StepRefused":
        step, _, status = rest.partition(": ")
        return f"{kind} {step}: {status.split(':')[0]}"
    return kind


def departure_rate(end_times):
    """Lives/s coming out: 1 / the least-squares slope of the sorted end times
    against their rank. Arrivals are evenly spaced at the offered rate, so a
    system that keeps up lets lives out at that rate whatever their latency,
    and one that does not lets them out at its capacity, even when the step
    is short enough for the backlog to drain before the cutoff. None for
    fewer than three ends (no spacing to speak of)."""
    times = sorted(end_times)
    n = len(times)
    if n < 3:
        return None
    mean_rank, mean_time = (n - 1) / 2, sum(times) / n
    slope = (sum((k - mean_rank) * (t - mean_time) for k, t in enumerate(times))
             / sum((k - mean_rank) ** 2 for k in range(n)))
    return 1 / slope if slope > 0 else None


def _pair(values):
    return [percentile(values, 50), percentile(values, 99)]


def summarise(lives, rate, seconds, cutoff):
    """What the lives that arrived during one step of `seconds` at `rate`/s
    achieved by `cutoff` (the end of arrivals plus the allowance).

    Completed: ended without error by the cutoff; their ends give the rate
    lives came out at (departure_rate). Whole-life seconds run from
    the arrival (so a queue before the start counts, as open-loop load needs);
    a life not ended by the cutoff counts with its age then, a lower bound, so
    lives that never finish cannot flatter the p99. Failed lives (whenever
    they failed, the cutoff does not hide why) count as errors, and those that
    failed before the cutoff not as latencies. Unfinished: neither completed
    by the cutoff nor failed.
    """
    lives = list(lives)
    completed = [life for life in lives if life.completed_by(cutoff)]
    failed = [life for life in lives if life.error is not None]
    unfinished = [life for life in lives
                  if life.error is None and not life.completed_by(cutoff)]
    late = [life for life in lives if life.ended is None or life.ended > cutoff]
    durations = ([life.ended - life.arrival for life in completed]
                 + [cutoff - life.arrival for life in late])
    lags = [life.started - life.arrival for life in lives if life.started is not None]
    errors = {}
    for life in failed:
        kind = error_kind(life.error)
        errors[kind] = errors.get(kind, 0) + 1
    started = len(lives)
    return {
        "rate": rate,
        "seconds": seconds,
        "started": started,
        "completed": len(completed),
        "failed": len(failed),
        "unfinished": len(unfinished),
        "offered_per_s": started / seconds if seconds else None,
        "completed_per_s": departure_rate([life.ended for life in completed]),
        "completion": len(completed) / started if started else None,
        "life_p50_p99": _pair(durations),
        "start_lag_p99": percentile(lags, 99),
        "steps_p50_p99": {step: _pair([life.steps[step] for life in completed
                                       if step in life.steps]) for step in STEPS},
        **call_summary(completed),
        "errors": errors,
        "error_examples": [f"{life.tag}: {life.error}" for life in failed[:3]],
    }


def call_summary(lives):
    """Per call label: [p50, p99] seconds and calls per life; per hop: [p50,
    p99] of its upper and of its lower bound, and the median width of its
    bounds (how finely the poll placed it), over `lives`."""
    by_label = {label: [] for label in (*CALLS, *BOOKKEEPING_CALLS)}
    for life in lives:
        for label, seconds in life.calls:
            by_label.setdefault(label, []).append(seconds)
    n = len(lives)
    hops = {hop: [life.hops[hop] for life in lives if hop in life.hops] for hop in HOPS}
    return {
        "calls_p50_p99": {label: _pair(values) for label, values in by_label.items()},
        "calls_per_life": {label: len(values) / n if n else None
                           for label, values in by_label.items()},
        "hops_p50_p99": {hop: _pair([upper for upper, _ in pairs])
                         for hop, pairs in hops.items()},
        "hops_lower_p50_p99": {hop: _pair([lower for _, lower in pairs])
                               for hop, pairs in hops.items()},
        "hops_resolution_p50": {hop: percentile([upper - lower for upper, lower in pairs], 50)
                                for hop, pairs in hops.items()},
    }


def keeps_up(summary, p99_limit, min_completion=MIN_COMPLETION):
    """At least `min_completion` of the lives completed, they came out at
    least at `min_completion` of the offered rate, and the whole-life p99 is
    within `p99_limit` seconds."""
    p99, out = summary["life_p50_p99"][1], summary["completed_per_s"]
    return (summary["started"] > 0 and summary["completion"] is not None
            and summary["completion"] >= min_completion
            and out is not None and out >= min_completion * summary["rate"]
            and p99 is not None and p99 <= p99_limit)


def find_knee(summaries, p99_limit, min_completion=MIN_COMPLETION):
    """The highest rate kept up with before the first rate that was not (a
    lucky pass after a failure does not count). `passed` is False when even
    the lowest rate failed; `bounded` is False when no rate failed, so the
    real knee lies above the highest rate tried."""
    knee = None
    for summary in sorted(summaries, key=lambda s: s["rate"]):
        if not keeps_up(summary, p99_limit, min_completion):
            return {"rate": knee, "passed": knee is not None, "bounded": True,
                    "first_failing_rate": summary["rate"]}
        knee = summary["rate"]
    return {"rate": knee, "passed": knee is not None, "bounded": False,
            "first_failing_rate": None}


def steady_rate(knee, rates, fraction=0.8):
    """The steady run's rate: `fraction` of the knee; of the lowest rate tried
    when even that one was not kept up with."""
    if knee["rate"] is not None:
        return round(knee["rate"] * fraction, 3)
    return round(min(rates) * fraction, 3) if rates else None


def rates_between(before, after):
    """Per-second rates of the counters between two snapshots ({"at": s,
    name: count}); None where a counter could not be read."""
    seconds = after["at"] - before["at"]
    rates = {}
    for name in after:
        if name == "at":
            continue
        a, b = before.get(name), after.get(name)
        rates[name] = (b - a) / seconds if seconds > 0 and a is not None and b is not None else None
    return rates


def queue_summary(depths):
    """(sum of messages, the fullest queue's name, its messages) of {queue: messages}."""
    if not depths:
        return 0, None, 0
    name = max(sorted(depths), key=lambda q: depths[q])
    return sum(depths.values()), name, depths[name]


def rss_summary(samples):
    """{process: {start, peak, end} KiB} over samples' "rss_kib" maps, in order."""
    summary = {}
    for sample in samples:
        for name, kib in sample.get("rss_kib", {}).items():
            if kib is None:
                continue
            entry = summary.setdefault(name, {"start": kib, "peak": kib, "end": kib})
            entry["peak"] = max(entry["peak"], kib)
            entry["end"] = kib
    return summary
