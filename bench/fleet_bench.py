"""Fleet benchmark (``make bench``, not part of ``make test``): what onboard.yml costs on the lab as the fleet grows.

    .venv/bin/python bench/fleet_bench.py [--worker-types extension,agent] [--hosts 10,50,200] [--repeat 3]
                                          [--forks 50] [--publish]

For every worker type (hybrid_worker_type of the whole fleet), every fleet size and every repeat, a fresh lab is
started and three plays run over the same hosts, one after the other: the first onboarding (bare hosts), the converged re-run of onboard.yml, and the floor play
(``bench/floor.yml``: one modelled no-op module per host). Each run records wall time, the controller's CPU time
(ansible-playbook and its workers), Azure reads and writes (``labctl stats``) and WinRM module calls per host.
Medians over the repeats go to ``bench/output/results.json``, ``results.md`` (Markdown table) and ``results.png``
(time against hosts); ``--publish`` also copies the table and the chart to ``docs/`` and puts the table in the
README's "Fleet performance" section.
"""
import argparse
import datetime
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "utils"))

# pylint: disable=wrong-import-position
import fleet_lab  # noqa: E402

FLOOR_PLAYBOOK = os.path.join(ROOT, "bench", "floor.yml")
GROUPS = ("east", "west", "sql")
PLAYS = ("first", "converged", "floor")
# The default first: what a fleet runs unless told otherwise.
WORKER_TYPES = ("extension", "agent")
PLAY_LABELS = {"first": "first onboarding", "converged": "converged re-run", "floor": "floor (win_ping)"}
README = os.path.join(ROOT, "README.md")
TABLE_START, TABLE_END = "<!-- fleet-bench-table:start -->", "<!-- fleet-bench-table:end -->"
DOCS_TABLE = os.path.join(ROOT, "docs", "fleet-benchmark.md")
DOCS_CHART = os.path.join(ROOT, "docs", "fleet-benchmark.png")


def run_key(key):
    """(worker type, hosts) of a results.json run key: "extension/50"; a bare "50" is from before the worker types
    were measured, all agent-based."""
    if "/" not in key:
        return "agent", int(key)
    kind, hosts = key.rsplit("/", 1)
    return kind, int(hosts)


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_play(lab_dir, play, forks, onboard_playbook):
    """One ansible-playbook run with the lab's counters reset before; returns its measurements."""
    fleet_lab.labctl(lab_dir, "stats", "--reset")
    inventory = ["-i", os.path.join(lab_dir, "inventory.yml"), "-i", os.path.join(lab_dir, "fleet-vars.yml")]
    playbook = FLOOR_PLAYBOOK if play == "floor" else onboard_playbook
    env = fleet_lab.playbook_env(lab_dir, forks)
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    cpu_before = children_cpu_seconds()
    started = time.monotonic()
    proc = subprocess.run(["ansible-playbook"] + inventory + [playbook], env=env,
                          cwd=lab_dir, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    cpu = children_cpu_seconds() - cpu_before
    stats = fleet_lab.labctl(lab_dir, "stats")
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = {"plays": [], "stats": {}}
    recap = report.get("stats", {})
    plays = [(entry["play"]["name"], play_seconds(entry["play"]), len(entry.get("tasks") or []))
             for entry in report.get("plays", [])]
    calls = stats["windows"]["module_calls_per_host"]
    per_host = [sum(modules.values()) for modules in calls.values()]
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
    return {
        "play": play, "rc": proc.returncode, "wall_seconds": round(wall, 2), "controller_cpu_seconds": round(cpu, 2),
        "arm_reads": stats["azure"]["arm"]["reads"], "arm_writes": stats["azure"]["arm"]["writes"],
        "winrm_calls_per_host_max": max(per_host) if per_host else 0,
        "winrm_calls_per_host_min": min(per_host) if per_host else 0,
        "winrm_commands_total": stats["windows"]["commands_total"],
        "hosts_called": len(calls),
        "changed_hosts": sum(1 for counts in recap.values() if counts.get("changed")),
        "failed_hosts": sum(1 for counts in recap.values() if counts.get("failures") or counts.get("unreachable")),
        # The play that reaches the Windows hosts (onboard.yml's "Windows servers" play; the floor's only play).
        "windows_play_seconds": windows_play_seconds(plays),
        "plays_seconds": plays,
    }


def windows_play_seconds(plays):
    """Seconds of the play that reaches the Windows hosts (named "Windows servers ...", the one of the fleet's worker
    type: the other kind's play matches no host and runs no task), else of the only one."""
    for name, seconds, tasks in plays:
        if name.startswith("Windows servers") and tasks:
            return round(seconds, 2)
    return round(plays[0][1], 2) if len(plays) == 1 else None


def play_seconds(play):
    duration = play.get("duration") or {}
    try:
        start = datetime.datetime.fromisoformat(duration["start"].replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(duration["end"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return (end - start).total_seconds()


def one_repeat(worker_type, hosts, forks, work_dir, onboard_playbook):
    lab_dir = tempfile.mkdtemp(prefix="lab-%s-%d-" % (worker_type, hosts), dir=work_dir)
    started = time.monotonic()
    # The extension-based fleet runs on the playbooks' default; the agent-based one sets hybrid_worker_type.
    fleet_lab.start(lab_dir, hosts, GROUPS, worker_type=None if worker_type == "extension" else worker_type)
    up_seconds = time.monotonic() - started
    try:
        runs = [run_play(lab_dir, play, forks, onboard_playbook) for play in PLAYS]
    finally:
        fleet_lab.labctl(lab_dir, "down", check=False)
        shutil.rmtree(lab_dir, ignore_errors=True)
    for run in runs:
        run["lab_up_seconds"] = round(up_seconds, 2)
    return runs


def summarise(worker_type, hosts, repeats):
    """Medians per play over the repeats, and the converged/floor ratio of each repeat's pair (median too)."""
    summary = {"worker_type": worker_type, "hosts": hosts, "repeats": len(repeats), "plays": {}}
    for play in PLAYS:
        runs = [next(r for r in repeat if r["play"] == play) for repeat in repeats]
        summary["plays"][play] = dict(
            (key, statistics.median(run[key] for run in runs))
            for key in ("wall_seconds", "windows_play_seconds", "controller_cpu_seconds", "arm_reads", "arm_writes",
                        "winrm_calls_per_host_max", "winrm_calls_per_host_min", "changed_hosts", "failed_hosts"))
    ratios = []
    for repeat in repeats:
        by_play = dict((run["play"], run) for run in repeat)
        ratios.append(by_play["converged"]["wall_seconds"] / by_play["floor"]["wall_seconds"])
    summary["converged_to_floor_ratio"] = round(statistics.median(ratios), 2)
    summary["converged_windows_play_to_floor_ratio"] = round(statistics.median(
        next(r for r in repeat if r["play"] == "converged")["windows_play_seconds"]
        / next(r for r in repeat if r["play"] == "floor")["windows_play_seconds"] for repeat in repeats), 2)
    return summary


def markdown_table(summaries):
    lines = ["| Worker type | Hosts | Play | Wall time (s) | Windows play (s) | Controller CPU (s) | Azure reads | Azure writes "
             "| WinRM calls per host | Changed hosts | Re-run / floor (whole run; Windows play) |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for summary in summaries:
        for play in PLAYS:
            data = summary["plays"][play]
            calls = "%g" % data["winrm_calls_per_host_max"]
            if data["winrm_calls_per_host_min"] != data["winrm_calls_per_host_max"]:
                calls = "%g-%g" % (data["winrm_calls_per_host_min"], data["winrm_calls_per_host_max"])
            ratio = ""
            if play == "converged":
                ratio = "%.2f; %.2f" % (summary["converged_to_floor_ratio"],
                                        summary["converged_windows_play_to_floor_ratio"])
            lines.append("| %s | %d | %s | %.1f | %.1f | %.1f | %g | %g | %s | %g | %s |" % (
                summary["worker_type"], summary["hosts"], PLAY_LABELS[play], data["wall_seconds"], data["windows_play_seconds"],
                data["controller_cpu_seconds"],
                data["arm_reads"], data["arm_writes"], calls, data["changed_hosts"], ratio))
    counts = ", ".join("%s %d hosts: %d" % (summary["worker_type"], summary["hosts"], summary["repeats"])
                       for summary in summaries)
    lines.append("")
    lines.append("Medians of the runs per worker type and fleet size (%s); a fresh lab per run, the three plays one "
                 "after the other over the same hosts." % counts)
    return "\n".join(lines) + "\n"


def chart(summaries, path):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")  # headless: no display needed
    from matplotlib import pyplot  # pylint: disable=import-outside-toplevel

    kinds = sorted(set(summary["worker_type"] for summary in summaries), key=WORKER_TYPES.index)
    figure, panels = pyplot.subplots(1, len(kinds), figsize=(6 * len(kinds), 4.2), dpi=100, sharey=True, squeeze=False)
    for axes, kind in zip(panels[0], kinds):
        of_kind = [summary for summary in summaries if summary["worker_type"] == kind]
        sizes = [summary["hosts"] for summary in of_kind]
        for play, marker in zip(PLAYS, ("o", "s", "^")):
            axes.plot(sizes, [summary["plays"][play]["wall_seconds"] for summary in of_kind], marker=marker,
                      label=PLAY_LABELS[play])
        axes.set_xlabel("Windows hosts")
        axes.set_title("onboard.yml, %s-based workers" % kind)
        axes.set_xlim(left=0)
        axes.set_ylim(bottom=0)
        axes.grid(True, alpha=0.3)
        axes.legend()
    panels[0][0].set_ylabel("wall time (s), median")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def publish(table, chart_path):
    shutil.copyfile(chart_path, DOCS_CHART)
    with open(DOCS_TABLE, "w", encoding="utf-8") as handle:
        handle.write("# Fleet benchmark\n\nLatest `make bench` run on the lab (see the README's \"Fleet performance\" "
                     "section for what each play is).\n\n" + table + "\n![Wall time against hosts](fleet-benchmark.png)\n")
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    if TABLE_START in text and TABLE_END in text:
        head, rest = text.split(TABLE_START, 1)
        tail = rest.split(TABLE_END, 1)[1]
        text = head + TABLE_START + "\n" + table + TABLE_END + tail
        with open(README, "w", encoding="utf-8") as handle:
            handle.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker-types", default=",".join(WORKER_TYPES),
                        help="hybrid_worker_type of the fleet, comma-separated (default %s)" % ",".join(WORKER_TYPES))
    parser.add_argument("--hosts", default="10,50,200", help="fleet sizes, comma-separated (default 10,50,200)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per fleet size; medians are reported (default 3)")
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "output"))
    parser.add_argument("--publish", action="store_true", help="copy the table and chart to docs/ and the README")
    parser.add_argument("--playbook", default="azure_automation.hybrid_worker.onboard",
                        help="the onboarding playbook to measure (default: the collection's onboard.yml)")
    parser.add_argument("--from-results", metavar="JSON", nargs="+",
                        help="no new runs: rebuild the table and chart (and --publish them) from results.json files "
                             "(or results.partial.json); several files are merged, fleet sizes of later files win")
    args = parser.parse_args(argv)
    if args.from_results:
        runs = {}
        for path in args.from_results:
            with open(path, encoding="utf-8") as handle:
                runs.update(json.load(handle)["runs"])
        summaries = [summarise(kind, hosts, runs[key]) for key, (kind, hosts) in sorted(
            ((key, run_key(key)) for key in runs), key=lambda item: (WORKER_TYPES.index(item[1][0]), item[1][1]))]
        os.makedirs(args.output, exist_ok=True)
        with open(os.path.join(args.output, "results.json"), "w", encoding="utf-8") as handle:
            json.dump({"forks": args.forks, "merged_from": args.from_results, "summaries": summaries, "runs": runs},
                      handle, indent=2)
        return report(summaries, runs, args)
    sizes = [int(size) for size in args.hosts.split(",") if size.strip()]
    kinds = [kind.strip() for kind in args.worker_types.split(",") if kind.strip()]
    if args.repeat < 1 or not sizes or not kinds or any(kind not in WORKER_TYPES for kind in kinds):
        parser.error("--repeat must be 1 or more, --hosts must name at least one size and --worker-types one or more "
                     "of %s" % ", ".join(WORKER_TYPES))
    os.makedirs(args.output, exist_ok=True)

    raw, summaries = {}, []
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as work_dir:
        for kind, hosts in ((kind, hosts) for kind in kinds for hosts in sizes):
            repeats = []
            for index in range(args.repeat):
                runs = one_repeat(kind, hosts, args.forks, work_dir, args.playbook)
                print("%s hosts=%d repeat=%d: %s" % (kind, hosts, index + 1, ", ".join(
                    "%s %.1fs" % (run["play"], run["wall_seconds"]) for run in runs)), flush=True)
                repeats.append(runs)
                raw["%s/%d" % (kind, hosts)] = repeats
                # Written after every repeat, so an interrupted benchmark still leaves what it measured.
                with open(os.path.join(args.output, "results.partial.json"), "w", encoding="utf-8") as handle:
                    json.dump({"forks": args.forks, "repeat": args.repeat, "runs": raw}, handle, indent=2)
            summaries.append(summarise(kind, hosts, repeats))

    with open(os.path.join(args.output, "results.json"), "w", encoding="utf-8") as handle:
        json.dump({"forks": args.forks, "repeat": args.repeat, "summaries": summaries, "runs": raw}, handle, indent=2)
    return report(summaries, raw, args)


def report(summaries, raw, args):
    os.makedirs(args.output, exist_ok=True)
    table = markdown_table(summaries)
    chart_path = os.path.join(args.output, "results.png")
    with open(os.path.join(args.output, "results.md"), "w", encoding="utf-8") as handle:
        handle.write(table)
    chart(summaries, chart_path)
    if args.publish:
        publish(table, chart_path)
    print(table)
    failed = [run for repeats in raw.values() for repeat in repeats for run in repeat if run["rc"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
