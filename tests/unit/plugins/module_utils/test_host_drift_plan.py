"""converge_plan: one probe result + the modules' arguments -> which modules the converge action runs on the host."""
import copy

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.host_drift import (
    agent_settings,
    converge_plan,
    forgotten_by_azure,
    module_arguments,
    worker_settings,
)

WORKSPACE = "11111111-2222-3333-4444-555555555555"
ACCOUNT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
URL = "https://127.0.0.1:9/agentsvc/accounts/" + ACCOUNT
PROBE = {
    "changed": False,
    "agent": {"installed": True, "version": "10.20.18067.0", "service": "Running", "proxy_url": "",
              "workspaces": [{"id": WORKSPACE, "connection_status": 0, "connected": True, "cloud": "AzureCloud"}]},
    "hybrid_registration": {"path": "C:\\x\\HybridRegistration.psd1", "version": "7.3.1722.0"},
    "worker_registrations": [{"group": "east", "account_id": ACCOUNT, "layout": "current"}],
    "prerequisites": {"powershell_version": "5.1.17763.1", "dotnet_release": 528049, "is_64bit_process": True,
                      "tls12_enabled": True, "strong_crypto": True},
    "powershell_modules": [{"name": "Az.Accounts", "versions": ["2.19.0"]}],
}
AGENT_ARGS = {"state": "present", "workspaces": [{"id": WORKSPACE, "key": "c2VjcmV0"}], "installer_url": "",
              "installer_checksum": "ab" * 32, "proxy_url": "", "minimum_version": "", "fix_tls_settings": False}
WORKER_ARGS = {"state": "present", "group_name": "east", "url": URL, "key": "c2VjcmV0", "wait_timeout": 60}
MODULES = [{"name": "Az.Accounts", "version": "2.19.0"}]


def plan(probe=None, azure_workers=None, computer="WIN-001", modules=None):
    return converge_plan(probe or PROBE, AGENT_ARGS, WORKER_ARGS, MODULES if modules is None else modules,
                         azure_workers, computer)


def test_converged_host_needs_no_module():
    result = plan(azure_workers=["WIN-001", "WIN-002"])
    assert result["concerns"] == [] and result["drift"] == [] and result["reregister"] is False


def test_each_drift_picks_only_its_concern():
    stopped = copy.deepcopy(PROBE)
    stopped["agent"]["service"] = "Stopped"
    assert plan(stopped)["concerns"] == ["agent"]
    moved = copy.deepcopy(PROBE)
    moved["worker_registrations"][0]["group"] = "west"
    assert plan(moved)["concerns"] == ["worker"]
    assert plan(modules=[{"name": "Az.Automation"}])["concerns"] == ["powershell_modules"]


def test_a_worker_azure_forgot_is_registered_again():
    result = plan(azure_workers=["WIN-002"], computer="win-001")
    assert result["reregister"] is True and result["concerns"] == []
    assert result["drift"] == ["worker missing in Azure group east"]


def test_no_registration_again_without_a_listing_or_when_the_worker_module_runs_anyway():
    assert plan(azure_workers=None)["reregister"] is False
    unregistered = copy.deepcopy(PROBE)
    unregistered["worker_registrations"] = []
    result = plan(unregistered, azure_workers=[])
    assert result["concerns"] == ["worker"] and result["reregister"] is False


def test_forgotten_by_azure_needs_one_registration_in_the_wanted_group():
    several = copy.deepcopy(PROBE)
    several["worker_registrations"].append({"group": "west", "account_id": ACCOUNT})
    assert forgotten_by_azure(several, WORKER_ARGS, [], "WIN-001") is False
    assert forgotten_by_azure(PROBE, dict(WORKER_ARGS, state="absent"), [], "WIN-001") is False
    assert forgotten_by_azure(PROBE, WORKER_ARGS, [], "WIN-001") is True


def test_settings_come_from_the_module_arguments_with_module_defaults():
    assert agent_settings({}) == {"state": "present", "workspaces": [], "remove_unlisted_workspaces": False,
                                  "minimum_version": "", "proxy_url": "", "fix_tls_settings": False}
    assert worker_settings(WORKER_ARGS) == {"state": "present", "group": "east", "registration_url": URL}


def test_module_arguments_leave_unset_values_to_the_module():
    assert module_arguments({"installer_url": "", "installer_path": None, "validate_installer_checksum": False,
                             "wait_timeout": 0}) == {"validate_installer_checksum": False, "wait_timeout": 0}
