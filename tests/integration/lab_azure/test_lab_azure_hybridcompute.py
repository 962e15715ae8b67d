"""Microsoft.HybridCompute in the lab: the spec examples, the real azure-mgmt-hybridcompute client, the Arc agent surface.

The SDK (10.0.0) pins api-version 2026-07-15; the reference spec folder is 2026-09-01 (plus 2026-07-15 and 2025-01-13
examples). The lab accepts both 2026 versions and refuses others like ARM does.
"""
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.automation import AutomationClient
from azure.mgmt.hybridcompute import HybridComputeManagementClient

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import arc_agent
from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import testing

from test_lab_azure_contract import assert_shape, check, load_example  # pylint: disable=import-error

HC = "hybridcompute/resource-manager/Microsoft.HybridCompute/"
SDK_API = "2026-07-15"
SPEC_API = "2026-09-01"
WINDOWS_HANDLER = arc_agent.HYBRID_WORKER_WINDOWS


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


@pytest.fixture(scope="module")
def hybridcompute(azure_lab, credential):
    return HybridComputeManagementClient(credential, azure_lab["azure"]["subscription_id"], **testing.client_kwargs(azure_lab))


@pytest.fixture(scope="module")
def hybrid_url(automation, names):
    return automation.automation_account.get(names["rg"], names["aa"]).properties.automation_hybrid_service_url


@pytest.fixture
def machine(azure_lab_dir, names):
    """A freshly connected Windows machine: (name, resource id)."""
    name = unique("arc")
    answer = testing.LabControl(azure_lab_dir).arc_connect(name, ipAddress="10.0.2.7", computerName=name.upper())
    assert answer["properties"]["status"] == "Connected"
    return name, answer["id"]


@pytest.fixture
def worker(automation, names, machine):
    """A worker group with the machine's V2 worker record (the record comes before the extension)."""
    group = unique("grp")
    automation.hybrid_runbook_worker_group.create(names["rg"], names["aa"], group, {"properties": {}})
    worker_id = str(uuid.uuid4())
    automation.hybrid_runbook_workers.create(names["rg"], names["aa"], group, worker_id, {"properties": {"vmResourceId": machine[1]}})
    return group, worker_id


def extension_body(url, **settings):
    return {"location": "westeurope", "properties": {
        "publisher": "Microsoft.Azure.Automation.HybridWorker", "type": "HybridWorkerForWindows", "typeHandlerVersion": "1.1",
        "autoUpgradeMinorVersion": True, "enableAutomaticUpgrade": True, "settings": dict({"AutomationAccountURL": url}, **settings)}}


# ---- contract: the spec examples ----------------------------------------------------------------------------------

def test_machine_get_matches_the_example_shape(raw, names, machine):
    example = load_example(HC + "HybridCompute/stable/2026-07-15/examples/machine/Machines_Get.json")
    path = names["rg_path"] + "/providers/Microsoft.HybridCompute/machines/" + machine[0]
    response = raw.call("GET", path, api_version=SDK_API)
    # The example's null values say nothing about type; its agentConfiguration lists are sample data the lab leaves empty.
    expected = example["responses"]["200"]["body"]
    for key in ("licenseProfile", "hardwareProfile", "storageProfile", "firmwareProfile", "locationData", "osProfile",
                "agentConfiguration", "networkProfile", "parentClusterResourceId", "privateLinkScopeResourceId",
                "identityKeyStore", "tpmEkCertificate", "clientPublicKey"):
        expected["properties"].pop(key)
    assert response.status_code == 200
    assert_shape(expected, response.json())
    assert response.json()["properties"]["networkProfile"]["networkInterfaces"][0]["ipAddresses"][0]["address"] == "10.0.2.7"
    # The spec's own api-version is registered too; another one is refused like ARM refuses it.
    assert raw.call("GET", path, api_version=SPEC_API).status_code == 200
    refused = raw.call("GET", path, api_version="2021-05-20")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "NoRegisteredProviderFound"


def test_extension_create_get_delete_match_the_examples(raw, names, machine, worker, hybrid_url):
    create = load_example(HC + "stable/2025-01-13/examples/extension/Extension_CreateOrUpdate.json")
    get = load_example(HC + "stable/2025-01-13/examples/extension/Extension_Get.json")
    # The examples install CustomScriptExtension; the settings are that handler's, the lab's handler has its own.
    for example in (create, get):
        example["responses"]["200"]["body"]["properties"]["settings"] = {"AutomationAccountURL": "x"}
    path = names["rg_path"] + "/providers/Microsoft.HybridCompute/machines/%s/extensions/HybridWorkerExtension" % machine[0]
    response = raw.call("PUT", path, extension_body(hybrid_url), SPEC_API)
    check(create, response)
    assert response.status_code == 202 and "Azure-AsyncOperation" not in response.headers  # 2026-09-01: Location only
    done = raw.call_url("GET", response.headers["Location"])
    assert done.status_code == 200  # the lab's default: done after one poll, the MachineExtension as the final body
    check(create, done)
    got = raw.call("GET", path, api_version=SDK_API)
    check(get, got)
    assert got.json()["properties"]["typeHandlerVersion"] == "1.1.13"  # the installed version, as the example shows
    delete = load_example(HC + "HybridCompute/stable/2026-09-01/examples/extension/Extension_Delete.json")
    response = raw.call("DELETE", path, api_version=SPEC_API)
    check(delete, response)
    assert {"Azure-AsyncOperation", "Location", "Retry-After"} <= set(response.headers)
    status = raw.call_url("GET", response.headers["Azure-AsyncOperation"])
    assert status.status_code == 200 and status.json()["status"] == "Succeeded"
    check(delete, raw.call("DELETE", path, api_version=SPEC_API))  # already gone: 204, also in the example


def test_machine_listing_carries_each_machines_extensions_and_refuses_expand(raw, names, machine, worker, hybrid_url):
    """Machine.resources lists the machine's extensions, in the listing too: a fleet's extensions in one request."""
    base = names["rg_path"] + "/providers/Microsoft.HybridCompute/machines"
    path = base + "/%s/extensions/HybridWorkerExtension" % machine[0]
    assert raw.call("PUT", path, extension_body(hybrid_url), SPEC_API).status_code == 202
    listed = raw.call("GET", base, api_version=SDK_API)
    assert listed.status_code == 200
    [mine] = [m for m in listed.json()["value"] if m["name"] == machine[0]]
    [extension] = mine["resources"]
    assert extension["id"].lower() == (machine[1] + "/extensions/HybridWorkerExtension").lower()
    assert extension["properties"]["publisher"] == "Microsoft.Azure.Automation.HybridWorker"
    assert extension["properties"]["provisioningState"] in ("Creating", "Succeeded")
    assert extension["properties"]["protectedSettings"] == {}
    got = raw.call("GET", base + "/" + machine[0], api_version=SDK_API)
    assert [e["id"] for e in got.json()["resources"]] == [extension["id"]]
    # What $expand adds is not in the spec: the lab says so rather than answering as if it had expanded.
    for url in (base, base + "/" + machine[0]):
        refused = raw.call("GET", url, api_version=SDK_API, params={"$expand": "instanceView"})
        assert refused.status_code == 501 and refused.json()["error"]["code"] == "NotModelledByLab", refused.text


# ---- the SDK ----------------------------------------------------------------------------------------------------------

def test_sdk_machines_read_and_list(hybridcompute, names, machine):
    got = hybridcompute.machines.get(names["rg"], machine[0])
    assert got.properties.status == "Connected"
    assert got.properties.os_type == "windows" and got.properties.os_profile.computer_name == machine[0].upper()
    assert got.identity.principal_id
    assert machine[0] in [m.name for m in hybridcompute.machines.list_by_resource_group(names["rg"])]
    assert machine[0] in [m.name for m in hybridcompute.machines.list_by_subscription()]
    with pytest.raises(ResourceNotFoundError) as caught:
        hybridcompute.machines.get(names["rg"], "arc-missing")
    assert caught.value.error.code == "ResourceNotFound"


def test_sdk_extension_lifecycle_activates_the_v2_worker(hybridcompute, automation, names, machine, worker, hybrid_url, lab_control):
    group, worker_id = worker
    body = extension_body(hybrid_url, ProxySettings={"ProxyServer": "10.0.0.10:8080"})
    body["properties"]["protectedSettings"] = {"ProxyPassword": "lab-test-proxy-password-1"}
    installed = hybridcompute.machine_extensions.begin_create_or_update(names["rg"], machine[0], "HybridWorkerExtension", body).result()
    assert installed.properties.provisioning_state == "Succeeded"
    assert installed.properties.protected_settings == {}
    record = automation.hybrid_runbook_workers.get(names["rg"], names["aa"], group, worker_id)
    assert (record.properties.worker_type, record.properties.worker_name, record.properties.ip) == ("HybridV2", machine[0].upper(), "10.0.2.7")
    # Protected settings are kept in the lab's secret store, masked in its dumps, never answered.
    assert "lab-test-proxy-password-1" in lab_control.secrets()
    assert "lab-test-proxy-password-1" not in str(lab_control.resources())
    listed = [e.name for e in hybridcompute.machine_extensions.list(names["rg"], machine[0])]
    assert listed == ["HybridWorkerExtension"]
    with pytest.raises(HttpResponseError) as caught:
        hybridcompute.machine_extensions.begin_create_or_update(names["rg"], machine[0], "Second", extension_body(hybrid_url))
    assert caught.value.status_code == 409 and "one extension per handler" in caught.value.error.message
    hybridcompute.machine_extensions.begin_delete(names["rg"], machine[0], "HybridWorkerExtension").result()
    assert list(hybridcompute.machine_extensions.list(names["rg"], machine[0])) == []


@pytest.mark.parametrize("case, message", [
    ("wrong_url", "AutomationAccountURL 'https://127.0.0.1:1/jrds/automationAccounts/x' is not the automationHybridServiceUrl of any "
                  "Automation account."),
    ("no_worker", "is not a worker of any Hybrid Runbook Worker group of Automation account"),
    ("fault", "The extension operation failed (a fault injected by the lab)."),
    ("host_fails", "the host said no"),
])
def test_sdk_extension_failures(hybridcompute, automation, names, azure_lab_dir, machine, hybrid_url, lab_control, case, message):
    if case != "no_worker":
        group = unique("grp")
        automation.hybrid_runbook_worker_group.create(names["rg"], names["aa"], group, {"properties": {}})
        automation.hybrid_runbook_workers.create(names["rg"], names["aa"], group, str(uuid.uuid4()), {"properties": {"vmResourceId": machine[1]}})
    url = "https://127.0.0.1:1/jrds/automationAccounts/x" if case == "wrong_url" else hybrid_url
    if case == "fault":
        lab_control.fault("lro_failed", operation="MachineExtensions_LRO", count=1)
    if case == "host_fails":
        lab_control.arc_machine(machine[1], extension_handlers={WINDOWS_HANDLER: {"outcome": "fail", "message": "the host said no"}})
    with pytest.raises(HttpResponseError) as caught:
        hybridcompute.machine_extensions.begin_create_or_update(names["rg"], machine[0], "HybridWorkerExtension", extension_body(url)).result()
    assert caught.value.error.code == "ExtensionOperationFailed"
    assert message in caught.value.error.message
    failed = hybridcompute.machine_extensions.get(names["rg"], machine[0], "HybridWorkerExtension")
    assert failed.properties.provisioning_state == "Failed"
    assert message in failed.properties.instance_view.status.message


def test_sdk_extension_refusals(hybridcompute, names, machine, hybrid_url, raw):
    other = extension_body(hybrid_url)
    other["properties"].update(publisher="Microsoft.Compute", type="CustomScriptExtension")
    with pytest.raises(HttpResponseError) as caught:
        hybridcompute.machine_extensions.begin_create_or_update(names["rg"], machine[0], "Script", other)
    assert caught.value.status_code == 501 and "not modelled by the lab" in caught.value.error.message
    with pytest.raises(ResourceNotFoundError):
        hybridcompute.machine_extensions.begin_create_or_update(names["rg"], "arc-missing", "x", extension_body(hybrid_url))
    wrong_region = extension_body(hybrid_url)
    wrong_region["location"] = "eastus"
    with pytest.raises(HttpResponseError) as caught:
        hybridcompute.machine_extensions.begin_create_or_update(names["rg"], machine[0], "HybridWorkerExtension", wrong_region)
    assert caught.value.error.code == "InvalidParameter"
    # Machine create/update through ARM is not what an agent does in the lab: refused, not silently accepted.
    path = names["rg_path"] + "/providers/Microsoft.HybridCompute/machines/" + machine[0]
    assert raw.call("PUT", path, {"location": "westeurope"}, SDK_API).status_code == 501


def test_hanging_handler_keeps_the_operation_running_until_it_reports(hybridcompute, names, machine, worker, hybrid_url, lab_control):
    lab_control.settings(lro_seconds=0.0)
    lab_control.arc_machine(machine[1], extension_handlers={WINDOWS_HANDLER: {"outcome": "hang"}})
    poller = hybridcompute.machine_extensions.begin_create_or_update(names["rg"], machine[0], "HybridWorkerExtension",
                                                                     extension_body(hybrid_url), polling=False)
    assert poller.done()  # polling=False returns after the 202
    assert hybridcompute.machine_extensions.get(names["rg"], machine[0], "HybridWorkerExtension").properties.provisioning_state == "Creating"
    with pytest.raises(HttpResponseError) as caught:
        hybridcompute.machine_extensions.begin_create_or_update(names["rg"], machine[0], "HybridWorkerExtension", extension_body(hybrid_url))
    assert caught.value.status_code == 409
    lab_control.arc_machine(machine[1], extension_handlers={WINDOWS_HANDLER: {"outcome": "succeed"}})
    assert hybridcompute.machine_extensions.get(names["rg"], machine[0], "HybridWorkerExtension").properties.provisioning_state == "Succeeded"


# ---- the Arc agent surface --------------------------------------------------------------------------------------------

def test_agent_connect_heartbeat_goal_state_disconnect(azure_lab, azure_lab_dir, hybridcompute, automation, names, worker, machine,
                                                       hybrid_url, lab_control):
    agent = lab_control.arc_agent()
    sub, rg, name = names["sub"], names["rg"], machine[0]
    group, worker_id = worker
    again = agent.connect(sub, rg, name, "West Europe", agentVersion="1.49.0")
    assert again["properties"]["agentVersion"] == "1.49.0"
    hybridcompute.machine_extensions.begin_create_or_update(rg, name, "HybridWorkerExtension", extension_body(hybrid_url)).result()
    goal = agent.goal_state(sub, rg, name)
    assert [(e["name"], e["properties"]["provisioningState"], e["properties"]["settings"]["AutomationAccountURL"]) for e in goal] == [
        ("HybridWorkerExtension", "Succeeded", hybrid_url)]
    assert "protectedSettings" not in goal[0]["properties"]

    seen = automation.hybrid_runbook_workers.get(rg, names["aa"], group, worker_id).properties.last_seen_date_time
    assert agent.heartbeat(sub, rg, name)["properties"]["status"] == "Connected"
    assert automation.hybrid_runbook_workers.get(rg, names["aa"], group, worker_id).properties.last_seen_date_time > seen
    assert agent.heartbeat(sub, rg, name, status="Disconnected")["properties"]["status"] == "Disconnected"
    assert hybridcompute.machines.get(rg, name).properties.status == "Disconnected"

    agent.disconnect(sub, rg, name)
    with pytest.raises(ResourceNotFoundError):
        hybridcompute.machines.get(rg, name)
    assert agent.disconnect(sub, rg, name) is None  # already gone: 204
    # The worker record stays (stale) until someone removes it, as in Azure.
    assert automation.hybrid_runbook_workers.get(rg, names["aa"], group, worker_id).name == worker_id
    stats = lab_control.stats()["arcagent"]
    assert stats["connect"] >= 2 and stats["disconnect"] >= 1 and stats["heartbeat"] >= 2 and stats["goal_state"] >= 1


def test_agent_refusals(azure_lab, names, lab_control):
    agent = lab_control.arc_agent()
    sub, rg = names["sub"], names["rg"]
    cases = [
        (lambda: agent.connect(sub, "rg-missing", "arc-x", "westeurope"), 404, "ResourceGroupNotFound"),
        (lambda: agent.connect(sub, rg, "bad name", "westeurope"), 400, "InvalidResourceName"),
        (lambda: agent.connect(sub, rg, "arc-x", "moon"), 400, "LocationNotAvailableForResourceType"),
        (lambda: agent.heartbeat(sub, rg, "arc-never-connected"), 404, "ResourceNotFound"),
    ]
    for call, status, code in cases:
        with pytest.raises(arc_agent.ArcAgentError) as caught:
            call()
        assert (caught.value.status, caught.value.code) == (status, code)
    name = unique("arc")
    agent.connect(sub, rg, name, "westeurope", vmUuid="11111111-1111-1111-1111-111111111111")
    with pytest.raises(arc_agent.ArcAgentError) as caught:
        agent.connect(sub, rg, name, "westeurope", vmUuid="22222222-2222-2222-2222-222222222222")
    assert caught.value.status == 409
    wrong = arc_agent.ArcAgentClient(azure_lab["azure"]["url"], azure_lab["azure"]["ca_bundle"], azure_lab["azure"]["tenant_id"],
                                     azure_lab["azure"]["client_id"], "not-the-secret")
    with pytest.raises(arc_agent.ArcAgentError) as caught:
        wrong.connect(sub, rg, name, "westeurope")
    assert (caught.value.status, caught.value.code) == (401, "invalid_client")
    lab_control.arc_agent().disconnect(sub, rg, name)


def test_machine_delete_through_arm_removes_extensions(raw, names, machine, hybridcompute):
    path = names["rg_path"] + "/providers/Microsoft.HybridCompute/machines/" + machine[0]
    response = raw.call("DELETE", path, api_version=SDK_API)
    assert response.status_code == 202 and raw.call_url("GET", response.headers["Location"]).status_code == 200
    assert raw.call("DELETE", path, api_version=SDK_API).status_code == 204
    with pytest.raises(ResourceNotFoundError):
        hybridcompute.machine_extensions.get(names["rg"], machine[0], "HybridWorkerExtension")


def test_labctl_sets_status_and_handler_outcome(azure_lab_dir, machine, hybridcompute, names):
    answer = testing.labctl(azure_lab_dir, "azure-arc", machine[1], "--status", "Disconnected",
                            "--handler", WINDOWS_HANDLER + "=fail:disk full")
    assert '"status": "Disconnected"' in answer.stdout
    assert hybridcompute.machines.get(names["rg"], machine[0]).properties.status == "Disconnected"
    refused = testing.labctl(azure_lab_dir, "azure-arc", machine[1], "--handler", WINDOWS_HANDLER + "=explode", check=False)
    assert refused.returncode != 0 and "outcome must be one of succeed, fail, hang" in refused.stderr


def test_restart_keeps_machines_extensions_and_a_running_operation(tmp_path):
    """A lab stopped in the middle of an extension operation finds the machine, the extension and the operation again."""
    lab_dir = str(tmp_path)
    with testing.running_lab(lab_dir, "--azure-lro-polls", "1000", "--azure-lro-seconds", "1000") as lab:
        azure = lab["azure"]
        control = testing.LabControl(lab_dir)
        machine_id = control.arc_connect("arc-restart")["id"]
        automation = AutomationClient(testing.credential(lab), azure["subscription_id"], **testing.client_kwargs(lab))
        url = automation.automation_account.get(azure["resource_group"], azure["automation_account"]).properties.automation_hybrid_service_url
        automation.hybrid_runbook_worker_group.create(azure["resource_group"], azure["automation_account"], "g", {"properties": {}})
        automation.hybrid_runbook_workers.create(azure["resource_group"], azure["automation_account"], "g", str(uuid.uuid4()),
                                                 {"properties": {"vmResourceId": machine_id}})
        client = HybridComputeManagementClient(testing.credential(lab), azure["subscription_id"], **testing.client_kwargs(lab))
        client.machine_extensions.begin_create_or_update(azure["resource_group"], "arc-restart", "HybridWorkerExtension",
                                                         extension_body(url), polling=False)
        testing.labctl(lab_dir, "down")
        testing.labctl(lab_dir, "up", "--azure-lro-polls", "1", "--azure-lro-seconds", "0")
        lab = testing.read_lab_json(lab_dir)
        client = HybridComputeManagementClient(testing.credential(lab), azure["subscription_id"], **testing.client_kwargs(lab))
        assert client.machines.get(azure["resource_group"], "arc-restart").properties.status == "Connected"
        # The operation resumes and finishes on the next read now that its time is up.
        extension = client.machine_extensions.get(azure["resource_group"], "arc-restart", "HybridWorkerExtension")
        assert extension.properties.provisioning_state == "Succeeded"
