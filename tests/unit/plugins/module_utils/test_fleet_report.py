"""The end of a fleet run: outcomes, older worker records, the report per host and the summary lines."""
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.fleet_report import (
    build_report,
    listed_workers,
    older_records,
    outcome_of,
    summary_lines,
)

GROUPS = [{"name": "east", "workers": [
    {"name": "WIN-001", "id": "old", "registered_date_time": "2026-01-01T00:00:00Z"},
    {"name": "win-001", "id": "new", "registered_date_time": "2026-02-01T00:00:00Z"},
    {"name": "WIN-004", "id": "only", "registered_date_time": "2026-01-01T00:00:00Z"},
    {"name": "STRAY", "id": "s1", "registered_date_time": "2026-01-01T00:00:00Z"},
    {"name": "STRAY", "id": "s2", "registered_date_time": "2026-02-01T00:00:00Z"}]}]


def host(status="onboarded", changed=False, group="east", computer=None, **extra):
    return {"outcome": dict(status=status, changed=changed, **extra), "group": group, "computer": computer}


def test_outcome_of_a_result():
    assert outcome_of(None) == {"status": "unreachable", "changed": False}
    assert outcome_of({"unreachable": True, "msg": "timed out"})["status"] == "unreachable"
    assert outcome_of({"failed": True, "msg": "bad args"}) == {"status": "failed", "changed": False,
                                                               "task": "Onboard the host", "message": "bad args"}
    assert outcome_of({"outcome": {"status": "onboarded", "changed": True}}) == {"status": "onboarded", "changed": True}


def test_only_older_records_of_onboarded_computers_are_deleted():
    assert older_records(GROUPS, ["win-001", "WIN-004"]) == [{"group": "east", "id": "old", "name": "WIN-001"}]


def test_listed_workers_by_group():
    assert listed_workers(GROUPS) == {"east": ["WIN-001", "WIN-001", "WIN-004", "STRAY", "STRAY"]}


def test_report_and_summary_lines():
    hosts = {"win-001": host(changed=True, computer="WIN-001"), "win-004": host(computer="WIN-004"),
             "win-007": host(computer="WIN-007"), "win-010": host("unreachable"),
             "win-013": host("failed", task="Log Analytics agent", message="exit code 1603"),
             "win-002": host(group="west", computer="WIN-002")}
    report = build_report(hosts, False, listed_workers(GROUPS), ["WIN-004"], None, 30)
    assert report["win-004"] == {"group": "east", "status": "unverified", "changed": False,
                                 "detail": "no agent heartbeat in the last 30 minutes"}
    assert report["win-007"]["detail"] == "not listed as a worker of group east in Azure"
    assert report["win-013"]["detail"] == 'failed in "Log Analytics agent": exit code 1603'
    assert summary_lines(report, False) == [
        "east: 1/5 onboarded, 1 changed (win-001), failed: win-013, unreachable: win-010, unverified: win-004, win-007",
        "west: 0/1 onboarded, 0 changed, unverified: win-002",
        "win-002 unverified: not listed as a worker of group west in Azure",
        "win-004 unverified: no agent heartbeat in the last 30 minutes",
        "win-007 unverified: not listed as a worker of group east in Azure",
        "win-010 unreachable: unreachable or stopped before finishing; a re-run completes it",
        "win-013 failed: failed in \"Log Analytics agent\": exit code 1603"]


def test_check_mode_verifies_nothing_and_says_would():
    hosts = {"win-%03d" % n: host(changed=True, computer="WIN-%03d" % n) for n in range(1, 13)}
    report = build_report(hosts, True, {}, [], None, 30)
    assert summary_lines(report, True) == ["east: 12/12 would be onboarded, 12 would change"]


def test_a_failed_heartbeat_query_is_named():
    report = build_report({"win-001": host(computer="WIN-001")}, False, listed_workers(GROUPS), [], "Forbidden", 30)
    assert report["win-001"]["detail"] == "heartbeat query failed: Forbidden"
