"""Benchmark (not a test): one playbook run of a modelled no-op module against a large lab fleet.

    .venv/bin/python tests/lab/windows/benchmark.py [--hosts 200] [--forks 50] [--transport ntlm] [--dir DIR]

Starts a fleet in a temporary lab folder (or ``--dir``), runs ``ansible.windows.win_ping`` on every host in one
``ansible-playbook`` run, and prints the wall time, the lab process's CPU time per WinRM command and the counters.
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from windows.testing import WindowsLab  # noqa: E402  (needs the path above)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--transport", choices=("ntlm", "basic"), default="ntlm")
    parser.add_argument("--dir", help="lab folder (default: a new temporary folder, removed afterwards)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="winlab-bench-") as tmp:
        lab_dir = os.path.abspath(args.dir or tmp)
        started = time.monotonic()
        lab = WindowsLab.start(lab_dir, hosts=args.hosts, groups="bench-a,bench-b", transport=args.transport)
        up_seconds = time.monotonic() - started
        try:
            lab.stats(reset=True)
            started = time.monotonic()
            result = lab.run_play([{"name": "no-op", "ansible.windows.win_ping": {}}], forks=args.forks, timeout=1800)
            wall = time.monotonic() - started
            stats = lab.stats()
        finally:
            lab.stop()
    ok = sum(1 for host, res in result.tasks()[0]["hosts"].items() if not res.get("failed") and not res.get("unreachable"))
    commands = stats["commands_total"]
    print(json.dumps({
        "hosts": args.hosts, "forks": args.forks, "transport": args.transport,
        "hosts_ok": ok,
        "lab_up_seconds": round(up_seconds, 2),
        "playbook_wall_seconds": round(wall, 2),
        "winrm_commands": commands,
        "lab_cpu_seconds": stats["cpu_seconds"],
        "lab_cpu_ms_per_command": round(1000.0 * stats["cpu_seconds"] / commands, 2) if commands else None,
        "wsman_operations": stats["wsman_operations"],
    }, indent=2))
    return 0 if ok == args.hosts else 1


if __name__ == "__main__":
    sys.exit(main())
