"""The rules of an extension-based fleet run: Arc agent arguments, what Azure lacks for a host, verification, summary."""
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.extension_fleet import (
    arc_agent_arguments,
    arc_inputs_message,
    azure_work,
    build_report,
    host_outcome,
    index_workers,
    missing_arc_inputs,
    summary_lines,
    unseen_hosts,
    worker_seen,
)

MACHINE = "/subscriptions/s/resourceGroups/arc/providers/Microsoft.HybridCompute/machines/WIN-001"
ARC = {"arc_agent_tenant_id": "t", "arc_agent_subscription_id": "s", "arc_agent_resource_group": "arc",
       "arc_agent_location": "westeurope", "arc_agent_service_principal_id": "sp", "arc_agent_service_principal_secret": "secret"}


def variables(values):
    def variable(name):
        return values[name]
    return variable


def agent(changed=False, service="Running", resource_id=MACHINE):
    return {"changed": changed, "resource_id": resource_id, "hybrid_worker": {"service": service}}


def index(*records):
    return {"workers": {MACHINE.lower(): [dict(r) for r in records]}} if records else {"workers": {}}


def test_arc_arguments_take_the_role_defaults_and_leave_out_empty_values():
    arguments = arc_agent_arguments(variables(dict(ARC, arc_agent_installer_checksum="ab" * 32)))
    assert arguments == {
        "state": "present", "installer_url": "https://aka.ms/AzureConnectedMachineAgent", "installer_checksum": "ab" * 32,
        "validate_installer_checksum": True, "tenant_id": "t", "subscription_id": "s", "resource_group": "arc",
        "location": "westeurope", "cloud": "AzureCloud", "service_principal_id": "sp", "service_principal_secret": "secret",
        "reconnect": False, "force_local_only": False, "uninstall": False, "remove_stale_hybrid_worker_keys": True}


def test_without_the_secret_its_variable_is_not_read():
    read = []

    def variable(name):
        read.append(name)
        return ARC[name]
    arguments = arc_agent_arguments(variable, with_secret=False)
    assert "service_principal_secret" not in arguments and arguments["service_principal_id"] == "sp"
    assert "arc_agent_service_principal_secret" not in read and "arc_agent_service_principal_id" in read


def test_a_local_installer_wins_over_the_download_and_tags_pass_through():
    arguments = arc_agent_arguments(variables(dict(ARC, arc_agent_installer_path="C:\\arc.msi", arc_agent_tags={"env": "prod"},
                                                   arc_agent_installer_url="https://example.invalid/arc.msi",
                                                   arc_agent_resource_name="", arc_agent_reconnect=True)))
    assert "installer_url" not in arguments and "resource_name" not in arguments
    assert arguments["installer_path"] == "C:\\arc.msi"
    assert arguments["tags"] == {"env": "prod"} and arguments["reconnect"] is True


def test_missing_arc_inputs_are_named_in_the_roles_order_and_words():
    assert missing_arc_inputs(ARC) == []
    missing = missing_arc_inputs(dict(ARC, arc_agent_location="", arc_agent_tenant_id=None))
    assert missing == ["arc_agent_tenant_id", "arc_agent_location"]
    assert missing_arc_inputs({"tenant_id": "t", "location": "x"}, prefix="") == [
        "arc_agent_subscription_id", "arc_agent_resource_group", "arc_agent_service_principal_id", "arc_agent_service_principal_secret"]
    assert arc_inputs_message(missing) == ("arc_agent needs arc_agent_tenant_id, arc_agent_location to connect the host to "
                                           "Azure Arc (state present).")


def test_a_converged_host_needs_nothing_from_azure():
    work = azure_work(agent(), "east", index({"group": "east", "id": "w1"}))
    assert work["needed"] is False and work["record"] is False and work["check_all"] is False
    assert work["remove"] == [] and work["reasons"] == []


def test_a_missing_record_is_written_without_checking_everything():
    work = azure_work(agent(), "east", index())
    assert work["needed"] and work["record"] and not work["check_all"]
    assert work["reasons"] == ["no worker record in group east"]


def test_a_record_in_another_group_is_removed_and_written_in_its_group():
    work = azure_work(agent(), "east", index({"group": "west", "id": "w1"}))
    assert work["needed"] and work["record"]
    assert work["remove"] == [{"group": "west", "id": "w1"}]
    # Both records: only the other group's goes.
    work = azure_work(agent(), "east", index({"group": "west", "id": "w1"}, {"group": "east", "id": "w2"}))
    assert work["needed"] and not work["record"] and work["remove"] == [{"group": "west", "id": "w1"}]


def test_a_changed_agent_a_stopped_service_or_an_unknown_listing_check_everything():
    listed = index({"group": "east", "id": "w1"})
    assert azure_work(agent(changed=True), "east", listed)["check_all"]
    stopped = azure_work(agent(service=None), "east", listed)
    assert stopped["needed"] and stopped["check_all"] and stopped["record"]
    assert stopped["reasons"] == ["worker service HybridWorkerService missing"]
    unknown = azure_work(agent(), "east", {})
    assert unknown["needed"] and unknown["reasons"][0] == "the worker listing is unknown"


def test_without_a_connected_machine_nothing_is_asked_of_azure():
    work = azure_work(agent(changed=True, service=None, resource_id=None), "east", index())
    assert work["needed"] is False and work["machine_id"] == "" and work["reasons"] == []


def test_in_check_mode_a_host_whose_agent_would_change_asks_nothing_of_azure():
    assert azure_work(agent(changed=True), "east", index(), check_mode=True)["needed"] is False
    assert azure_work(agent(changed=False, service="Stopped"), "east", index(), check_mode=True)["needed"] is True


def test_a_worker_is_seen_once_azure_saw_it_after_registration_in_its_group():
    groups = [{"name": "east", "workers": [{"vm_resource_id": MACHINE, "id": "w1", "registered_date_time": "2026-01-01T00:00:00Z",
                                            "last_seen_date_time": "2026-01-01T00:01:00Z"}]},
              {"name": "west", "workers": [{"vm_resource_id": None, "id": "v1"}]}]
    listed = index_workers(groups)
    assert list(listed["workers"]) == [MACHINE.lower()]
    assert worker_seen(listed, MACHINE, "east") and not worker_seen(listed, MACHINE, "west")
    groups[0]["workers"][0]["last_seen_date_time"] = "2026-01-01T00:00:00Z"
    assert not worker_seen(index_workers(groups), MACHINE.lower(), "east")


def test_host_outcome_combines_the_host_task_and_the_azure_play():
    converged = {"outcome": {"status": "onboarded", "changed": False, "group": "east", "machine_id": MACHINE.lower()}}
    assert host_outcome(None) == {"status": "unreachable", "changed": False}
    assert host_outcome({"unreachable": True})["status"] == "unreachable"
    assert host_outcome({"failed": True, "msg": "group must be set"})["message"] == "group must be set"
    assert host_outcome(converged)["changed"] is False
    assert host_outcome(converged, {"status": "done", "changed": True})["changed"] is True
    failed = host_outcome(converged, {"status": "failed", "task": "Install or check the extension", "message": "Timed out"})
    assert failed["status"] == "failed" and failed["task"] == "Install or check the extension" and not failed["changed"]


def test_report_and_summary_lines():
    seen = index({"group": "east", "id": "w1", "registered": "1", "last_seen": "2"})
    hosts = {
        "win-001": {"outcome": {"status": "onboarded", "changed": True, "machine_id": MACHINE.lower()}, "group": "east"},
        "win-002": {"outcome": {"status": "failed", "task": "Check the Azure Arc inputs", "message": "arc_agent needs x"}, "group": "east"},
        "win-003": {"outcome": {"status": "unreachable", "changed": False}, "group": "west"},
        "win-004": {"outcome": {"status": "onboarded", "changed": False, "machine_id": "other"}, "group": "west"},
    }
    assert unseen_hosts(hosts, seen) == ["win-004"]
    report = build_report(hosts, False, seen)
    assert report["win-002"]["detail"] == 'failed in "Check the Azure Arc inputs": arc_agent needs x'
    assert report["win-004"] == {"status": "unverified", "changed": False, "group": "west",
                                 "detail": "worker not seen by Azure in group west"}
    assert summary_lines(report, False) == [
        "east: 1/2 onboarded (extension-based), 1 changed (win-001), failed: win-002",
        "west: 0/2 onboarded (extension-based), 0 changed, unreachable: win-003, unverified: win-004"]
    assert build_report(hosts, False, {}, "HTTP 500")["win-001"]["detail"] == (
        "worker not seen by Azure in group east; the worker listing failed: HTTP 500")
    checked = build_report(hosts, True, {})
    assert checked["win-004"]["status"] == "onboarded"
    assert summary_lines(checked, True)[1] == "west: 1/2 would be onboarded (extension-based), 0 would change, unreachable: win-003"
