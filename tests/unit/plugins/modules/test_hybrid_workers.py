"""Worker shaping, pruning and the hybrid_worker / group state functions."""
import datetime
from unittest.mock import MagicMock

import pytest
from azure.core.exceptions import ResourceNotFoundError

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils import hybrid_workers as hw
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import worker_id_for_vm
from ansible_collections.azure_automation.hybrid_worker.plugins.modules import hybrid_worker as worker_mod
from ansible_collections.azure_automation.hybrid_worker.plugins.modules import hybrid_worker_group as group_mod
from ansible_collections.azure_automation.hybrid_worker.plugins.modules import hybrid_worker_group_info as info_mod

from .conftest import ModuleFailed

NOW = datetime.datetime(2026, 1, 10, 12, 0, 0, tzinfo=datetime.timezone.utc)
VM = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/web01"


def rest_worker(worker_id, name, last_seen, worker_type="HybridV1", vm=None):
    properties = {"workerName": name, "workerType": worker_type, "ip": "10.0.0.1", "lastSeenDateTime": last_seen,
                  "registeredDateTime": "2026-01-01T00:00:00Z"}
    if vm:
        properties["vmResourceId"] = vm
    return {"name": worker_id, "id": "/x/" + worker_id, "properties": properties}


def test_worker_view_and_stale_flag():
    view = hw.worker_view(rest_worker("id1", "WEB01", "2026-01-10T11:30:00Z"), NOW, 60)
    assert view == {"id": "id1", "name": "WEB01", "type": "V1", "ip": "10.0.0.1", "registered_date_time": "2026-01-01T00:00:00Z",
                    "last_seen_date_time": "2026-01-10T11:30:00Z", "last_seen_minutes_ago": 30.0, "vm_resource_id": None, "stale": False}
    assert hw.worker_view(rest_worker("id1", "WEB01", "2026-01-10T10:00:00Z", "HybridV2"), NOW, 60)["stale"] is True
    assert hw.worker_view(rest_worker("id1", "WEB01", None, "HybridV2"), NOW, 60)["type"] == "V2"


def test_prune_selection():
    workers = [hw.worker_view(w, NOW, 60) for w in (
        rest_worker("a", "FRESH", "2026-01-10T11:59:00Z"),
        rest_worker("b", "OLD", "2026-01-01T00:00:00Z"),
        rest_worker("c", "Unwanted", "2026-01-10T11:59:00Z"),
        rest_worker("d", "NEVER", None),
    )]
    assert [w["name"] for w in hw.workers_to_prune(workers, NOW, prune_last_seen_days=7)] == ["OLD", "NEVER"]
    by_list = hw.workers_to_prune(workers, NOW, prune_except=["fresh", "old", "never"])
    assert [(w["name"], w["prune_reason"]) for w in by_list] == [("Unwanted", "not in prune_except")]
    both = hw.workers_to_prune(workers, NOW, prune_last_seen_days=7, prune_except=["FRESH", "OLD"])
    assert [w["name"] for w in both] == ["OLD", "Unwanted", "NEVER"]
    assert both[0]["prune_reason"] == "last seen more than 7 days ago"
    assert hw.workers_to_prune(workers, NOW) == []


def test_group_credential_change_rules():
    assert not group_mod.credential_change("svc", None)
    assert not group_mod.credential_change(None, "")
    assert group_mod.credential_change("svc", "")
    assert group_mod.credential_change(None, "svc")
    assert group_mod.credential_body("") == {"properties": {"credential": None}}
    assert group_mod.credential_body("svc") == {"properties": {"credential": {"name": "svc"}}}


def group_params(**overrides):
    base = dict(name="g1", resource_group="rg", automation_account="aa-test", state="present", credential=None,
                prune_last_seen_days=None, prune_except=None, stale_after_minutes=60)
    base.update(overrides)
    return base


def test_group_prune_in_check_mode_deletes_nothing(fake_module):
    client = MagicMock()
    client.hybrid_runbook_worker_group.get.return_value = {"name": "g1", "properties": {"groupType": "User"}}
    client.hybrid_runbook_workers.list_by_hybrid_runbook_worker_group.return_value = [
        rest_worker("a", "KEEP", "2026-01-10T11:59:00Z"), rest_worker("b", "DROP", "2026-01-10T11:59:00Z")]
    module = fake_module(group_params(prune_except=["keep"]), check_mode=True)
    changed, before, after, result = group_mod.ensure_present(module, client, module.params, NOW)
    assert changed
    assert before["workers"] == ["DROP", "KEEP"] and after["workers"] == ["KEEP"]
    assert [w["name"] for w in result["pruned"]] == ["DROP"]
    client.hybrid_runbook_workers.delete.assert_not_called()


def test_group_validation():
    assert group_mod.validate_params(group_params(prune_last_seen_days=0)) == "prune_last_seen_days must be at least 1, got 0"
    assert "not a valid Automation account name" in group_mod.validate_params(group_params(automation_account="a_b"))


def test_info_selects_groups_case_insensitively():
    groups = [{"name": "B"}, {"name": "a"}]
    assert info_mod.select_groups(groups, None) == ([{"name": "a"}, {"name": "B"}], [])
    assert info_mod.select_groups(groups, ["b", "zz"]) == ([{"name": "B"}], ["zz"])


def worker_params(**overrides):
    base = dict(group="g2", resource_group="rg", automation_account="aa-test", vm_resource_id=VM, worker_id=None, state="present")
    base.update(overrides)
    return base


def test_worker_validation():
    assert worker_mod.validate_params(worker_params(vm_resource_id=None)) == "vm_resource_id is required with state=present"
    assert worker_mod.validate_params(worker_params(state="absent", vm_resource_id=None)) == "state=absent needs vm_resource_id or worker_id"
    assert worker_mod.validate_params(worker_params(worker_id="zz")) == "worker_id 'zz' is not a GUID"


def test_worker_found_in_another_group_is_moved(fake_module):
    worker_id = worker_id_for_vm(VM)
    client = MagicMock()
    client.hybrid_runbook_workers.get.side_effect = [ResourceNotFoundError("nf"), rest_worker(worker_id, "WEB01", None, "HybridV2", VM)]
    client.hybrid_runbook_worker_group.get.return_value = {"name": "g2"}
    client.hybrid_runbook_worker_group.list_by_automation_account.return_value = [{"name": "g1"}, {"name": "g2"}]
    client.hybrid_runbook_workers.list_by_hybrid_runbook_worker_group.side_effect = lambda rg, aa, group: {
        "g2": [], "g1": [rest_worker(worker_id, "WEB01", None, "HybridV2", VM.lower())]}[group]
    module = fake_module(worker_params())
    changed, before, after, extra = worker_mod.ensure_present(module, client, module.params, worker_id, NOW)
    assert changed and extra == {"moved_from": "g1"}
    assert (before["group"], after["group"]) == ("g1", "g2")
    client.hybrid_runbook_workers.move.assert_called_once_with("rg", "aa-test", "g1", worker_id, {"hybridRunbookWorkerGroupName": "g2"})
    client.hybrid_runbook_workers.create.assert_not_called()


def test_worker_with_another_vm_is_refused(fake_module):
    client = MagicMock()
    other = VM.replace("web01", "web02")
    client.hybrid_runbook_workers.get.return_value = rest_worker("11111111-1111-1111-1111-111111111111", "WEB02", None, "HybridV2", other)
    module = fake_module(worker_params(worker_id="11111111-1111-1111-1111-111111111111"))
    with pytest.raises(ModuleFailed):
        worker_mod.ensure_present(module, client, module.params, "11111111-1111-1111-1111-111111111111", NOW)
    assert module.failure.startswith("Worker '11111111-1111-1111-1111-111111111111' in hybrid worker group 'g2' belongs to " + other)


def test_worker_in_missing_group_fails_before_any_write(fake_module):
    client = MagicMock()
    client.hybrid_runbook_workers.get.side_effect = ResourceNotFoundError("nf")
    client.hybrid_runbook_worker_group.get.side_effect = ResourceNotFoundError("nf")
    module = fake_module(worker_params())
    with pytest.raises(ModuleFailed):
        worker_mod.ensure_present(module, client, module.params, worker_id_for_vm(VM), NOW)
    assert module.failure == "Hybrid worker group 'g2' was not found in Automation account 'aa-test'"
    client.hybrid_runbook_workers.create.assert_not_called()


def test_converged_worker_costs_one_get(fake_module):
    worker_id = worker_id_for_vm(VM)
    client = MagicMock()
    client.hybrid_runbook_workers.get.return_value = rest_worker(worker_id, "WEB01", None, "HybridV2", VM)
    module = fake_module(worker_params())
    changed, before, after, _extra = worker_mod.ensure_present(module, client, module.params, worker_id, NOW)
    assert not changed and before == after
    client.hybrid_runbook_worker_group.list_by_automation_account.assert_not_called()
    client.hybrid_runbook_workers.list_by_hybrid_runbook_worker_group.assert_not_called()


def test_a_worker_created_elsewhere_is_found_by_its_vm():
    portal_worker = rest_worker("22222222-2222-2222-2222-222222222222", "WEB01", None, "HybridV2", VM.upper())
    other = rest_worker("33333333-3333-3333-3333-333333333333", "WEB09", None, "HybridV2", VM.replace("web01", "web09"))
    derived = worker_id_for_vm(VM)
    assert worker_mod.find_in_group([other, portal_worker], derived, VM) is portal_worker
    assert worker_mod.find_in_group([other], derived, VM) is None
    # An explicit id wins over a VM match.
    assert worker_mod.find_in_group([portal_worker, other], other["name"], VM) is other
