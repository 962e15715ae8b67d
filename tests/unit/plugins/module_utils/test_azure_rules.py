"""Pure rules of the Azure modules: names, locations, ids, times, tags."""
import datetime

import pytest

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils import azure_rules as rules

NOW = datetime.datetime(2026, 1, 2, 12, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("name, ok", [
    ("law1", True), ("law-hybrid-workers", True), ("a" * 63, True),
    ("la", False), ("abc", False), ("a" * 64, False), ("-law1", False), ("law1-", False), ("law_1", False), ("", False),
])
def test_workspace_name_rule(name, ok):
    assert (rules.validate_workspace_name(name) is None) is ok


@pytest.mark.parametrize("name, ok", [
    ("aa-hybrid", True), ("abcdef", True), ("a" * 50, True),
    ("abcde", False), ("a" * 51, False), ("aa_hybrid", False), ("-aahybrid", False),
])
def test_automation_account_rule(name, ok):
    assert (rules.validate_automation_account(name) is None) is ok


@pytest.mark.parametrize("name, ok", [
    ("rg-automation", True), ("rg.(x)_1", True), ("r" * 90, True),
    ("r" * 91, False), ("rg.", False), ("rg/x", False), ("", False), (None, False),
])
def test_resource_group_rule(name, ok):
    assert (rules.validate_resource_group(name) is None) is ok


@pytest.mark.parametrize("name, ok", [
    ("windows-workers", True), ("Group 1", True), ("g", True),
    ("a/b", False), ("a:b", False), (" lead", False), ("dot.", False), ("a.b", False), ("a+b", False), ("x" * 129, False), ("", False),
])
def test_group_name_rule(name, ok):
    assert (rules.validate_group_name(name) is None) is ok


def test_location_accepts_display_names_and_rejects_unknown_regions():
    assert rules.validate_location("West Europe") is None
    assert rules.validate_location("usgovvirginia") is None
    assert rules.normalize_location("East US 2") == "eastus2"
    assert rules.validate_location("atlantis") == (
        "location 'atlantis' is not an Azure region (expected a name such as westeurope or eastus2)")


VM = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web01"
ARC = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/web01"


def test_vm_resource_id_rule():
    assert rules.validate_vm_resource_id(VM) is None
    assert rules.validate_vm_resource_id(ARC.lower()) is None
    assert "is not the resource id" in rules.validate_vm_resource_id("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Web/sites/a")
    assert "is not the resource id" in rules.validate_vm_resource_id(VM + "/extensions/x")


def test_worker_id_is_stable_and_case_insensitive():
    first = rules.worker_id_for_vm(VM)
    assert first == rules.worker_id_for_vm(VM.upper())
    assert first != rules.worker_id_for_vm(ARC)
    assert rules.validate_worker_id(first) is None
    assert rules.validate_worker_id("not-a-guid") == "worker_id 'not-a-guid' is not a GUID"


def test_computer_names_cannot_break_out_of_the_kql_literal():
    assert rules.validate_computer_name("WEB01.contoso.com") is None
    assert rules.validate_computer_name('web01") or true or ("') is not None


def test_same_id_and_canonical_choice():
    assert rules.same_id(VM.lower(), VM + "/")
    assert not rules.same_id(VM, ARC)
    assert rules.canonical_choice("pergb2018", rules.WORKSPACE_SKUS) == "PerGB2018"
    assert rules.canonical_choice("unknown", rules.WORKSPACE_SKUS) == "unknown"


@pytest.mark.parametrize("text, expected", [
    ("2026-01-02T11:30:00Z", datetime.datetime(2026, 1, 2, 11, 30, tzinfo=datetime.timezone.utc)),
    ("2026-01-02T11:30:00.1234567+00:00", datetime.datetime(2026, 1, 2, 11, 30, 0, 123456, tzinfo=datetime.timezone.utc)),
    ("2026-01-02T13:30:00.5+02:00", datetime.datetime(2026, 1, 2, 11, 30, 0, 500000, tzinfo=datetime.timezone.utc)),
    ("2026-01-02T11:30:00", datetime.datetime(2026, 1, 2, 11, 30, tzinfo=datetime.timezone.utc)),
    ("", None), (None, None), ("yesterday", None),
])
def test_parse_time(text, expected):
    assert rules.parse_time(text) == expected


def test_age_and_staleness():
    assert rules.age_minutes("2026-01-02T11:30:00Z", NOW) == 30.0
    assert rules.is_stale("2026-01-02T11:30:00Z", NOW, 29)
    assert not rules.is_stale("2026-01-02T11:30:00Z", NOW, 30)
    assert rules.is_stale(None, NOW, 30)


def test_tags_changes():
    assert rules.tags_changes({"a": "1"}, None, True) is None
    assert rules.tags_changes({"a": "1"}, {"a": "1"}, True) is None
    assert rules.tags_changes({"a": "1", "b": "2"}, {"a": "1"}, True) == {"a": "1"}
    assert rules.tags_changes({"a": "1", "b": "2"}, {"a": "1"}, False) is None
    assert rules.tags_changes({"a": "1"}, {"c": "3"}, False) == {"a": "1", "c": "3"}


def test_collect_errors():
    assert rules.collect_errors(None, None) is None
    assert rules.collect_errors("one", None, "two") == "one; two"
