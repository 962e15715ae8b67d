"""End-to-end: extension-based workers (hybrid_worker_type: extension) through onboard.yml, verify.yml, offboard.yml
and migrate.yml on lab fleets, run by FQCN with the lab's Azure environment and inventory as a user would.

The tests of one fleet run in file order and build on each other's state, as an operator's runs do.
"""
import datetime
import re
import time

from extension_lab import AA_API, GROUPS, WorkerKindsObserver  # pylint: disable=import-error

HYBRID_WORKER_EXTENSION = "/providers/Microsoft.HybridCompute/machines/%s/extensions/HybridWorkerExtension"

# drift -> (host, what verify.yml must say about it)
DRIFTS = {
    # The delete is a long-running operation: verify may still see it Deleting.
    "extension deleted in Azure": ("win-001", "Hybrid Worker extension (missing on the Arc machine|Deleting)"),
    "agent disconnected": ("win-002", "Azure Connected Machine agent not connected as the inventory says; .*Arc machine missing in Azure"),
    "worker record deleted": ("win-003", "worker missing in Azure group east"),
    "stale V2 keys": ("win-004", r"stale extension-based worker registry keys \(an extension install would hang\)"),
}
OFFBOARDED = "win-010"
ROGUE_MACHINE = "rogue-01"


def assert_no_secret(fleet, *texts):
    leaked = [len(secret) for secret in fleet.secrets() for text in texts + (fleet.logs(),) if secret in text]
    assert not leaked, "secrets of these lengths appear in output or lab logs: %s" % leaked


def test_unknown_worker_type_fails_before_any_change(fleet):
    fleet.stats(reset=True)
    run = fleet.run("onboard", "-e", "hybrid_worker_type=agentless")
    assert run.rc != 0
    assert ("hybrid_worker_type 'agentless' of win-001 is not supported: use 'extension' (extension-based workers "
            "through Azure Arc) or 'agent' (agent-based workers, retired by Microsoft). Nothing was changed.") in run.output
    stats = fleet.stats()
    assert stats["azure"]["arm"]["reads"] == 0 and stats["azure"]["arm"]["writes"] == 0
    assert stats["windows"]["commands_total"] == 0


def test_first_run_onboards_every_host_as_an_extension_based_worker(fleet):
    run = fleet.run("onboard")
    assert run.rc == 0, run.describe()
    assert sorted(run.recap) == fleet.hosts
    assert all(counts["changed"] > 0 and counts["failed"] == 0 for counts in run.recap.values()), run.recap
    east = [h for h in fleet.hosts if fleet.group_of(h) == "east"]
    west = [h for h in fleet.hosts if fleet.group_of(h) == "west"]
    assert run.messages("Summary per worker group") == [
        "east: %d/%d onboarded (extension-based), %d changed (%s)" % (len(east), len(east), len(east), ", ".join(east)),
        "west: %d/%d onboarded (extension-based), %d changed (%s)" % (len(west), len(west), len(west), ", ".join(west))]
    assert fleet.workers() == {"east": [("HybridV2", h) for h in east], "west": [("HybridV2", h) for h in west]}
    extensions = fleet.resources("arcExtension")
    assert sorted(e["id"].split("/machines/")[1].split("/")[0].lower() for e in extensions) == fleet.hosts
    assert all(e["provisioningState"] == "Succeeded" for e in extensions)
    # Azure sees a worker once its extension is provisioned; the lab host installs the extension (and starts the
    # worker service) at its next report, one heartbeat round later.
    deadline = time.monotonic() + 30
    for host in fleet.hosts:
        summary = fleet.host(host)
        assert summary["arc_agent"]["status"] == "Connected", host
        while summary["hybrid_worker_v2"]["service"] != "Running":
            assert time.monotonic() < deadline, host
            time.sleep(0.5)
            summary = fleet.host(host)
        assert summary["hrw"]["registered_group"] is None, host
    assert_no_secret(fleet, run.output)


def test_second_run_changes_nothing_with_one_call_per_host_and_no_azure_write(fleet):
    fleet.stats(reset=True)
    run = fleet.run("onboard")
    stats = fleet.stats()
    assert run.rc == 0, run.describe()
    assert run.changed_hosts() == []
    assert stats["azure"]["arm"]["writes"] == 0, stats["azure"]["arm"]["by_operation"]
    assert stats["windows"]["module_calls_per_host"] == dict(
        (host, {"azure_automation.hybrid_worker.win_connected_machine_agent": 1}) for host in fleet.hosts)
    # Every agent is connected as asked: no host is sent the service principal secret.
    assert stats["windows"]["secret_arguments_per_host"] == {}
    operations = stats["azure"]["arm"]["by_operation"]
    # Worker listings per group (before the host play, and verification after it), none per host or machine.
    assert operations["HybridRunbookWorkers_ListByHybridRunbookWorkerGroup"] <= 3 * len(GROUPS) < len(fleet.hosts)
    assert not [op for op in operations if op.startswith(("Machine", "HybridRunbookWorkers_Get"))], operations


def test_verify_on_a_converged_fleet_finds_nothing_with_reads_independent_of_host_count(fleet):
    fleet.stats(reset=True)
    run = fleet.run("verify")
    arm = fleet.stats()["azure"]["arm"]
    assert run.rc == 0, run.describe()
    assert run.messages("Drift report (extension-based workers)") == [
        "0 of %d extension-based hosts drifted, 0 unaccounted extension-based workers" % len(fleet.hosts)]
    assert arm["writes"] == 0, arm["by_operation"]
    # One machine listing (each machine carries its extensions in `resources`), one worker listing per group, the
    # account: nothing per host or per machine.
    operations = arm["by_operation"]
    assert operations["Machines_ListByResourceGroup"] == 1, operations
    assert operations["HybridRunbookWorkers_ListByHybridRunbookWorkerGroup"] == len(GROUPS), operations
    assert not [op for op in operations if op.startswith(("MachineExtensions_", "Machines_Get", "HybridRunbookWorkers_Get"))], operations
    assert arm["reads"] <= 4 + 2 * len(GROUPS) < len(fleet.hosts), operations


def test_each_drift_is_reported_then_corrected_on_that_host_only(fleet):
    machine = DRIFTS["extension deleted in Azure"][0]
    status, answer = fleet.arm("DELETE", HYBRID_WORKER_EXTENSION % machine, "2026-09-01")
    assert status in (200, 202, 204), answer
    fleet.labctl("drift", DRIFTS["agent disconnected"][0], "arc-disconnect")
    record = DRIFTS["worker record deleted"][0]
    [worker] = [w for w in fleet.resources("worker") if w["vmResourceId"].lower().endswith("/" + record)]
    status, answer = fleet.arm("DELETE", "/providers/Microsoft.Automation/automationAccounts/%s/hybridRunbookWorkerGroups/"
                               "east/hybridRunbookWorkers/%s" % (fleet.lab["azure"]["automation_account"], worker["name"]), AA_API)
    assert status == 200, answer
    # Stale keys are what an extension removed through Azure while the host was away leaves behind (with the
    # extension still in Azure the host would simply reinstall it at its next report).
    stale = DRIFTS["stale V2 keys"][0]
    fleet.pump.pause()
    try:
        status, answer = fleet.arm("DELETE", HYBRID_WORKER_EXTENSION % stale, "2026-09-01")
        assert status in (200, 202, 204), answer
        fleet.labctl("drift", stale, "stale-v2-keys")
    finally:
        fleet.pump.resume()

    report = fleet.run("verify")
    assert report.rc != 0
    lines = report.messages("Drift report (extension-based workers)")
    assert fleet.host(stale)["hybrid_worker_v2"]["stale"] is True
    assert lines[-1] == "4 of %d extension-based hosts drifted, 0 unaccounted extension-based workers" % len(fleet.hosts)
    for host, expected in DRIFTS.values():
        [line] = [line for line in lines if line.startswith(host + " ")]
        assert re.search(expected, line), lines

    fleet.stats(reset=True)
    run = fleet.run("onboard")
    assert run.rc == 0, run.describe()
    assert run.changed_hosts() == sorted(host for host, _expected in DRIFTS.values())
    calls = fleet.stats()["windows"]["module_calls_per_host"]
    drifted = [host for host, _expected in DRIFTS.values()]
    assert all(calls[host] == {"azure_automation.hybrid_worker.win_connected_machine_agent": 1}
               for host in fleet.hosts if host not in drifted), calls
    # The other drifts are written in Azure and cost their host its one call. The disconnected agent costs a second
    # call, the one that carries the secret and connects it, and, when the reconnected machine drops its old
    # extension before the new one is installed, a third: the stale-key cleanup that lets the install finish.
    arc = "azure_automation.hybrid_worker.win_connected_machine_agent"
    reconnected = DRIFTS["agent disconnected"][0]
    assert all(calls[host] == {arc: 1} for host in drifted if host != reconnected), calls
    assert list(calls[reconnected]) == [arc] and calls[reconnected][arc] in (2, 3), calls
    secret_calls = fleet.stats()["windows"]["secret_arguments_per_host"]
    assert list(secret_calls) == [reconnected] and secret_calls[reconnected] == {arc: calls[reconnected][arc] - 1}
    assert fleet.run("verify").rc == 0
    assert_no_secret(fleet, report.output, run.output)


def test_verify_reports_an_extension_based_worker_no_inventory_host_accounts_for(fleet):
    """A machine outside the inventory, made a worker of one of its groups (by hand in the portal, say), runs that
    group's jobs: verify.yml names it; the inventory's hosts stay clean."""
    from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure.testing import LabControl  # pylint: disable=import-outside-toplevel
    machine = LabControl(fleet.dir).arc_connect(ROGUE_MACHINE)
    worker_path = "/providers/Microsoft.Automation/automationAccounts/%s/hybridRunbookWorkerGroups/east/hybridRunbookWorkers/%s" % (
        fleet.lab["azure"]["automation_account"], "0f9b7c62-3d5e-4a8b-9c1d-2e3f4a5b6c7d")
    status, answer = fleet.arm("PUT", worker_path, AA_API, {"properties": {"vmResourceId": machine["id"]}})
    assert status in (200, 201), answer
    try:
        run = fleet.run("verify")
        assert run.rc != 0
        assert run.messages("Drift report (extension-based workers)") == [
            "Azure extension-based worker east/%s: no inventory host accounts for it" % ROGUE_MACHINE,
            "0 of %d extension-based hosts drifted, 1 unaccounted extension-based workers" % len(fleet.hosts)]
        assert ("Azure lists 1 extension-based workers in the inventory's groups that no inventory host accounts for "
                "(east/%s); they run the groups' jobs too." % ROGUE_MACHINE) in run.output
        # A worker of an inventory host outside --limit is accounted for, the unknown one still is not.
        limited = fleet.run("verify", "--limit", "win-001")
        assert limited.messages("Drift report (extension-based workers)") == [
            "Azure extension-based worker east/%s: no inventory host accounts for it" % ROGUE_MACHINE,
            "0 of 1 extension-based hosts drifted, 1 unaccounted extension-based workers"]
    finally:
        status, answer = fleet.arm("DELETE", worker_path, AA_API)
        assert status == 200, answer


def test_offboard_removes_extension_record_and_arc_connection(fleet):
    run = fleet.run("offboard", "--limit", OFFBOARDED)
    assert run.rc == 0, run.describe()
    assert run.messages("Summary (extension-based workers)") == ["%s: offboarded" % OFFBOARDED]
    assert OFFBOARDED not in [vm for entries in fleet.workers().values() for _type, vm in entries]
    assert fleet.host(OFFBOARDED)["arc_agent"]["status"] == "Disconnected"
    fleet.stats(reset=True)
    again = fleet.run("offboard", "--limit", OFFBOARDED)
    # The recap counts the check-mode read of the (now disconnected) agent as a change; nothing is written.
    assert again.rc == 0, again.describe()
    assert again.messages("Summary (extension-based workers)") == ["%s: already offboarded" % OFFBOARDED]
    assert fleet.stats()["azure"]["arm"]["writes"] == 0


def test_migrate_turns_agent_based_workers_into_extension_based_ones(agent_fleet, fleet):
    # The first fleet's hosts stay silent from here on (no heartbeat rounds): the last test of this module checks
    # that verify.yml reports workers Azure has not seen lately, and this migration is the wait it needs.
    fleet.pump.pause()
    fleet.silent_since = time.monotonic()
    onboarded = agent_fleet.run("onboard")
    assert onboarded.rc == 0, onboarded.describe()
    assert all(t == "HybridV1" for entries in agent_fleet.workers().values() for t, _vm in entries)

    agent_fleet.use_extension()
    with WorkerKindsObserver(agent_fleet) as observer:
        run = agent_fleet.run("migrate")
    assert run.rc == 0, run.describe()
    assert not observer.errors, observer.errors[:3]
    # What Azure listed for each host over the move: the agent-based worker alone, both kinds only during the move,
    # the extension-based worker alone at the end (a host never left its group).
    timeline = observer.timeline()
    assert timeline == dict((host, [("HybridV1",), ("HybridV1", "HybridV2"), ("HybridV2",)]) for host in agent_fleet.hosts), timeline
    assert len(observer.samples) > 10
    # The agent-based registration goes only after the new worker was seen (the documented order).
    assert run.output.index("TASK [Wait until Azure has seen") < run.output.index("TASK [Remove the agent-based worker")
    assert run.messages("Summary of the move") == [
        "%s: migrated, agent-based registration removed" % host for host in agent_fleet.hosts]
    workers = agent_fleet.workers()
    for host in agent_fleet.hosts:
        assert ("HybridV2", host) in workers[agent_fleet.group_of(host)], workers
        assert agent_fleet.host(host)["hrw"]["registered_group"] is None
    assert all(t == "HybridV2" for entries in workers.values() for t, _vm in entries), workers

    agent_fleet.stats(reset=True)
    again = agent_fleet.run("migrate")
    assert again.rc == 0, again.describe()
    assert again.changed_hosts() == []
    assert agent_fleet.stats()["azure"]["arm"]["writes"] == 0
    assert again.messages("Summary of the move") == ["%s: already migrated" % host for host in agent_fleet.hosts]
    assert agent_fleet.run("verify").rc == 0
    assert_no_secret(agent_fleet, run.output, again.output)


def test_verify_reports_workers_azure_has_not_seen_for_the_max_age(fleet):
    # One minute is the shortest max age; the hosts have been silent since the migration test began. The wait counts
    # from the newest lastSeenDateTime of their workers, not from the pause: how long the migration took varies.
    onboarded = [host for host in fleet.hosts if host != OFFBOARDED]
    assert fleet.silent_since is not None
    newest = max(datetime.datetime.fromisoformat(worker["lastSeenDateTime"].replace("Z", "+00:00"))
                 for worker in fleet.resources("worker")
                 if (worker.get("vmResourceId") or "").rsplit("/", 1)[-1].lower() in onboarded)
    age = (datetime.datetime.now(datetime.timezone.utc) - newest).total_seconds()
    # Ages are compared in minutes rounded to a tenth: past 1.0 means 66 s or more.
    time.sleep(max(0.0, 70 - age))
    run = fleet.run("verify", "--limit", ",".join(onboarded), "-e", "hybrid_worker_heartbeat_max_age_minutes=1")
    assert run.rc != 0
    assert run.messages("Drift report (extension-based workers)") == [
        "%s (%s): worker not seen by Azure in the last 1 minutes" % (host, fleet.group_of(host)) for host in onboarded] + [
        "%d of %d extension-based hosts drifted, 0 unaccounted extension-based workers" % (len(onboarded), len(onboarded))]
    # Seen again after the next heartbeat round: nothing to report.
    fleet.pump.resume()
    time.sleep(2 * fleet.pump.seconds + 1)
    again = fleet.run("verify", "--limit", ",".join(onboarded), "-e", "hybrid_worker_heartbeat_max_age_minutes=1")
    assert again.rc == 0, again.messages("Drift report (extension-based workers)")
