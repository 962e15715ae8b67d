"""onboarding_arguments: the converge arguments onboard.yml needs, read from a host's variables with the roles' defaults."""
import pytest

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.host_drift import (
    MissingVariable,
    onboarding_arguments,
)

FACTS = {
    "inventory_hostname_short": "win-007",
    "hybrid_runbook_worker_group": "east",
    "automation_prerequisites_workspace_id": "11111111-2222-3333-4444-555555555555",
    "automation_prerequisites_workspace_key": "workspace-key",
    "automation_prerequisites_registration_url": "https://agentsvc.example/accounts/a",
    "automation_prerequisites_registration_key": "registration-key",
    "hybrid_worker_azure_workers_before": {"east": ["WIN-007"], "west": ["WIN-002"]},
}


def read(variables):
    def variable(name):
        return variables[name]  # KeyError for a variable the host does not set
    return onboarding_arguments(variable)


def test_defaults_are_the_roles_and_the_facts_of_play_one():
    args = read(FACTS)
    assert args["agent"] == {
        "state": "present", "workspaces": [{"id": FACTS["automation_prerequisites_workspace_id"], "key": "workspace-key"}],
        "remove_unlisted_workspaces": False, "installer_url": "", "installer_path": "", "installer_checksum": "",
        "validate_installer_checksum": True, "minimum_version": "", "proxy_url": "", "proxy_username": "",
        "proxy_password": "", "fix_tls_settings": False}
    assert args["worker"] == {"state": "present", "group_name": "east", "url": "https://agentsvc.example/accounts/a",
                              "key": "registration-key", "wait_timeout": 600}
    assert args["powershell_modules"] == []
    assert args["azure_workers"] == ["WIN-007"]
    assert args["computer_name"] == "WIN-007"


def test_host_variables_win_over_the_defaults():
    variables = dict(FACTS, log_analytics_agent_workspaces=[{"id": "w2", "key": "k2"}], log_analytics_agent_installer_url="https://x/agent.exe",
                     log_analytics_agent_installer_checksum="abc", log_analytics_agent_proxy_url="http://proxy:8080",
                     hybrid_runbook_worker_registration_url="https://own/accounts/b", hybrid_runbook_worker_registration_key="own-key",
                     hybrid_runbook_worker_wait_timeout=60, hybrid_runbook_worker_powershell_modules=[{"name": "Az.Accounts"}],
                     hybrid_worker_computer_name="sql-node-1", hybrid_runbook_worker_group="west")
    args = read(variables)
    assert args["agent"]["workspaces"] == [{"id": "w2", "key": "k2"}]
    assert args["agent"]["installer_url"] == "https://x/agent.exe"
    assert args["agent"]["installer_checksum"] == "abc"
    assert args["agent"]["proxy_url"] == "http://proxy:8080"
    assert args["worker"] == {"state": "present", "group_name": "west", "url": "https://own/accounts/b", "key": "own-key", "wait_timeout": 60}
    assert args["powershell_modules"] == [{"name": "Az.Accounts"}]
    assert args["azure_workers"] == ["WIN-002"]
    assert args["computer_name"] == "SQL-NODE-1"


def test_a_local_installer_wins_over_the_download():
    args = read(dict(FACTS, log_analytics_agent_installer_path="C:\\Setup\\MMASetup-AMD64.exe", log_analytics_agent_installer_url="https://x/a.exe"))
    assert args["agent"]["installer_path"] == "C:\\Setup\\MMASetup-AMD64.exe"
    assert args["agent"]["installer_url"] == ""


def test_no_azure_listing_for_the_group_leaves_azure_unchecked():
    assert read(dict(FACTS, hybrid_runbook_worker_group="sql"))["azure_workers"] is None
    without = dict(FACTS)
    del without["hybrid_worker_azure_workers_before"]
    assert read(without)["azure_workers"] is None


def test_workspaces_set_to_null_stay_null_like_the_default_filter():
    assert read(dict(FACTS, log_analytics_agent_workspaces=None))["agent"]["workspaces"] is None


@pytest.mark.parametrize("missing, message", [
    ("hybrid_runbook_worker_group", "hybrid_runbook_worker_group is not set for this host"),
    ("automation_prerequisites_registration_url",
     "hybrid_runbook_worker_registration_url is not set for this host (nor automation_prerequisites_registration_url)"),
    ("automation_prerequisites_registration_key",
     "hybrid_runbook_worker_registration_key is not set for this host (nor automation_prerequisites_registration_key)"),
])
def test_a_missing_required_variable_is_named(missing, message):
    variables = dict(FACTS)
    del variables[missing]
    with pytest.raises(MissingVariable) as error:
        read(variables)
    assert str(error.value) == message
