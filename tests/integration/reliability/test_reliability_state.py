"""Secrets, check mode and concurrency on one small lab fleet, in file order (each test continues the fleet's story):
check mode on the bare fleet, the demo flow at -vvv --diff scanned for secrets, check mode on a drifted fleet, two
onboarding runs at once on overlapping hosts, and the same worker group created from many hosts at once.
"""
import glob
import json
import os
import re
import sys
import threading

import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure.testing import LabControl
from reliability_lab import ReliabilityLab, converged

HOSTS = ("win-001", "win-002", "win-003", "win-004")
DEMO_HOSTS = "win-001,win-002,win-003"
# Bearer tokens are JWTs: base64url header and payload, both starting with '{"' (eyJ).
TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    lab = ReliabilityLab.start(str(tmp_path_factory.mktemp("state")), ["2019"] * len(HOSTS))
    try:
        yield lab
    finally:
        lab.stop()


def check_mode_run(lab, *args):
    """``onboard.yml --check --diff`` with the lab's background activity paused; returns (run, changed files)."""
    lab.pump.pause()
    try:
        before = lab.state_files()
        lab.stats(reset=True)
        run = lab.run("onboard", "--check", "--diff", *args)
        after = lab.state_files()
        stats = lab.stats()
    finally:
        lab.pump.resume()
    changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
    return run, changed, stats


def test_check_mode_on_a_bare_fleet_changes_nothing(fleet, case):
    case("check_mode", "bare fleet", order=1)
    run, changed, stats = check_mode_run(fleet)
    case.note(detail="%d hosts and an Azure account with nothing onboarded: %d state files changed, %d ARM writes, "
              "%d registrations" % (len(HOSTS), len(changed), stats["azure"]["arm"]["writes"],
                                    stats["azure"]["agentsvc"]["register"]))
    assert changed == [], changed
    assert stats["azure"]["arm"]["writes"] == 0, stats["azure"]["arm"]["by_operation"]
    assert stats["azure"]["agentsvc"]["register"] == 0
    # Check mode has nothing to hand the hosts before the workspace exists: it says so instead of pretending.
    assert "in check mode only once the workspace exists" in run.output


def scanned_texts(lab, runs, log_path):
    """Everything an operator or a support case could see: playbook output, the Ansible log, the labs' logs, and each
    host's recorded command lines and state as labctl shows it."""
    texts = {"playbook output %d" % n: run.output for n, run in enumerate(runs)}
    with open(log_path, encoding="utf-8") as handle:
        texts["ANSIBLE_LOG_PATH"] = handle.read()
    for path in glob.glob(os.path.join(lab.dir, "**", "*.log"), recursive=True) + \
            glob.glob(os.path.join(lab.dir, "**", "*.jsonl"), recursive=True):
        if os.path.basename(path) == "heartbeats.jsonl":
            continue  # the ingested Heartbeat rows: data, not a log
        with open(path, encoding="utf-8", errors="replace") as handle:
            texts[os.path.relpath(path, lab.dir)] = handle.read()
    for host in HOSTS:
        state = lab.host(host)
        texts["%s command lines" % host] = "\n".join(p["command_line"] for p in state.get("processes", []))
        texts["%s labctl host" % host] = repr(state)
    return texts


def test_demo_flow_at_vvv_with_diff_leaks_no_secret(fleet, case):
    case("secrets", "demo flow at -vvv --diff", order=1)
    log_path = os.path.join(fleet.dir, "ansible.log")
    env = {"ANSIBLE_LOG_PATH": log_path}
    # The demo flow (onboard, onboard again, verify), then offboarding, which uses the registration key once more.
    runs = [fleet.run("onboard", "--limit", DEMO_HOSTS, "--diff", env=env, verbosity="-vvv"),
            fleet.run("onboard", "--limit", DEMO_HOSTS, "--diff", env=env, verbosity="-vvv"),
            fleet.run("verify", "--limit", DEMO_HOSTS, "--diff", env=env, verbosity="-vvv"),
            fleet.run("offboard", "--limit", "win-003", "--diff", env=env, verbosity="-vvv")]
    for run in runs:
        assert run.rc == 0, run.describe()
    secrets = fleet.secrets()
    texts = scanned_texts(fleet, runs, log_path)
    leaks = sorted("%s (secret of %d characters)" % (where, len(secret))
                   for where, text in texts.items() for secret in secrets if secret in text)
    leaks += sorted("%s (bearer token)" % where for where, text in texts.items() if TOKEN.search(text))
    case.note(secrets=len(secrets), leaks=len(leaks),
              detail="onboard, onboard again, verify, offboard one host; %d secrets (client secret, "
              "account and workspace keys, WinRM passwords) and bearer tokens searched in %d texts (%d characters): "
              "%d found" % (len(secrets), len(texts), sum(len(t) for t in texts.values()), len(leaks)))
    # The scan is real: the runs used the secrets, and the texts hold the non-secret values next to them.
    assert len(secrets) >= 6
    assert fleet.lab["azure"]["env"]["AZURE_CLIENT_ID"] in texts["playbook output 0"] or \
        fleet.lab["azure"]["automation_account"] in texts["playbook output 0"]
    assert sum(len(t) for t in texts.values()) > 100000
    assert leaks == []


def test_check_mode_on_a_drifted_fleet_changes_nothing(fleet, case):
    case("check_mode", "drifted fleet", order=2)
    fleet.labctl("drift", "win-001", "stop-service")
    fleet.labctl("drift", "win-002", "unregister")
    # win-003 was offboarded by the previous test.
    run, changed, stats = check_mode_run(fleet, "--limit", DEMO_HOSTS)
    case.note(detail="3 drifted hosts (agent stopped, registration removed, host offboarded): %d state files "
              "changed, %d ARM writes; check mode reported changes on %s" % (
                  len(changed), stats["azure"]["arm"]["writes"], ", ".join(run.changed_hosts())))
    assert run.rc == 0, run.describe()
    assert changed == [], changed
    assert stats["azure"]["arm"]["writes"] == 0
    assert stats["azure"]["agentsvc"]["register"] == 0 and stats["azure"]["agentsvc"]["deregister"] == 0
    assert run.changed_hosts() == ["win-001", "win-002", "win-003"]


def test_two_onboard_runs_at_once_on_overlapping_hosts_converge(fleet, case):
    case("concurrency", "two onboard.yml runs at once on overlapping hosts", order=1)
    runs = {}

    def onboard(name, *args):
        runs[name] = fleet.run("onboard", *args)
    threads = [threading.Thread(target=onboard, args=("all",)),
               threading.Thread(target=onboard, args=("overlap", "--limit", "win-002,win-003,win-004"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    resources = fleet.azure_resources()
    groups = sorted(r["name"] for r in resources if r["kind"] == "workerGroup")
    workers = fleet.azure_workers()
    case.note(detail="run 1 (4 hosts) rc %d, run 2 (3 of them) rc %d; worker groups %s; worker records per host %s" % (
        runs["all"].rc, runs["overlap"].rc, groups, dict((h, len(workers.get(h, []))) for h in HOSTS)))
    assert runs["all"].rc == 0, runs["all"].describe()
    assert runs["overlap"].rc == 0, runs["overlap"].describe()
    assert groups == ["east", "west"]
    assert converged(fleet, HOSTS) == []
    assert fleet.unfinished_azure_resources() == []
    again = fleet.run("onboard")
    assert again.rc == 0 and again.changed_hosts() == [], again.describe()


def test_same_worker_group_created_from_many_hosts_at_once(fleet, case):
    case("concurrency", "one new worker group created from every host at once", order=2)
    play = [{"name": "create one group from every host", "hosts": "windows", "gather_facts": False,
             "tasks": [{"name": "worker group", "delegate_to": "localhost",
                        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                        "azure_automation.hybrid_worker.hybrid_worker_group": {
                            "name": "parallel-group", "resource_group": fleet.lab["azure"]["resource_group"],
                            "automation_account": fleet.lab["azure"]["automation_account"]}}]}]
    path = os.path.join(fleet.dir, "parallel-group.yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(play, handle)
    fleet.stats(reset=True)
    run = fleet.run(path)
    stats = fleet.stats()["azure"]["arm"]["by_operation"]
    groups = [r["name"] for r in fleet.azure_resources() if r["kind"] == "workerGroup"]
    case.note(detail="%d hosts at once: run rc %d, %d create requests, %d group(s) named parallel-group" % (
        len(HOSTS), run.rc, stats.get("HybridRunbookWorkerGroup_Create", 0), groups.count("parallel-group")))
    assert run.rc == 0, run.describe()
    assert all(counts["failed"] == 0 for counts in run.recap.values()), run.recap
    assert groups.count("parallel-group") == 1


def test_a_worker_silent_longer_than_prune_last_seen_days_is_pruned_and_only_it(fleet, case):
    case("stale_workers", "worker silent for 10 days, prune_last_seen_days: 7", order=1)
    silent = "win-004"
    group = fleet.group_of(silent)
    live = sorted(h for h in HOSTS if fleet.group_of(h) == group and h != silent)
    assert live, "the test needs a live worker in the silent one's group"
    # A server switched off without offboarding: its agent stops pinging, and after ten days that is what the service
    # shows. The live workers keep pinging (the heartbeat pump runs), so they stay fresh whatever their age was.
    # (Paused meanwhile: a round in flight could still deliver the ping it collected before the stop.)
    fleet.pump.pause()
    try:
        fleet.labctl("drift", silent, "stop-service")
    finally:
        fleet.pump.resume()
    control = LabControl(fleet.dir)
    aged = control.age_worker(silent, 10)
    for host in live:
        control.age_worker(host, 3)
    assert aged["lastSeenDateTime"] < min(r["lastSeenDateTime"] for r in fleet.azure_resources() if r["kind"] == "worker"
                                          and r["workerName"].lower() in live)
    task = {"name": group, "resource_group": fleet.lab["azure"]["resource_group"],
            "automation_account": fleet.lab["azure"]["automation_account"], "prune_last_seen_days": 7}
    play = [{"name": "prune", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "tasks": [{"name": "check", "check_mode": True, "register": "checked",
                        "azure_automation.hybrid_worker.hybrid_worker_group": task},
                       {"name": "prune", "register": "pruned", "azure_automation.hybrid_worker.hybrid_worker_group": task},
                       {"name": "again", "register": "again", "azure_automation.hybrid_worker.hybrid_worker_group": task},
                       {"name": "results", "ansible.builtin.copy": {
                           "dest": os.path.join(fleet.dir, "prune-results.json"),
                           "content": "{{ {'checked': checked, 'pruned': pruned, 'again': again} | to_json }}"}}]}]
    path = os.path.join(fleet.dir, "prune.yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(play, handle)
    run = fleet.run(path, "-e", "ansible_python_interpreter=" + sys.executable)
    assert run.rc == 0, run.describe()
    with open(os.path.join(fleet.dir, "prune-results.json"), encoding="utf-8") as handle:
        results = json.load(handle)
    in_azure = fleet.azure_workers()
    case.note(detail="group %s: check mode would prune %s, the run pruned %s (%s), the re-run changed %s; %s kept" % (
        group, [w["name"] for w in results["checked"]["pruned"]], [w["name"] for w in results["pruned"]["pruned"]],
        results["pruned"]["pruned"][0]["prune_reason"] if results["pruned"]["pruned"] else "-",
        results["again"]["changed"], ", ".join(live)))
    assert [(w["name"].lower(), results["checked"]["changed"]) for w in results["checked"]["pruned"]] == [(silent, True)], \
        results["checked"]
    assert [w["name"].lower() for w in results["pruned"]["pruned"]] == [silent]
    assert "last seen more than 7 days ago" in results["pruned"]["pruned"][0]["prune_reason"]
    assert (results["again"]["changed"], results["again"]["pruned"]) == (False, [])
    assert silent not in in_azure
    assert all(in_azure.get(host) == [group] for host in live), in_azure
