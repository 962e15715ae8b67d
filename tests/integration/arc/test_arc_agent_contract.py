"""The lab model of win_connected_machine_agent keeps to the PowerShell module: the same sentences, result keys,
secret options and option rules; and it fails bad input before touching the host (no lab needed)."""
import re
from pathlib import Path

import pytest
import yaml

# The PowerShell readers the other modules' contract tests use (sentences and $spec from the syntax tree).
from ansible_collections.azure_automation.hybrid_worker.tests.integration.roles.test_windows_module_models import (
    ps1_sentences, ps1_spec,
)
from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows import host as hostmod
from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows import models
from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.models import (
    win_connected_machine_agent as model,
)

ROOT = Path(__file__).resolve().parents[3]
NAME = "win_connected_machine_agent"
PLACEHOLDER = "{}"
GUID = "11111111-2222-3333-4444-555555555555"
ARGS = {"installer_path": "C:\\share\\AzureConnectedMachineAgent.msi", "tenant_id": GUID, "subscription_id": GUID,
        "resource_group": "arc", "location": "westeurope", "service_principal_id": GUID,
        "service_principal_secret": "c2VjcmV0LW5vdC10by1iZS1zZWVu"}


def test_model_and_module_use_the_same_sentences():
    in_module = ps1_sentences(NAME)
    in_model = {re.sub(r"\{[a-z_]+\}", PLACEHOLDER, text) for text in model.MESSAGES.values()}
    assert len(in_module) > 10
    assert sorted(in_module - in_model) == []
    assert sorted(in_model - in_module) == []


def test_result_keys_set_by_the_module_are_documented_and_returned_by_the_model():
    text = (ROOT / "plugins" / "modules" / (NAME + ".ps1")).read_text(encoding="utf-8")
    returns = yaml.safe_load((ROOT / "plugins" / "modules" / (NAME + ".yml")).read_text())["RETURN"]
    assert set(re.findall(r"\$module\.Result\.(\w+)\s*=", text)) - {"changed"} == set(returns)
    host = hostmod.Host(hostmod.new_state("contract", "127.0.0.9"))
    result, rc = models.dispatch(model.FQCN, host, ARGS, check_mode=True)
    assert rc == 0, result
    always = set(name for name, doc in returns.items() if doc["returned"] == "always")
    assert always <= set(result) and "secret_required" not in result


@pytest.mark.parametrize("profile, change", [
    (None, {}),
    ("2019+stale-v2-keys", {}),
    ("arc-connected-elsewhere", {"reconnect": True}),
], ids=["bare host", "stale keys", "reconnect"])
def test_without_the_secret_an_agent_that_must_connect_fails_before_any_change(profile, change):
    host = hostmod.Host(hostmod.new_state("contract", "127.0.0.9", profile))
    before = repr(host.state)
    args = dict((k, v) for k, v in dict(ARGS, **change).items() if k != "service_principal_secret")
    for check_mode in (True, False):
        result, rc = models.dispatch(model.FQCN, host, args, check_mode=check_mode)
        assert rc == 1 and result["secret_required"] is True, result
        assert result["msg"] == ("Connecting the Azure Connected Machine agent as 'CONTRACT' in resource group 'arc' of "
                                 "subscription '%s' (westeurope) needs service_principal_secret, which is not set." % GUID)
        assert repr(host.state) == before


def test_model_marks_the_same_options_secret_and_enforces_the_same_rules():
    spec = ps1_spec(NAME)
    secret = {name for name, option in spec.get_ci("options").items() if option.get_ci("no_log")}
    assert secret == set(model.NO_LOG_OPTIONS)
    registered = models.MODELS[model.FQCN]
    assert registered.argument_spec()["service_principal_secret"]["no_log"] is True
    for rule in ("mutually_exclusive", "required_if"):
        assert spec.get_ci(rule) == registered.rules.get(rule), rule
    assert spec.get_ci("supports_check_mode") is registered.supports_check_mode


@pytest.mark.parametrize("change, msg", [
    ({"installer_checksum": "abc"}, "installer_checksum must be the installer's SHA-256 as 64 hexadecimal characters."),
    ({"installer_path": None, "installer_url": "https://example.invalid/a.msi"},
     "installer_checksum is required to download the agent from installer_url; give the installer's SHA-256 or set "
     "validate_installer_checksum to false."),
    ({"tenant_id": "contoso"}, "tenant_id 'contoso' is not a GUID."),
    ({"resource_name": "bad name"}, "resource_name 'bad name' is not a valid Azure Arc machine name (1 to 54 letters, "
                                    "digits, '-', '_' or '.')."),
    ({"location": None}, "state is present but all of the following are missing: location"),
])
def test_bad_input_fails_before_any_change(change, msg):
    host = hostmod.Host(hostmod.new_state("contract", "127.0.0.9", "2019+stale-v2-keys"))
    before = repr(host.state)
    args = {k: v for k, v in dict(ARGS, **change).items() if v is not None}
    result, rc = models.dispatch(model.FQCN, host, args)
    assert rc == 1 and result["msg"] == msg
    assert repr(host.state) == before


def test_a_package_that_is_not_the_agent_fails_with_the_msiexec_code():
    host = hostmod.Host(hostmod.new_state("contract", "127.0.0.9"))
    host.add_file(ARGS["installer_path"], b"not an msi")
    result, rc = models.dispatch(model.FQCN, host, ARGS)
    assert rc == 1 and result["msg"].startswith("The Azure Connected Machine agent installer exited with code 1619;")
    assert host.installed_product(hostmod.ARC_DISPLAY_NAME) is None


def test_installed_agent_is_connected_without_reinstalling_in_check_mode():
    host = hostmod.Host(hostmod.new_state("contract", "127.0.0.9", "2019+arc-agent"))
    before = repr(host.state)
    result, rc = models.dispatch(model.FQCN, host, ARGS, check_mode=True, diff=True)
    assert rc == 0 and result["changed"] is True
    assert result["diff"]["before"]["installed"] is True and result["diff"]["before"]["status"] == "Disconnected"
    assert result["diff"]["after"]["status"] == "Connected"
    assert result["diff"]["after"]["agent_version"] == result["diff"]["before"]["agent_version"]
    assert repr(host.state) == before


def test_absent_on_a_host_without_the_agent_changes_nothing():
    host = hostmod.Host(hostmod.new_state("contract", "127.0.0.9"))
    result, rc = models.dispatch(model.FQCN, host, {"state": "absent", "uninstall": True})
    assert rc == 0 and result["changed"] is False and result["installed"] is False and result["resource_id"] is None
