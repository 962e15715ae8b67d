"""hybrid_worker_drift: probe result + desired settings -> the concerns whose module must run, and why."""
import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.azure_automation.hybrid_worker.plugins.filter.hybrid_worker_drift import (
    FilterModule, hybrid_worker_drift,
)

WORKSPACE = "11111111-2222-3333-4444-555555555555"
OTHER_WORKSPACE = "99999999-2222-3333-4444-555555555555"
ACCOUNT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
URL = "https://127.0.0.1:9/agentsvc/accounts/" + ACCOUNT.upper()

CONVERGED = {
    "changed": False,
    "agent": {"installed": True, "version": "10.20.18067.0", "service": "Running", "proxy_url": "",
              "workspaces": [{"id": WORKSPACE, "connection_status": 0, "connected": True, "cloud": "AzureCloud"}]},
    "hybrid_registration": {"path": "C:\\x\\HybridRegistration.psd1", "version": "7.3.1722.0"},
    "worker_registrations": [{"group": "east", "account_id": ACCOUNT, "layout": "current"}],
    "extension_worker": {"service": None, "registry_keys": [], "stale": False},
    "prerequisites": {"powershell_version": "5.1.17763.1", "dotnet_release": 528049, "is_64bit_process": True,
                      "tls12_enabled": True, "strong_crypto": True},
    "powershell_modules": [{"name": "Az.Accounts", "versions": ["2.18.0", "2.19.0"]},
                           {"name": "Az.Automation", "versions": ["1.10.0"]}],
}
AGENT = {"state": "present", "workspaces": [{"id": WORKSPACE.upper(), "cloud": "AzureCloud"}],
         "remove_unlisted_workspaces": False, "minimum_version": "", "proxy_url": "", "fix_tls_settings": False}
WORKER = {"state": "present", "group": "east", "registration_url": URL}
MODULES = [{"name": "Az.Accounts", "version": "2.19.0"}, {"name": "az.automation"}]


def drift(probe=None, agent=None, worker=None, modules=None):
    return hybrid_worker_drift(probe or CONVERGED, agent=agent or AGENT, worker=worker or WORKER,
                               powershell_modules=MODULES if modules is None else modules)


def changed(path, value):
    probe = copy.deepcopy(CONVERGED)
    target = probe
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return probe


def test_converged_host_needs_nothing():
    result = drift()
    assert result == {"agent": [], "worker": [], "powershell_modules": [], "notes": [], "concerns": [], "drift": []}


def test_filter_is_registered_under_its_name():
    assert FilterModule().filters()["hybrid_worker_drift"] is hybrid_worker_drift


@pytest.mark.parametrize("path, value, reason", [
    (("agent", "service"), "Stopped", "agent service HealthService not running"),
    (("agent", "workspaces"), [], "workspace %s not attached to the agent" % WORKSPACE),
    (("agent", "workspaces", 0, "cloud"), "AzureUSGovernment",
     "workspace %s attached in AzureUSGovernment instead of AzureCloud" % WORKSPACE),
    (("prerequisites", "dotnet_release"), 379893, ".NET Framework 4.6.2 missing (release 379893)"),
    (("prerequisites", "powershell_version"), "4.0", "Windows PowerShell 5.1 missing (found 4.0)"),
    (("prerequisites", "strong_crypto"), False, "TLS 1.2 not usable"),
])
def test_each_agent_drift_names_only_the_agent(path, value, reason):
    result = drift(changed(path, value))
    assert result["agent"] == [reason]
    assert result["concerns"] == ["agent"] and result["drift"] == [reason]


def test_missing_agent_is_one_reason_and_skips_workspace_checks():
    probe = changed(("agent",), {"installed": False, "version": None, "service": None, "proxy_url": None,
                                 "workspaces": []})
    assert drift(probe)["agent"] == ["Log Analytics agent not installed"]


def test_minimum_version_compares_numbers_not_text():
    assert drift(agent=dict(AGENT, minimum_version="10.20.9999.0"))["agent"] == []
    assert drift(agent=dict(AGENT, minimum_version="10.20.18068.0"))["agent"] == [
        "Log Analytics agent 10.20.18067.0 older than 10.20.18068.0"]
    assert drift(agent=dict(AGENT, minimum_version="latest"))["agent"] == ["minimum_version latest is not a version number"]


def test_proxy_only_counts_when_asked_for():
    assert drift(agent=dict(AGENT, proxy_url=""))["agent"] == []
    assert drift(agent=dict(AGENT, proxy_url="proxy:3128"))["agent"] == ["agent proxy (none) instead of proxy:3128"]


def test_unlisted_workspaces_only_count_with_removal():
    probe = copy.deepcopy(CONVERGED)
    probe["agent"]["workspaces"].append({"id": OTHER_WORKSPACE, "connection_status": 0, "connected": True,
                                         "cloud": "AzureCloud"})
    assert drift(probe)["agent"] == []
    assert drift(probe, agent=dict(AGENT, remove_unlisted_workspaces=True))["agent"] == [
        "workspace %s attached but not listed" % OTHER_WORKSPACE]


def test_a_workspace_not_connected_is_a_note_no_module_corrects():
    result = drift(changed(("agent", "workspaces", 0, "connected"), False))
    assert result["concerns"] == [] and result["agent"] == []
    assert result["notes"] == ["workspace %s attached but not connected (status 0)" % WORKSPACE]


def test_absent_agent_and_worker():
    result = drift(agent={"state": "absent"}, worker={"state": "absent", "registration_url": URL})
    assert result["agent"] == ["Log Analytics agent 10.20.18067.0 installed"]
    assert result["worker"] == ["registered in group east"]
    bare = changed(("worker_registrations",), [])
    bare["agent"] = {"installed": False, "version": None, "service": None, "proxy_url": None, "workspaces": []}
    assert drift(bare, agent={"state": "absent"}, worker={"state": "absent", "registration_url": URL})["concerns"] == []


@pytest.mark.parametrize("registrations, reason", [
    ([], "not registered as a Hybrid Runbook Worker"),
    ([{"group": "west", "account_id": ACCOUNT, "layout": "current"}], "registered in group west instead of east"),
    ([{"group": "east", "account_id": "bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee", "layout": "current"}],
     "registered in Automation account bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee instead of " + ACCOUNT),
    ([{"group": "east", "account_id": ACCOUNT, "layout": "current"},
      {"group": "west", "account_id": ACCOUNT, "layout": "current"}],
     "registered in several groups (east, west) instead of east"),
])
def test_each_worker_drift_names_only_the_worker(registrations, reason):
    result = drift(changed(("worker_registrations",), registrations))
    assert result["worker"] == [reason] and result["concerns"] == ["worker"]


def test_legacy_registration_in_the_right_group_is_converged():
    probe = changed(("worker_registrations",), [{"group": "east", "account_id": None, "layout": "legacy"}])
    assert drift(probe)["concerns"] == []


def test_bad_registration_url_is_left_to_the_module_to_refuse():
    assert drift(worker=dict(WORKER, registration_url="https://example.com/nothing"))["worker"] == [
        "registration URL is not an Automation account registration URL"]


def test_missing_or_wrong_version_modules_are_returned_as_requested():
    probe = changed(("powershell_modules",), [{"name": "Az.Accounts", "versions": ["2.18.0"]},
                                              {"name": "Az.Automation", "versions": []}])
    result = drift(probe)
    assert result["powershell_modules"] == MODULES
    assert result["concerns"] == ["powershell_modules"]
    assert result["drift"] == ["PowerShell module Az.Accounts 2.19.0 missing", "PowerShell module az.automation missing"]


def test_a_module_the_probe_was_not_asked_about_counts_as_missing():
    assert drift(modules=[{"name": "Pester"}])["powershell_modules"] == [{"name": "Pester"}]


def test_concerns_not_given_are_not_compared():
    result = hybrid_worker_drift(changed(("worker_registrations",), []), agent=AGENT)
    assert result["concerns"] == [] and result["worker"] == []


@pytest.mark.parametrize("probe, message", [
    ({"failed": True, "msg": "boom"}, "needs a successful win_hybrid_worker_info result, got a failed one"),
    ({"skipped": True}, "got a skipped one"),
    ({"changed": False}, "expects the result of win_hybrid_worker_info, got dict"),
    ("text", "got str"),
])
def test_anything_but_a_probe_result_is_refused(probe, message):
    with pytest.raises(AnsibleFilterError, match=message):
        hybrid_worker_drift(probe, agent=AGENT)
