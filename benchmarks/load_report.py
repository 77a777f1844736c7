"""The load benchmark's words: one progress line per sample while it runs,
and the Markdown block for docs/benchmarks.md at the end. Pure: the report
dict in, text out."""
from benchmarks.load_stats import keeps_up, rss_summary
from benchmarks.load_tables import person_tables
from scripts.life import STEPS

DASH = "–"


def _num(value, digits=2):
    return DASH if value is None else f"{value:,.{digits}f}"


def _pair(pair, digits=1):
    p50, p99 = pair
    return DASH if p50 is None else f"{p50:.{digits}f} / {p99:.{digits}f}"


def _mib(kib):
    return DASH if kib is None else f"{kib / 1024:,.0f}"


def _share(value, limit):
    if value is None or not limit:
        return DASH
    return f"{value:,.1f} ({value / limit:.1%})"


def _errors(summary):
    if not summary["errors"]:
        return "0"
    return "; ".join(f"{kind} ×{n}" for kind, n in sorted(summary["errors"].items()))


def progress_line(sample):
    """One line per sample, plain words first."""
    rss = [kib for kib in sample["rss_kib"].values() if kib is not None]
    fullest = (f" (fullest {sample['queue_max_name']}: {sample['queue_max']})"
               if sample["queue_max"] else "")
    dead = f"; DEAD: {', '.join(sample['dead'])}" if sample.get("dead") else ""
    return (f"[{sample['phase']}] {sample['t']:>4.0f}s: {sample['started']} lives started, "
            f"{sample['completed']} completed ({sample['done_last']} in the last "
            f"{sample['every']:.0f}s), {sample['in_flight']} in flight, {sample['failed']} failed; "
            f"broker queues hold {sample['queue_sum']}{fullest}; "
            f"services' memory {sum(rss) / 1024:,.0f} MB{dead}")


def step_line(summary, p99_limit, passed):
    p50, p99 = summary["life_p50_p99"]
    return (f"rate {summary['rate']:g}/s: {summary['started']} lives, {summary['completed']} "
            f"completed ({_pct(summary['completion'])}), coming out at "
            f"{_num(summary['completed_per_s'])}/s, {summary['failed']} failed, "
            f"{summary['unfinished']} unfinished; whole life p50 {_num(p50, 1)} s, "
            f"p99 {_num(p99, 1)} s (limit {p99_limit:g} s) -> "
            f"{'kept up' if passed else 'did NOT keep up'}"
            + (f"; first error: {summary['error_examples'][0][:300]}"
               if summary["error_examples"] else ""))


def _pct(value):
    return DASH if value is None else f"{value:.0%}"


def _raw_sentence(raw):
    return (f"Raw limits measured in this run, before the suite started: pgbench single-row "
            f"INSERT transactions **{_num(raw['pgbench_insert_per_s'], 0)}/s** "
            f"({raw['pgbench_clients']} clients, {raw['pgbench_seconds']:g} s); raw kombu "
            f"publish + confirm, one persistent message at a time, "
            f"**{_num(raw['kombu_publish_confirm_per_s'], 0)} msgs/s** "
            f"({raw['kombu_messages']} messages).")


def _knee_tables(report):
    raw, settings = report["raw"], report["settings"]
    pg, kombu = raw["pgbench_insert_per_s"], raw["kombu_publish_confirm_per_s"]
    lines = [
        f"#### Knee search: {settings['step_seconds']:g} s per rate, open-loop arrivals",
        "",
        _method(settings),
        "",
        "| offered lives/s | lives | lives out/s | completed | HTTP calls/s | "
        "DB commits/s (% of pgbench) | broker publishes/s (% of raw kombu) | "
        "whole life p50 / p99 s | errors | unfinished | kept up |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for s in report["knee_steps"]:
        rates = s.get("rates", {})
        kept = keeps_up(s, settings["p99_limit"], settings["min_completion"])
        lines.append(
            f"| {s['rate']:g} | {s['started']} | {_num(s['completed_per_s'])} | "
            f"{_pct(s['completion'])} | {_num(rates.get('http_calls'), 1)} | "
            f"{_share(rates.get('db_commits'), pg)} | "
            f"{_share(rates.get('broker_publishes'), kombu)} | {_pair(s['life_p50_p99'])} | "
            f"{_errors(s)} | {s['unfinished']} | "
            f"{'yes' if kept else '**no**'} |")
    lines += ["", "Each step of the life, p50 / p99 seconds (completed lives):", "",
              "| offered lives/s | " + " | ".join(STEPS) + " |",
              "|---:|" + "---:|" * len(STEPS)]
    for s in report["knee_steps"]:
        lines.append(f"| {s['rate']:g} | "
                     + " | ".join(_pair(s["steps_p50_p99"][step], 2) for step in STEPS) + " |")
    lines += ["", _knee_sentence(report["knee"])]
    return lines


def _method(settings):
    return (f"A new complaint life every 1/rate s whatever the others are doing; whole-life "
            f"seconds run from its arrival. *Completed*: ended without error within "
            f"{settings['p99_limit']:g} s of the end of arrivals. *Lives out/s*: the rate "
            f"completed lives came out at (least-squares spacing of their end times). A rate "
            f"is kept up with when at least {settings['min_completion']:.0%} of its lives "
            f"completed, they came out at {settings['min_completion']:.0%} of the offered "
            f"rate or more, and the whole-life p99 is within {settings['p99_limit']:g} s.")


def _knee_sentence(knee):
    if knee is None:
        return "No knee search in this run."
    if not knee["passed"]:
        return (f"**Knee: below {knee['first_failing_rate']:g} lives/s**: even the lowest rate "
                "tried was not kept up with.")
    if not knee["bounded"]:
        return (f"**Knee: at least {knee['rate']:g} lives/s**: every rate tried was kept up "
                "with; try higher rates.")
    return (f"**Knee: {knee['rate']:g} lives/s**, the highest rate kept up with; "
            f"{knee['first_failing_rate']:g} lives/s was not.")


def _steady_tables(report):
    steady, raw = report["steady"], report["raw"]
    rates = steady.get("rates", {})
    pg, kombu = raw["pgbench_insert_per_s"], raw["kombu_publish_confirm_per_s"]
    lines = [
        f"#### Steady run: {steady['seconds']:g} s at {steady['rate']:g} lives/s",
        "",
        "| lives | completed | lives out/s | HTTP calls/s (per life) | DB commits/s "
        "(% of pgbench) | broker publishes/s (% of raw kombu) | errors | unfinished |",
        "|---:|---:|---:|---:|---:|---:|---|---:|",
        f"| {steady['started']} | {steady['completed']} ({_pct(steady['completion'])}) | "
        f"{_num(steady['completed_per_s'])} | {_num(rates.get('http_calls'), 1)} "
        f"({_num(steady.get('http_calls_per_life'), 1)}) | "
        f"{_share(rates.get('db_commits'), pg)} | "
        f"{_share(rates.get('broker_publishes'), kombu)} | "
        f"{_errors(steady)} | {steady['unfinished']} |",
        "",
        "| step | p50 s | p99 s |",
        "|---|---:|---:|",
    ]
    for step in STEPS:
        p50, p99 = steady["steps_p50_p99"][step]
        lines.append(f"| {step} | {_num(p50)} | {_num(p99)} |")
    p50, p99 = steady["life_p50_p99"]
    lines.append(f"| **whole life** (from arrival) | {_num(p50)} | {_num(p99)} |")
    if steady.get("error_examples"):
        lines += ["", "Errors, first examples:", ""]
        lines += [f"- `{example[:200]}`" for example in steady["error_examples"]]
    samples = steady.get("samples", [])
    memory = rss_summary(samples)
    every = f", sampled every {samples[0]['every']:.0f} s" if samples else ""
    lines += ["", f"Resident memory (MB) of each service process{every}:", "",
              "| process | start | peak | end | end − start |", "|---|---:|---:|---:|---:|"]
    for name in sorted(memory):
        m = memory[name]
        lines.append(f"| {name} | {_mib(m['start'])} | {_mib(m['peak'])} | {_mib(m['end'])} | "
                     f"{(m['end'] - m['start']) / 1024:+,.0f} |")
    if samples:
        sums = [s["queue_sum"] for s in samples]
        lines += ["", f"Broker queues (messages ready + unacknowledged in the vhost): "
                  f"largest sum {max(sums)}, at the end {sums[-1]}.", "",
                  "<details><summary>Every sample</summary>", "",
                  "| t s | lives started | completed | in flight | failed | queues, sum | "
                  "fullest queue | services' RSS, MB |",
                  "|---:|---:|---:|---:|---:|---:|---|---:|"]
        for s in samples:
            fullest = f"{s['queue_max_name']}: {s['queue_max']}" if s["queue_max"] else DASH
            rss = sum(kib for kib in s["rss_kib"].values() if kib is not None)
            lines.append(f"| {s['t']:.0f} | {s['started']} | {s['completed']} | "
                         f"{s['in_flight']} | {s['failed']} | {s['queue_sum']} | {fullest} | "
                         f"{rss / 1024:,.0f} |")
        lines += ["", "</details>"]
    return lines


def _instances(report):
    counts = report.get("instances_of") or {}
    text = f"{report['instances']} instance(s) of every service"
    if counts:
        text += " but " + ", ".join(f"{n} of {name}" for name, n in sorted(counts.items()))
    return text


def render_markdown(report):
    """The section for docs/benchmarks.md: command, machine, date, the raw
    limits of the same run, the knee search, the steady run."""
    machine, settings = report["machine"], report["settings"]
    lines = [
        f"### Whole complaint life under load ({report['date'][:10]})",
        "",
        f"    {report['command']}",
        "",
        f"Machine: {machine['nproc']} CPU ({machine['cpu']}), {machine['ram_gib']:.0f} GiB RAM, "
        f"Python {machine['python']}, PostgreSQL {machine['postgres']}, RabbitMQ "
        f"{machine['rabbitmq']}; load average before the run {machine['load_before']}, after "
        f"{machine.get('load_after', DASH)}; PostgreSQL connections in use before the run "
        f"{machine.get('pg_connections_before', DASH)}. {_instances(report)}; simulation clock "
        f"advanced {settings['clock_step']} every "
        f"{settings['clock_every']:g} s; run date {report['date']}.",
        "",
        _raw_sentence(report["raw"]),
    ]
    if report.get("note"):
        lines += ["", f"**Note:** {report['note']}"]
    if report.get("service_deaths"):
        lines += ["", f"**Service processes died during the run:** "
                  f"{', '.join(report['service_deaths'])}: the figures are not valid."]
    if report.get("knee_steps"):
        lines += [""] + _knee_tables(report)
    if report.get("steady"):
        lines += [""] + _steady_tables(report)
    tables = person_tables(report)
    if tables:
        lines += ["", "#### What a person waits on, and the CPU per life"] + tables
    return "\n".join(lines) + "\n"
