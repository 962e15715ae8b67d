"""hybrid_worker_index: worker groups as the Azure modules list them -> the extension-based workers by Arc machine id."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.azure_automation.hybrid_worker.plugins.filter.hybrid_worker_index import (
    FilterModule, hybrid_worker_index,
)

MACHINE = "/subscriptions/s/resourceGroups/arc/providers/Microsoft.HybridCompute/machines/WIN-001"


def worker(name, vm_resource_id=None, last_seen="2026-11-26T05:00:00Z", minutes=1.5, stale=False):
    # The shape of hybrid_worker_group_info's and hybrid_worker_prerequisites' workers (module_utils/hybrid_workers).
    return {"name": name, "id": "id-" + name, "type": "HybridV2" if vm_resource_id else "HybridV1",
            "vm_resource_id": vm_resource_id, "registered_date_time": "2026-11-26T04:00:00Z",
            "last_seen_date_time": last_seen, "last_seen_minutes_ago": minutes, "stale": stale}


def test_extension_workers_are_indexed_by_lower_case_machine_id_one_record_per_group():
    groups = [{"name": "east", "workers": [worker("w1", MACHINE), worker("WEB01")]},
              {"name": "west", "workers": [worker("w2", MACHINE, last_seen=None, minutes=None, stale=True)]},
              {"name": "empty", "workers": []}]
    assert hybrid_worker_index(groups) == {"workers": {MACHINE.lower(): [
        {"group": "east", "id": "id-w1", "name": "w1", "type": "HybridV2", "registered": "2026-11-26T04:00:00Z",
         "last_seen": "2026-11-26T05:00:00Z", "minutes_ago": 1.5, "stale": False},
        {"group": "west", "id": "id-w2", "name": "w2", "type": "HybridV2", "registered": "2026-11-26T04:00:00Z",
         "last_seen": None, "minutes_ago": None, "stale": True}]}}


def test_no_groups_is_an_empty_index_and_the_filter_is_registered():
    assert hybrid_worker_index(None) == hybrid_worker_index([]) == {"workers": {}}
    assert FilterModule().filters()["hybrid_worker_index"] is hybrid_worker_index


@pytest.mark.parametrize("bad, kind", [({"name": "east"}, "dict"), (["east"], "a list with a str item"), ("east", "str")])
def test_anything_but_a_list_of_groups_fails_naming_what_is_expected(bad, kind):
    with pytest.raises(AnsibleFilterError) as failure:
        hybrid_worker_index(bad)
    assert str(failure.value) == ("hybrid_worker_index needs the groups list that hybrid_worker_group_info or "
                                  "hybrid_worker_prerequisites returns, not %s." % kind)
