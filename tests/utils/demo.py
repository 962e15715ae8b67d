"""``make demo``: onboard a simulated fleet of 20 Windows servers over 3 worker groups as extension-based Hybrid
Runbook Workers (the default ``hybrid_worker_type``), end to end, on the local lab.

Starts the lab in ``lab/`` (Azure stand-in + 20 simulated Windows hosts over WinRM/HTTPS), runs ``onboard.yml``
twice and ``verify.yml`` once with the real Azure SDKs and the real WinRM connection, prints what happened, and
leaves the lab running (``make demo-down`` stops it). Each run's full output is kept in ``lab/demo/``.
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fleet_lab  # noqa: E402  (needs the path above)  pylint: disable=wrong-import-position

HOSTS = int(os.environ.get("DEMO_HOSTS", "20"))
GROUPS = ("datacenter-east", "datacenter-west", "sql-maintenance")
LAB_DIR = os.path.join(fleet_lab.ROOT, "lab")
LOG_DIR = os.path.join(LAB_DIR, "demo")


def step(title):
    print("\n== %s" % title, flush=True)


def run(playbook, log_name):
    log = os.path.join(LOG_DIR, log_name)
    started = time.monotonic()
    result = fleet_lab.run_playbook(LAB_DIR, playbook, log=log)
    print("   %s finished in %.0f s with exit code %d (full output: %s)"
          % (playbook + ".yml", time.monotonic() - started, result.rc, os.path.relpath(log, fleet_lab.ROOT)), flush=True)
    return result


def main():
    step("Starting the lab in lab/: an Azure stand-in and %d simulated Windows servers in %d worker groups"
         % (HOSTS, len(GROUPS)))
    # A fresh lab every time, so the demo shows a first onboarding.
    fleet_lab.labctl(LAB_DIR, "down", check=False)
    shutil.rmtree(LAB_DIR, ignore_errors=True)
    # No hybrid_worker_type anywhere: the playbooks' default, extension-based workers through Azure Arc.
    fleet_lab.start(LAB_DIR, HOSTS, GROUPS, worker_type=None)
    os.makedirs(LOG_DIR, exist_ok=True)
    print("   inventory: lab/inventory.yml (Azure names, Arc onboarding service principal, hosts and their groups)")
    print("   + lab/fleet-vars.yml (the lab's short waits: its workers are seen within seconds)")

    step("1. onboard.yml, first run: worker groups, then on every server the Azure Arc agent, its worker record and "
         "the Hybrid Worker extension, then a check that Azure sees each worker")
    first = run("onboard", "onboard-1.log")
    for line in first.messages("Summary per worker group"):
        print("   " + line)

    step("2. onboard.yml again: an onboarded fleet needs no change")
    fleet_lab.labctl(LAB_DIR, "stats", "--reset")
    second = run("onboard", "onboard-2.log")
    writes = fleet_lab.labctl(LAB_DIR, "stats")["azure"]["arm"]["writes"]
    changed = second.changed_hosts()
    print("   hosts changed on the second run: %d%s; Azure writes: %d"
          % (len(changed), (" (%s)" % ", ".join(changed)) if changed else "", writes))

    step("3. verify.yml: read-only drift report (exit code 0 = no drift)")
    verify = run("verify", "verify.log")
    for line in verify.messages("Drift report (extension-based workers)"):
        print("   " + line)

    onboarded = sum(int(line.split(": ", 1)[1].split("/", 1)[0]) for line in first.messages("Summary per worker group")
                    if line.split(": ", 1)[0] in GROUPS)
    step("Summary")
    print("   onboarded on the first run : %d of %d servers (extension-based)" % (onboarded, HOSTS))
    print("   changes on the second run  : %d hosts changed, %d Azure writes" % (len(changed), writes))
    print("   drift found by verify.yml  : %s" % ("none" if verify.rc == 0 else "yes, see lab/demo/verify.log"))
    print("\nThe lab keeps running; try some drift, then verify.yml and onboard.yml (README, Quick start):")
    print("   .venv/bin/python tests/lab/labctl drift win-003 arc-disconnect")
    print("Stop it with: make demo-down")
    ok = first.rc == 0 and second.rc == 0 and verify.rc == 0 and not changed and not writes and onboarded == HOSTS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
