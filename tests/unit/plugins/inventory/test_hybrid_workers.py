"""The hybrid_workers inventory plugin against a fake Automation client: hosts, groups, variables, cache, errors."""
import datetime
import json
from unittest.mock import MagicMock

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

NAME = "azure_automation.hybrid_worker.hybrid_workers"
ENV = {
    "AZURE_TENANT": "11111111-1111-1111-1111-111111111111",
    "AZURE_CLIENT_ID": "22222222-2222-2222-2222-222222222222",
    "AZURE_SECRET": "not-a-real-secret",
    "AZURE_SUBSCRIPTION_ID": "33333333-3333-3333-3333-333333333333",
}


def ago(**delta):
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rest_group(name, group_type="User"):
    return {"name": name, "id": "/aa/hybridRunbookWorkerGroups/" + name, "properties": {"groupType": group_type}}


def rest_worker(worker_id, name, last_seen, worker_type="HybridV1", ip="10.0.0.1", vm=None):
    return {"name": worker_id, "properties": {"workerName": name, "workerType": worker_type, "ip": ip, "lastSeenDateTime": last_seen,
                                              "registeredDateTime": "2026-01-01T00:00:00Z", "vmResourceId": vm}}


VM_ID = "/subscriptions/33333333-3333-3333-3333-333333333333/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/APP01"
WORKERS = {
    "Web Servers": [rest_worker("w1", "WEB01", ago(hours=6)), rest_worker("w2", "web02.contoso.com", ago(days=3), ip="10.0.0.2")],
    "app-v2": [rest_worker("w3", "APP01", ago(minutes=1), "HybridV2", ip="", vm=VM_ID)],
    "empty": [],
    "WEB01_1b2c": [rest_worker("s1", "WEB01", ago(minutes=5))],
}


def fake_client(groups=None, workers=None):
    client = MagicMock()
    client.automation_account.get.return_value = {"name": "aa-hybrid-workers"}
    client.hybrid_runbook_worker_group.list_by_automation_account.return_value = groups if groups is not None else [
        rest_group("Web Servers"), rest_group("app-v2"), rest_group("empty"), rest_group("WEB01_1b2c", "System")]
    table = workers if workers is not None else WORKERS
    client.hybrid_runbook_workers.list_by_hybrid_runbook_worker_group.side_effect = lambda rg, aa, group: list(table[group])
    return client


@pytest.fixture
def azure(monkeypatch, plugin_module):
    """Replaces the Azure client factory; records the authentication options each run asked for."""
    state = {"client": fake_client(), "calls": []}

    def factory(auth_options):
        state["calls"].append(dict(auth_options))
        return state["client"], plugin_module._ErrorSink()

    monkeypatch.setattr(plugin_module, "automation_client", factory)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    return state


def write_config(tmp_path, name="workers.hybrid_workers.yml", **options):
    config = {"plugin": NAME, "resource_group": "rg-automation", "automation_account": "aa-hybrid-workers"}
    config.update(options)
    path = tmp_path / name
    path.write_text(json.dumps(config))  # JSON is YAML
    return str(path)


def run(path, cache=True):
    inventory = InventoryData()
    plugin = inventory_loader.get(NAME)
    assert plugin.verify_file(path)
    plugin.parse(inventory, DataLoader(), path, cache=cache)
    if plugin.get_option("cache"):
        plugin.update_cache_if_changed()  # as the inventory manager does after each source
    return inventory


def members(inventory, group):
    return sorted(h.name for h in inventory.groups[group].get_hosts())


def test_hosts_groups_and_variables(azure, tmp_path):
    inventory = run(write_config(tmp_path))
    assert members(inventory, "hybrid_worker_group_web_servers") == ["web01", "web02.contoso.com"]
    assert members(inventory, "hybrid_worker_group_app_v2") == ["app01"]
    assert "hybrid_worker_group_empty" in inventory.groups and members(inventory, "hybrid_worker_group_empty") == []
    assert "hybrid_worker_group_web01_1b2c" not in inventory.groups, "system groups are left out by default"

    web01 = inventory.get_host("web01").get_vars()
    assert {k: v for k, v in web01.items() if k.startswith("azure_hybrid_worker_") and k not in ("azure_hybrid_worker_last_seen",)} == {
        "azure_hybrid_worker_name": "WEB01", "azure_hybrid_worker_id": "w1", "azure_hybrid_worker_ip": "10.0.0.1", "azure_hybrid_worker_type": "V1",
        "azure_hybrid_worker_group": "Web Servers", "azure_hybrid_worker_group_type": "User", "azure_hybrid_worker_groups": ["Web Servers"],
        "azure_hybrid_worker_registered": "2026-01-01T00:00:00Z", "azure_hybrid_worker_vm_resource_id": None, "azure_hybrid_worker_stale": False,
    }
    assert inventory.get_host("web02.contoso.com").get_vars()["azure_hybrid_worker_stale"] is True, "3 days without heartbeat, threshold 1 day"
    assert "stale_workers" not in inventory.groups
    app = inventory.get_host("app01").get_vars()
    assert (app["azure_hybrid_worker_type"], app["azure_hybrid_worker_vm_resource_id"], app["azure_hybrid_worker_stale"]) == ("V2", VM_ID, False)
    assert "ansible_host" not in web01, "the plugin must not override how a static inventory reaches the host"
    assert azure["calls"][0]["tenant"] == ENV["AZURE_TENANT"] and azure["calls"][0]["secret"] == ENV["AZURE_SECRET"]


def test_prefix_case_threshold_and_constructed_options(azure, tmp_path):
    """WEB01 (6 hours) is fresh with the default 1 day threshold and stale with a 0.2 day (4.8 hours) threshold,
    whereas its system worker record (5 minutes) does not count: the user group's record speaks for the host."""
    path = write_config(tmp_path, group_prefix="hrw_", hostname_case="preserve", stale_after_days=0.2, include_system_groups=True,
                        groups={"stale_workers": "azure_hybrid_worker_stale"}, compose={"ansible_host": "azure_hybrid_worker_ip"},
                        keyed_groups=[{"key": "azure_hybrid_worker_type", "prefix": "type"}])
    inventory = run(path)
    assert members(inventory, "hrw_web_servers") == ["WEB01", "web02.contoso.com"]
    assert members(inventory, "hrw_web01_1b2c") == ["WEB01"]
    assert members(inventory, "stale_workers") == ["WEB01", "web02.contoso.com"]
    assert members(inventory, "type_V2") == ["APP01"]
    web01 = inventory.get_host("WEB01").get_vars()
    # The machine is a system worker too; its user group wins the scalar variables and both are listed.
    assert web01["azure_hybrid_worker_group"] == "Web Servers" and web01["azure_hybrid_worker_groups"] == ["WEB01_1b2c", "Web Servers"]
    assert web01["ansible_host"] == "10.0.0.1"


def test_worker_groups_filter_warns_about_unknown_names(azure, tmp_path, monkeypatch):
    warnings = []
    plugin = inventory_loader.get(NAME)
    monkeypatch.setattr(type(plugin.display), "warning", lambda self, msg, *a, **k: warnings.append(msg))
    inventory = run(write_config(tmp_path, worker_groups=["WEB SERVERS", "nope"]))
    assert sorted(g for g in inventory.groups if g.startswith("hybrid_worker_group_")) == ["hybrid_worker_group_web_servers"]
    assert warnings == ["hybrid_workers inventory: worker group 'nope' is not in Automation account 'aa-hybrid-workers'"]


def test_hostname_suffix_matches_inventories_of_fully_qualified_names(azure, tmp_path):
    inventory = run(write_config(tmp_path, hostname_suffix="contoso.com"))
    assert members(inventory, "hybrid_worker_group_web_servers") == ["web01.contoso.com", "web02.contoso.com"]
    assert inventory.get_host("web01.contoso.com").get_vars()["azure_hybrid_worker_name"] == "WEB01"


def test_group_name_sanitising(plugin_module):
    assert plugin_module.inventory_group_name("hybrid_worker_group_", "Web Servers-01.x") == "hybrid_worker_group_web_servers_01_x"
    assert plugin_module.inventory_group_name("", "2nd-floor") == "_2nd_floor"


def test_second_run_reads_the_cache(azure, tmp_path):
    cache_dir = tmp_path / "cache"
    path = write_config(tmp_path, cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache_dir))
    first = run(path)
    assert len(azure["calls"]) == 1 and list(cache_dir.iterdir()), "the first run reads Azure and fills the cache"
    azure["client"] = fake_client(workers={"Web Servers": [], "app-v2": [], "empty": [], "WEB01_1b2c": []})
    second = run(path)
    assert len(azure["calls"]) == 1, "the second run must not build a client"
    assert members(second, "hybrid_worker_group_web_servers") == members(first, "hybrid_worker_group_web_servers") == ["web01", "web02.contoso.com"]
    refreshed = run(path, cache=False)  # what --flush-cache asks for
    assert len(azure["calls"]) == 2 and members(refreshed, "hybrid_worker_group_web_servers") == []
    assert members(run(path), "hybrid_worker_group_web_servers") == [], "the refresh rewrote the cache"


def test_cache_off_reads_azure_every_time(azure, tmp_path):
    path = write_config(tmp_path)
    run(path)
    run(path)
    assert len(azure["calls"]) == 2


@pytest.mark.parametrize("options, message", [
    ({"automation_account": "a"}, "automation_account 'a' is not a valid Automation account name"),
    ({"resource_group": "bad/rg"}, "resource_group 'bad/rg' is not a valid resource group name"),
    ({"worker_groups": ["a/b"]}, "worker_groups 'a/b' is not a valid hybrid worker group name"),
    ({"stale_after_days": 0}, "stale_after_days must be more than 0, got 0"),
])
def test_bad_configuration_fails_before_any_request(azure, tmp_path, options, message):
    with pytest.raises(AnsibleParserError, match="Invalid hybrid_workers inventory configuration") as raised:
        run(write_config(tmp_path, **options))
    assert message in str(raised.value)
    assert azure["calls"] == []


def test_missing_account_is_one_sentence(azure, tmp_path):
    azure["client"].automation_account.get.side_effect = ResourceNotFoundError("not found")
    with pytest.raises(AnsibleParserError) as raised:
        run(write_config(tmp_path))
    assert str(raised.value) == ("hybrid_workers inventory: Automation account 'aa-hybrid-workers' was not found in resource group"
                                 " 'rg-automation'")


def test_service_error_names_what_failed_and_the_service_code(azure, tmp_path):
    error = HttpResponseError(message="The client does not have authorization")
    error.status_code = 403
    error.error = MagicMock(code="AuthorizationFailed", message="The client does not have authorization")
    azure["client"].hybrid_runbook_worker_group.list_by_automation_account.side_effect = error
    with pytest.raises(AnsibleParserError) as raised:
        run(write_config(tmp_path))
    assert str(raised.value) == ("hybrid_workers inventory: Failed to list the hybrid worker groups of Automation account"
                                 " 'aa-hybrid-workers': AuthorizationFailed: The client does not have authorization")


def test_incomplete_credentials_fail_without_a_request(tmp_path, monkeypatch):
    for key in ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", ENV["AZURE_SUBSCRIPTION_ID"])
    with pytest.raises(AnsibleParserError) as raised:
        run(write_config(tmp_path, auth_source="env"))
    assert str(raised.value) == ("hybrid_workers inventory: Azure authentication settings are incomplete: auth_source=env needs the"
                                 " environment variables AZURE_TENANT, AZURE_CLIENT_ID, AZURE_SECRET")


def test_secret_environment_precedence_matches_the_modules(tmp_path, monkeypatch, azure):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "second-choice")
    run(write_config(tmp_path))
    assert azure["calls"][-1]["secret"] == ENV["AZURE_SECRET"]
    monkeypatch.delenv("AZURE_SECRET")
    run(write_config(tmp_path))
    assert azure["calls"][-1]["secret"] == "second-choice"


def test_other_file_names_are_not_claimed(tmp_path):
    plugin = inventory_loader.get(NAME)
    other = tmp_path / "hosts.yml"
    other.write_text("all: {}\n")
    assert not plugin.verify_file(str(other))


def test_plugin_environment_variables_match_the_module_fallbacks(collection_loader):
    """The plugin fragment lists, per option, the module fallback's variables in reverse (Ansible keeps the last)."""
    import yaml  # pylint: disable=import-outside-toplevel

    from ansible.plugins.loader import fragment_loader  # pylint: disable=import-outside-toplevel
    from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (  # pylint: disable=import-outside-toplevel
        azure_argument_spec,
    )

    plugin_env = yaml.safe_load(fragment_loader.get("azure_automation.hybrid_worker.azure_inventory").DOCUMENTATION)["options"]
    modules_docs = yaml.safe_load(fragment_loader.get("azure_automation.hybrid_worker.azure").MODULES)["options"]
    fallbacks = dict((name, list(reversed(spec["fallback"][1]))) for name, spec in azure_argument_spec().items() if spec.get("fallback"))
    assert dict((name, [e["name"] for e in option["env"]]) for name, option in plugin_env.items()) == fallbacks
    assert set(plugin_env) <= set(modules_docs), "the plugin fragment names an option the modules do not document"
