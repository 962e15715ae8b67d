"""log_analytics_workspace: validation, comparison, and which SDK calls each state makes."""
from unittest.mock import MagicMock

import pytest
from azure.core.exceptions import ResourceNotFoundError

from ansible_collections.azure_automation.hybrid_worker.plugins.modules import log_analytics_workspace as mod

from .conftest import ModuleFailed


def params(**overrides):
    base = dict(name="law-test", resource_group="rg", state="present", location="westeurope", sku=None, retention_in_days=None,
                daily_quota_gb=None, tags=None, purge_tags=True, force_delete=False, return_shared_keys=False)
    base.update(overrides)
    return base


REST = {
    "id": "/subscriptions/s/resourcegroups/rg/providers/microsoft.operationalinsights/workspaces/law-test",
    "name": "law-test", "location": "westeurope", "tags": {"a": "1"},
    "properties": {"customerId": "cid", "sku": {"name": "pergb2018"}, "retentionInDays": 30,
                   "workspaceCapping": {"dailyQuotaGb": -1}, "provisioningState": "Succeeded"},
}


def test_validation_messages():
    assert mod.validate_params(params(retention_in_days=10)) == "retention_in_days must be between 30 and 730, got 10"
    assert mod.validate_params(params(sku="Free", retention_in_days=30)) == "retention_in_days must be 7 for the Free tier, got 30"
    assert mod.validate_params(params(daily_quota_gb=0)) == "daily_quota_gb must be -1 (no cap) or a positive number, got 0"
    assert "is not a valid Log Analytics workspace name" in mod.validate_params(params(name="x"))
    assert "is not an Azure region" in mod.validate_params(params(location="moon"))
    assert mod.validate_params(params(sku="pergb2018")) is None
    assert mod.validate_params(params(sku="Gold")) == (
        "sku 'Gold' is not one of Free, Standard, Premium, PerNode, PerGB2018, Standalone, CapacityReservation")
    assert mod.validate_params(params(state="absent", location="moon", retention_in_days=1)) is None


def test_view_normalises_the_lower_case_sku():
    view = mod.workspace_view(REST)
    assert view["sku"] == "PerGB2018"
    assert view["customer_id"] == "cid"
    assert view["daily_quota_gb"] == -1.0


def test_update_patch_only_carries_real_changes():
    view = mod.workspace_view(REST)
    assert mod.update_patch(view, params(sku="PERGB2018", retention_in_days=30, daily_quota_gb=-1, tags={"a": "1"})) is None
    assert mod.update_patch(view, params(retention_in_days=60)) == {"properties": {"retentionInDays": 60}}
    assert mod.update_patch(view, params(sku="Standalone", daily_quota_gb=2.5)) == {
        "properties": {"sku": {"name": "Standalone"}, "workspaceCapping": {"dailyQuotaGb": 2.5}}}
    assert mod.update_patch(view, params(tags={"b": "2"})) == {"tags": {"b": "2"}}
    assert mod.update_patch(view, params(tags={"b": "2"}, purge_tags=False)) == {"tags": {"a": "1", "b": "2"}}


def test_location_cannot_change():
    view = mod.workspace_view(REST)
    assert mod.location_conflict(view, params(location="West Europe")) is None
    assert mod.location_conflict(view, params(location="eastus")) == (
        "Workspace 'law-test' is in westeurope; a workspace cannot move to eastus (delete it first or keep its location)")


def test_creation_body():
    assert mod.creation_body(params(location="West Europe", retention_in_days=45, tags={"k": "v"})) == {
        "location": "westeurope", "tags": {"k": "v"},
        "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 45}}


def test_check_mode_create_makes_no_write(fake_module):
    client = MagicMock()
    client.workspaces.get.side_effect = ResourceNotFoundError("not found")
    module = fake_module(params(), check_mode=True)
    changed, before, after = mod.ensure_present(module, client, module.params)
    assert changed and before == {} and after["sku"] == "PerGB2018"
    client.workspaces.begin_create_or_update.assert_not_called()


def test_converged_workspace_makes_no_write(fake_module):
    client = MagicMock()
    client.workspaces.get.return_value = REST
    module = fake_module(params(sku="PerGB2018"))
    changed, before, after = mod.ensure_present(module, client, module.params)
    assert not changed and before == after
    client.workspaces.update.assert_not_called()
    client.workspaces.begin_create_or_update.assert_not_called()


def test_create_waits_for_succeeded(fake_module):
    client = MagicMock()
    creating = dict(REST, properties=dict(REST["properties"], provisioningState="Creating"))
    client.workspaces.get.side_effect = [ResourceNotFoundError("nf"), creating, creating, REST]
    module = fake_module(params())
    changed, _before, after = mod.ensure_present(module, client, module.params)
    assert changed and after["provisioning_state"] == "Succeeded"
    assert client.workspaces.get.call_count == 4


def test_create_failing_provisioning_is_reported(fake_module):
    client = MagicMock()
    failed = dict(REST, properties=dict(REST["properties"], provisioningState="Failed"))
    client.workspaces.get.side_effect = [ResourceNotFoundError("nf"), failed]
    module = fake_module(params())
    with pytest.raises(ModuleFailed):
        mod.ensure_present(module, client, module.params)
    assert module.failure == "Failed to create Log Analytics workspace 'law-test': provisioning ended in state Failed"


def test_absent_when_missing_is_not_a_change(fake_module):
    client = MagicMock()
    client.workspaces.get.side_effect = ResourceNotFoundError("nf")
    module = fake_module(params(state="absent"))
    assert mod.ensure_absent(module, client, module.params) == (False, {}, {})
    client.workspaces.begin_delete.assert_not_called()


def test_a_workspace_still_creating_is_awaited_before_comparing(fake_module):
    client = MagicMock()
    creating = dict(REST, properties=dict(REST["properties"], provisioningState="Creating"))
    client.workspaces.get.side_effect = [creating, creating, REST]
    module = fake_module(params(retention_in_days=30))
    changed, before, _after = mod.ensure_present(module, client, module.params)
    assert not changed and before["provisioning_state"] == "Succeeded"
    assert client.workspaces.get.call_count == 3
