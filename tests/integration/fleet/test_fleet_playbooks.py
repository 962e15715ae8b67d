"""End-to-end: onboard.yml, verify.yml and offboard.yml on a 20-host lab fleet over 3 worker groups.

The tests run in file order on one fleet (each builds on the state the previous one left, as an operator's runs
do): first onboarding, converged re-run, drift reported then corrected, check mode, an unreachable host, offboarding.
Playbooks run by their FQCN with only the lab's Azure environment variables and inventory, as a user would.
"""
# labctl drift kind -> (host, extra argument, what verify.yml must say about the host)
DRIFTS = {
    "stop-service": ("win-001", None, "agent service HealthService not running"),
    "uninstall-agent": ("win-002", None, "Log Analytics agent not installed"),
    "remove-workspace": ("win-003", None, "not attached to the agent"),
    "unregister": ("win-004", None, "not registered as a Hybrid Runbook Worker"),
    "move-group": ("win-005", "sql", "registered in group sql instead of west"),
    "delete-azure-worker": ("win-006", None, "worker missing in Azure group sql"),
    "remove-psmodule": ("win-009", "Az.Accounts", "PowerShell module Az.Accounts 2.19.0 missing"),
}
# A host whose group the inventory changes: onboard.yml must move it.
MOVED_HOST, MOVED_FROM, MOVED_TO = "win-007", "east", "west"
DRIFTED_HOSTS = sorted([drift[0] for drift in DRIFTS.values()] + [MOVED_HOST])
UNREACHABLE_HOST = "win-010"
OFFBOARDED = ("win-011", "win-012")


def registered_group(fleet, host):
    return fleet.host(host)["hrw"]["registered_group"]


def test_first_run_onboards_every_host(fleet):
    run = fleet.run("onboard")
    assert run.rc == 0, run.describe()
    assert sorted(run.recap) == fleet.hosts
    assert all(counts["changed"] > 0 and counts["failed"] == 0 for counts in run.recap.values()), run.recap
    summary = run.messages("Summary per worker group")
    assert summary == ["east: 7/7 onboarded, 7 changed (win-001, win-004, win-007, win-010, win-013, win-016, win-019)",
                       "sql: 6/6 onboarded, 6 changed (win-003, win-006, win-009, win-012, win-015, win-018)",
                       "west: 7/7 onboarded, 7 changed (win-002, win-005, win-008, win-011, win-014, win-017, win-020)"]

    # Agent-based workers are retired: the run says so once, as a warning naming how many hosts and what to do.
    flat = " ".join(run.output.split())
    assert flat.count("host(s) use agent-based Hybrid Runbook Workers") == 1, run.describe()
    assert "[WARNING]: 20 host(s) use agent-based Hybrid Runbook Workers (hybrid_worker_type 'agent': win-001, " in flat
    assert "run the collection's migrate.yml." in flat

    workers = fleet.azure_workers()
    beating = fleet.heartbeat_computers()
    for host in fleet.hosts:
        assert registered_group(fleet, host) == fleet.group_of(host)
        assert workers.get(host) == [fleet.group_of(host)], host
        assert host in beating, host
    leaked = [len(secret) for secret in fleet.secrets() if secret in run.output]
    assert not leaked, "secrets of these lengths appear in the playbook output: %s" % leaked


def test_second_run_changes_nothing_and_stays_cheap(fleet):
    fleet.stats(reset=True)
    run = fleet.run("onboard")
    stats = fleet.stats()
    assert run.rc == 0, run.describe()
    assert run.changed_hosts() == []
    assert stats["azure"]["arm"]["writes"] == 0, stats["azure"]["arm"]["by_operation"]
    assert stats["azure"]["agentsvc"]["register"] == 0
    # The design's allowance per converged host: at most one call per concern (agent, worker, PowerShell
    # modules), the same on every host.
    calls = stats["windows"]["module_calls_per_host"]
    assert sorted(calls) == fleet.hosts
    assert all(calls[host] == calls[fleet.hosts[0]] for host in fleet.hosts), calls
    assert sum(calls[fleet.hosts[0]].values()) <= 3 and max(calls[fleet.hosts[0]].values()) == 1, calls
    fleet.converged_calls = calls[fleet.hosts[0]]
    # Azure reads do not depend on the number of hosts: the workers are listed once per group, before and after.
    assert stats["azure"]["arm"]["by_operation"]["HybridRunbookWorkers_ListByHybridRunbookWorkerGroup"] <= 3 * 3
    assert stats["azure"]["query"]["requests"] == 1


def test_verify_reports_each_drift_kind(fleet):
    for kind, drift in DRIFTS.items():
        host, argument = drift[0], drift[1]
        fleet.labctl("drift", host, kind, *([argument] if argument else []))
    fleet.set_inventory_group(MOVED_HOST, MOVED_TO)

    run = fleet.run("verify")
    assert run.rc != 0, run.describe()
    report = run.messages("Drift report")
    by_host = dict((line.split(" ", 1)[0], line) for line in report if line.startswith("win-"))
    assert sorted(by_host) == DRIFTED_HOSTS, report
    for kind, drift in DRIFTS.items():
        host, message = drift[0], drift[2]
        assert message in by_host[host], (kind, by_host[host])
    assert "registered in group %s instead of %s" % (MOVED_FROM, MOVED_TO) in by_host[MOVED_HOST]
    assert "worker listed in Azure group %s instead of %s" % (MOVED_FROM, MOVED_TO) in by_host[MOVED_HOST]
    # The worker moved behind Ansible's back, and the one whose inventory group changed, sit in groups where no
    # inventory host accounts for them.
    assert report[-3:] == ["Azure worker east/WIN-007 (group/computer): no inventory host accounts for it",
                           "Azure worker sql/WIN-005 (group/computer): no inventory host accounts for it",
                           "8 of 20 hosts drifted, 2 unaccounted Azure workers"]
    # Each drifted host fails; the first host still in the play also carries the unaccounted worker finding.
    failed = sorted(host for host, counts in run.recap.items() if counts["failed"])
    assert failed == sorted(DRIFTED_HOSTS + ["win-008"])


def test_check_mode_on_drifted_fleet_reports_and_changes_nothing(fleet):
    fleet.pump.pause()
    try:
        before = fleet.state_files()
        run = fleet.run("onboard", "--check", "--diff")
        after = fleet.state_files()
    finally:
        fleet.pump.resume()
    assert run.rc == 0, run.describe()
    changed_files = sorted(name for name in before if before[name] != after.get(name))
    assert changed_files == []
    # delete-azure-worker is seen in Azure only: check mode reports it through the re-registration it would do.
    assert run.changed_hosts() == DRIFTED_HOSTS
    summary = run.messages("Summary per worker group")
    assert summary[0] == "east: 6/6 would be onboarded, 2 would change (win-001, win-004)"


def test_onboard_corrects_drift_on_drifted_hosts_only(fleet):
    fleet.stats(reset=True)
    run = fleet.run("onboard")
    assert run.rc == 0, run.describe()
    assert run.changed_hosts() == DRIFTED_HOSTS
    calls = fleet.stats()["windows"]["module_calls_per_host"]
    # Hosts without drift cost what a converged host costs.
    assert all(calls[host] == fleet.converged_calls for host in fleet.hosts if host not in DRIFTED_HOSTS), calls

    workers = fleet.azure_workers()
    for host in fleet.hosts:
        assert registered_group(fleet, host) == fleet.group_of(host), host
        assert workers.get(host) == [fleet.group_of(host)], (host, workers.get(host))
    assert registered_group(fleet, MOVED_HOST) == MOVED_TO
    assert fleet.host("win-001")["health_service"] == "Running"

    # verify.yml on the corrected (converged) fleet: no drift, nothing changed, exit code 0.
    again = fleet.run("verify")
    assert again.rc == 0, again.describe()
    assert again.messages("Drift report") == ["0 of 20 hosts drifted, 0 unaccounted Azure workers"]
    assert again.changed_hosts() == []


def test_unreachable_host_does_not_stop_the_others_and_is_completed_later(fleet):
    fleet.labctl("drift", "win-013", "stop-service")
    fleet.labctl("drift", UNREACHABLE_HOST, "stop-service")
    fleet.labctl("fault", UNREACHABLE_HOST, "unreachable")
    run = fleet.run("onboard")
    assert run.rc != 0, run.describe()
    assert run.recap[UNREACHABLE_HOST]["unreachable"] == 1
    assert run.changed_hosts() == ["win-013"]
    assert all(counts["failed"] == 0 for host, counts in run.recap.items()), run.recap
    summary = run.messages("Summary per worker group")
    assert summary[0] == "east: 5/6 onboarded, 1 changed (win-013), unreachable: win-010"
    assert "win-010 unreachable: unreachable or stopped before finishing; a re-run completes it" in summary
    assert fleet.host(UNREACHABLE_HOST)["health_service"] == "Stopped"

    fleet.labctl("fault", UNREACHABLE_HOST, "clear")
    again = fleet.run("onboard", "--limit", UNREACHABLE_HOST)
    assert again.rc == 0, again.describe()
    assert again.changed_hosts() == [UNREACHABLE_HOST]
    assert fleet.host(UNREACHABLE_HOST)["health_service"] == "Running"


def test_offboard_two_hosts_then_onboard_them_again(fleet):
    limit = ",".join(OFFBOARDED)
    run = fleet.run("offboard", "--limit", limit)
    assert run.rc == 0, run.describe()
    assert run.messages("Summary") == ["win-011: offboarded from group west", "win-012: offboarded from group sql"]
    workers = fleet.azure_workers()
    for host in OFFBOARDED:
        assert registered_group(fleet, host) is None
        assert host not in workers
    assert all(host in workers for host in fleet.hosts if host not in OFFBOARDED)

    back = fleet.run("onboard", "--limit", limit)
    assert back.rc == 0, back.describe()
    assert back.changed_hosts() == list(OFFBOARDED)
    workers = fleet.azure_workers()
    for host in OFFBOARDED:
        assert registered_group(fleet, host) == fleet.group_of(host)
        assert workers.get(host) == [fleet.group_of(host)]


def test_offboard_refuses_the_whole_fleet_without_a_limit(fleet):
    run = fleet.run("offboard")
    assert run.rc != 0
    assert "give the hosts with --limit, or set -e hybrid_worker_offboard_all=true" in run.output
    assert all(registered_group(fleet, host) == fleet.group_of(host) for host in ("win-001", "win-020"))
