"""The lab model of win_hybrid_worker_info: documented keys, read-only, and in agreement with the modules it stands in
for (what the drift filter concludes from the probe is what the agent and worker models do)."""
import json

import pytest
import yaml

from ansible_collections.azure_automation.hybrid_worker.plugins.filter.hybrid_worker_drift import hybrid_worker_drift
from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows import host as hostmod
from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows import models
from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.models import (
    win_hybrid_runbook_worker as worker_model,
    win_hybrid_worker_info as probe_model,
    win_log_analytics_agent as agent_model,
)

WORKSPACE_ID = "11111111-2222-3333-4444-555555555555"
WORKSPACE_KEY = "d29ya3NwYWNlLWtleS1mb3ItcHJvYmUtdGVzdHM="
REGISTRATION_URL = "https://127.0.0.1:9/agentsvc/accounts/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
INSTALLER = "C:\\share\\MMASetup-AMD64.exe"
AGENT_ARGS = {"installer_path": INSTALLER, "workspaces": [{"id": WORKSPACE_ID, "key": WORKSPACE_KEY}]}
DESIRED_AGENT = {"state": "present", "workspaces": [{"id": WORKSPACE_ID}], "proxy_url": "", "minimum_version": ""}


def sidecar_return():
    with open(models.MODULES_DIR + "/win_hybrid_worker_info.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["RETURN"]


def lab_host(profile="2019"):
    host = hostmod.Host(hostmod.new_state("probe", "127.0.0.9", profile))
    manifest = {"version": "10.20.18029.0", "product_code": "{8A7F2C51-4C7D-4BFD-9014-91D11F24AAE2}"}
    host.add_file(INSTALLER, b"HYBRID-WORKER-LAB STAND-IN INSTALLER\n" + json.dumps(manifest).encode() + b"\n")
    return host


def run(fqcn, host, args, check_mode=False):
    result, _rc = models.dispatch(fqcn, host, dict(args), check_mode=check_mode, diff=True)
    return result


def probe(host, names=(), check_mode=False):
    before = json.dumps(host.state, sort_keys=True)
    result = run(probe_model.FQCN, host, {"powershell_modules": list(names)}, check_mode=check_mode)
    assert json.dumps(host.state, sort_keys=True) == before, "the probe changed the host"
    assert result.get("failed") is not True, result
    return result


@pytest.mark.parametrize("check_mode", [False, True])
def test_bare_host_read_has_the_documented_keys_and_changes_nothing(check_mode):
    result = probe(lab_host(), ["Az.Accounts"], check_mode=check_mode)
    documented = sidecar_return()
    assert set(result) - {"changed", "invocation"} == set(documented)
    for key, value in result.items():
        if isinstance(value, dict) and "contains" in documented.get(key, {}):
            assert set(value) == set(documented[key]["contains"]), key
    assert result["changed"] is False
    assert result["agent"] == {"installed": False, "version": None, "service": None, "proxy_url": None, "workspaces": []}
    assert result["worker_registrations"] == []
    assert result["powershell_modules"] == [{"name": "Az.Accounts", "versions": []}]


def test_the_filter_and_the_agent_model_agree_before_and_after_the_install():
    host = lab_host()
    assert hybrid_worker_drift(probe(host), agent=DESIRED_AGENT)["agent"] == ["Log Analytics agent not installed"]
    assert run(agent_model.FQCN, host, AGENT_ARGS, check_mode=True)["changed"] is True

    installed = run(agent_model.FQCN, host, AGENT_ARGS)
    assert installed["changed"] is True and not installed.get("failed")
    read = probe(host)
    assert read["agent"]["version"] == installed["version"] == "10.20.18029.0"
    assert read["agent"]["workspaces"] == installed["workspaces"]
    assert read["agent"]["service"] == "Running"
    assert hybrid_worker_drift(read, agent=DESIRED_AGENT)["agent"] == []
    assert run(agent_model.FQCN, host, AGENT_ARGS)["changed"] is False
    assert WORKSPACE_KEY not in json.dumps(read)

    host.set_service(hostmod.MMA_SERVICE, "Stopped")
    assert hybrid_worker_drift(probe(host), agent=DESIRED_AGENT)["agent"] == ["agent service HealthService not running"]
    assert run(agent_model.FQCN, host, AGENT_ARGS, check_mode=True)["changed"] is True


@pytest.mark.parametrize("profile, registrations", [
    ("2019+legacy-registry", [{"group": "legacy-group", "account_id": None, "layout": "legacy"}]),
    ("2019+system-worker", []),
])
def test_registrations_follow_the_worker_module_detection(profile, registrations):
    host = lab_host(profile)
    read = probe(host)
    assert read["worker_registrations"] == registrations == worker_model.registrations(host)
    desired = {"state": "present", "group": "legacy-group", "registration_url": REGISTRATION_URL}
    drift = hybrid_worker_drift(read, worker=desired)["worker"]
    module = run(worker_model.FQCN, host, {"group_name": "legacy-group", "url": REGISTRATION_URL, "key": "k" * 20},
                 check_mode=True)
    assert bool(drift) is module["changed"]


def test_powershell_modules_are_reported_per_requested_name():
    host = lab_host()
    host.install_psmodule("Az.Accounts", "2.18.0")
    host.install_psmodule("Az.Accounts", "2.19.0")
    read = probe(host, ["az.accounts", "Az.Automation"])
    assert read["powershell_modules"] == [{"name": "az.accounts", "versions": ["2.18.0", "2.19.0"]},
                                          {"name": "Az.Automation", "versions": []}]


def test_agent_without_its_configuration_object_fails_with_the_modules_sentence(monkeypatch):
    host = lab_host()
    assert not run(agent_model.FQCN, host, AGENT_ARGS).get("failed")

    def broken():
        raise hostmod.WindowsError("Class not registered")
    monkeypatch.setattr(host, "cloud_workspaces", broken)
    result = run(probe_model.FQCN, host, {})
    assert result["failed"] is True
    assert result["msg"] == ("The Log Analytics agent 10.20.18029.0 is installed but its configuration object "
                             "AgentConfigManager.MgmtSvcCfg cannot be created: Class not registered")
