"""Lab hosts and the Azure lab, coupled as in reality: workspace connection, the HybridRegistration push that only
an ``AzureAutomation`` workspace triggers, worker registration through the account's agent service, heartbeats and
pings, and drift made on the Azure side."""
import time

import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows import host as hostmod
from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import AzureSide

DELAY = 0.4
INTERVAL = 0.5
BUILD = ("10.20.18029.0", "{8A7F2C51-4C7D-4BFD-9014-91D11F24AAE2}")


@pytest.fixture(scope="module")
def lab(windows_lab_factory):
    return windows_lab_factory(hosts=4, groups="g1", extra=("--hybrid-registration-delay", str(DELAY),
                                                            "--heartbeat-interval", str(INTERVAL)))


@pytest.fixture(scope="module")
def azure(lab):
    side = AzureSide(lab.lab_json)
    side.automation = side.workspace("ws-automation")
    side.plain = side.workspace("ws-plain", solutions=())
    side.endpoint, side.key = side.registration()
    return side


def install_and_connect(lab, name, workspace_id, key):
    with lab.locked_host(name) as host:
        host.install_mma(BUILD[0], BUILD[1], "setup.exe /qn NOAPM=1 AcceptEndUserLicenseAgreement=1")
        host.add_cloud_workspace(workspace_id, key)


def test_hybrid_registration_arrives_only_from_an_automation_workspace(lab, azure):
    with lab.locked_host("win-001") as host:
        host.install_mma(BUILD[0], BUILD[1], "setup.exe /qn NOAPM=1 AcceptEndUserLicenseAgreement=1")
        host.add_cloud_workspace(*azure.automation)
        assert host.hybrid_registration_versions() == []  # not before the configured delay
    install_and_connect(lab, "win-002", *azure.plain)
    first = lab.host("win-001")
    assert first["agent"]["workspaces"][0]["connection_status"] == hostmod.CONNECTION_OK
    assert "AzureAutomation" in first["agent"]["workspaces"][0]["solutions"]
    time.sleep(DELAY + 0.2)
    lab.heartbeat()  # the agent's periodic round also re-reads configuration
    assert lab.host("win-001")["summary"]["hybrid_registration_versions"] == ["7.3.1722.0"]
    plain = lab.host("win-002")
    assert plain["agent"]["workspaces"][0]["connection_status"] == hostmod.CONNECTION_OK
    assert plain["summary"]["hybrid_registration_versions"] == []


def test_wrong_workspace_key_and_never_arriving_push(lab, azure):
    install_and_connect(lab, "win-003", azure.automation[0], "d3Jvbmcgd29ya3NwYWNlIGtleQ==")
    assert lab.host("win-003")["agent"]["workspaces"][0]["connection_status"] == hostmod.CONNECTION_AUTH_FAILED
    lab.fault("win-004", "hybrid-registration-never")
    install_and_connect(lab, "win-004", *azure.automation)
    time.sleep(DELAY + 0.2)
    lab.heartbeat()
    never = lab.host("win-004")
    assert never["agent"]["workspaces"][0]["connection_status"] == hostmod.CONNECTION_OK
    assert never["summary"]["hybrid_registration_versions"] == []
    # Once the push can arrive, the agent's periodic configuration refresh brings it (the solution is listed, the
    # module absent): no restart of the agent needed.
    lab.fault("win-004", "clear")
    lab.heartbeat()
    time.sleep(DELAY + 0.2)
    lab.heartbeat()
    arrived = lab.host("win-004")
    assert arrived["summary"]["hybrid_registration_versions"] == ["7.3.1722.0"]
    assert arrived["services"]["HealthService"]["status"] == "Running"


def test_registration_heartbeats_and_deregistration(lab, azure):
    with lab.locked_host("win-001") as host:
        assert host.newest_hybrid_registration()
        registered = host.register_v1_worker("g1", azure.endpoint, azure.key)
    hrw = lab.host("win-001")["summary"]["hrw"]
    assert hrw["layout"] == "current" and hrw["registered_group"] == "g1"
    assert hrw["user_workers"][0]["account_id"] == registered["account_id"]
    workers = azure.workers("g1")
    address = lab.lab_json["windows"]["hosts"]["win-001"]["address"]
    assert [(w["name"], w["workerName"], w["ip"], w["workerType"]) for w in workers] == [
        (registered["machine_id"], "WIN-001", address, "HybridV1")]

    seen_before = workers[0]["lastSeenDateTime"]
    time.sleep(0.05)
    counters = lab.heartbeat()
    assert counters["pings"] >= 1 and counters["errors"] == 0
    assert azure.workers("g1")[0]["lastSeenDateTime"] > seen_before
    computers = azure.heartbeat_computers(azure.automation[0])
    assert computers.get("WIN-001", 0) >= 1 and "WIN-003" not in computers  # the refused key sends nothing

    with lab.locked_host("win-001") as host:
        with pytest.raises(hostmod.WindowsError, match="^Machine is already registered$"):
            host.register_v1_worker("g1", azure.endpoint, azure.key)
        host.deregister_v1_worker(azure.endpoint, azure.key)
    assert registered["machine_id"] not in [w["name"] for w in azure.workers("g1")]
    # Remove-HybridRunbookWorker leaves the registry: a new Add fails until the keys go and the agent restarts.
    assert lab.host("win-001")["summary"]["hrw"]["registered_group"] == "g1"
    lab.drift("win-001", "unregister")
    with lab.locked_host("win-001") as host:
        host.register_v1_worker("g1", azure.endpoint, azure.key)
    assert [w["workerName"] for w in azure.workers("g1")] == ["WIN-001"]
    assert registered["machine_id"] not in [w["name"] for w in azure.workers("g1")]


def test_wrong_account_key_is_refused_by_the_agent_service(lab, azure):
    lab.drift("win-001", "unregister")
    with lab.locked_host("win-001") as host:
        with pytest.raises(hostmod.WindowsError) as refused:
            host.register_v1_worker("g1", azure.endpoint, "bm90IHRoZSBhY2NvdW50IGtleQ==")
    assert refused.value.status == 401
    assert lab.host("win-001")["summary"]["hrw"]["registered_group"] is None


def test_stopped_agent_sends_no_heartbeat(lab, azure):
    lab.drift("win-002", "stop-service")
    time.sleep(INTERVAL)  # let a periodic round that read the host before the stop land its post
    lab.heartbeat()
    before = azure.heartbeat_computers(azure.plain[0]).get("WIN-002", 0)
    assert before >= 1  # it did beat while running
    lab.heartbeat()
    time.sleep(INTERVAL)
    assert azure.heartbeat_computers(azure.plain[0]).get("WIN-002", 0) == before
    assert lab.drift("win-002", "stop-service")["changed"] is False  # already stopped


def test_azure_side_drift_delete_worker_and_move_group(lab, azure):
    lab.drift("win-001", "unregister")  # earlier tests left stale entries in Azure, as real re-registrations do
    with lab.locked_host("win-001") as host:
        machine_id = host.register_v1_worker("g1", azure.endpoint, azure.key)["machine_id"]
    assert machine_id in [w["name"] for w in azure.workers("g1")]
    lab.drift("win-001", "delete-azure-worker")
    assert machine_id not in [w["name"] for w in azure.workers("g1")]
    assert lab.host("win-001")["summary"]["hrw"]["registered_group"] == "g1"  # the host does not know

    lab.drift("win-001", "unregister")
    with lab.locked_host("win-001") as host:
        machine_id = host.register_v1_worker("g1", azure.endpoint, azure.key)["machine_id"]
    lab.drift("win-001", "move-group", "g2")
    assert machine_id not in [w["name"] for w in azure.workers("g1")]
    moved = [w for w in azure.workers("g2") if w["workerName"] == "WIN-001"]
    assert len(moved) == 1 and moved[0]["name"] != machine_id
    assert lab.host("win-001")["summary"]["hrw"]["registered_group"] == "g2"


def test_heartbeat_rounds_run_by_themselves(lab, azure):
    lab.stats(reset=True)
    before = azure.heartbeat_computers(azure.automation[0]).get("WIN-004", 0)
    time.sleep(3 * INTERVAL + 0.3)
    beats = lab.stats()["heartbeats"]
    assert beats["ods_posts"] >= 2 and beats["errors"] == 0
    assert azure.heartbeat_computers(azure.automation[0])["WIN-004"] >= before + 2
