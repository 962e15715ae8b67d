"""Contract tests: the lab against Microsoft's own REST examples.

For every operation the collection uses, the request body of the spec example is sent to the lab (names, ids and the
api-version replaced by the lab's: the lab only accepts the api-version the SDK pins) and the answer must

* have one of the status codes the example lists, and
* carry every property of the example's response for that status, with the same JSON type (recursively; list items
  are compared with the example's first item).

Examples come from ``shared/azure-specs`` next to the checkout; the tests skip with a reason when it is absent.
"""
import json
import os
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The Microsoft REST specs sit next to the checkout (``<checkout>/../shared/azure-specs``).
SPECS_DIR = os.environ.get("AZURE_SPECS_DIR") or os.path.join(os.path.dirname(ROOT), "shared", "azure-specs")

AA = "automation/resource-manager/Microsoft.Automation/stable/2024-10-23/examples/"
OI = "operationalinsights/resource-manager/Microsoft.OperationalInsights/stable/"
OM1 = "operationsmanagement/resource-manager/Microsoft.OperationsManagement/OperationsManagement/preview/2015-11-01-preview/examples/"
OM2 = "operationsmanagement/resource-manager/Microsoft.OperationsManagement/preview/2015-11-01-preview/examples/"
QUERY = "operationalinsights/data-plane/Microsoft.OperationalInsights/preview/2022-10-27_Preview/examples/la-post-example.json"
AA_API, OI_API, OM_API = "2024-10-23", "2025-07-01", "2015-11-01-preview"
VM_ID = "/subscriptions/vmsubid/resourceGroups/vmrg/providers/Microsoft.Compute/virtualMachines/vmname"


def load_example(relative):
    path = os.path.join(SPECS_DIR, relative)
    if not os.path.exists(path):
        pytest.skip("Microsoft REST spec examples not found at %s (set AZURE_SPECS_DIR)" % SPECS_DIR)
    with open(path, encoding="utf-8-sig") as handle:
        return json.load(handle)


def json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def assert_shape(expected, actual, where="body"):
    if expected is None:
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), "%s: expected an object, got %r" % (where, actual)
        for key, value in expected.items():
            assert key in actual, "%s.%s is missing from the lab's answer" % (where, key)
            assert_shape(value, actual[key], where + "." + key)
    elif isinstance(expected, list):
        assert isinstance(actual, list), "%s: expected an array, got %r" % (where, actual)
        if expected:
            assert actual, "%s: the example has items, the lab's answer none" % where
            for item in actual:
                if isinstance(expected[0], list):
                    assert isinstance(item, list), "%s[]: expected an array" % where
                else:
                    assert_shape(expected[0], item, where + "[]")
    else:
        assert json_type(actual) == json_type(expected), "%s: %s in the example, %s from the lab" % (
            where, json_type(expected), json_type(actual))


def check(example, response):
    statuses = example["responses"]
    assert str(response.status_code) in statuses, "status %d, the example lists %s (%s)" % (
        response.status_code, sorted(statuses), response.text[:300])
    expected = statuses[str(response.status_code)].get("body")
    if expected is not None:
        assert_shape(expected, response.json())
    if response.status_code == 202:
        assert response.headers["Location"].startswith("https://127.0.0.1:")


def body_of(example, *keys):
    for key in keys:
        if key in example["parameters"]:
            return example["parameters"][key]
    raise AssertionError("no request body among %s" % (keys,))


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


@pytest.fixture
def group(raw, names):
    name = unique("grp")
    response = raw.call("PUT", names["aa_path"] + "/hybridRunbookWorkerGroups/" + name,
                        {"properties": {"credential": {"name": "myRunAsCredentialName"}}}, AA_API)
    assert response.status_code == 201, response.text
    return names["aa_path"] + "/hybridRunbookWorkerGroups/" + name


@pytest.fixture
def worker(raw, group):
    path = group + "/hybridRunbookWorkers/" + str(uuid.uuid4())
    response = raw.call("PUT", path, {"properties": {"vmResourceId": VM_ID}}, AA_API)
    assert response.status_code == 201, response.text
    return path


@pytest.fixture
def workspace(raw, names):
    path = names["ws_base"] + unique("ws")
    response = raw.call("PUT", path, {"location": "westeurope", "properties": {"sku": {"name": "PerGB2018"}}}, OI_API)
    assert response.status_code == 201, response.text
    poll = raw.call_url("GET", response.headers["Location"])
    assert poll.status_code in (200, 202)
    return path


# ---- Microsoft.Automation ------------------------------------------------------------------------------------------

def test_automation_account_create_get(raw, names):
    example = load_example(AA + "createOrUpdateAutomationAccount.json")
    path = names["rg_path"] + "/providers/Microsoft.Automation/automationAccounts/" + unique("acct")
    check(example, raw.call("PUT", path, body_of(example, "parameters"), AA_API))
    check(load_example(AA + "getAutomationAccount.json"), raw.call("GET", path, api_version=AA_API))
    # A second PUT is an update: 200, which the example also lists.
    response = raw.call("PUT", path, body_of(example, "parameters"), AA_API)
    assert response.status_code == 200
    check(example, response)


def test_agent_registration_and_keys(raw, names):
    check(load_example(AA + "getAgentRegistration.json"),
          raw.call("GET", names["aa_path"] + "/agentRegistrationInformation", api_version=AA_API))
    example = load_example(AA + "regenerateAgentRegistrationKey.json")
    check(example, raw.call("POST", names["aa_path"] + "/agentRegistrationInformation/regenerateKey",
                            body_of(example, "parameters"), AA_API))
    check(load_example(AA + "listAutomationAccountKeys.json"),
          raw.call("POST", names["aa_path"] + "/listKeys", api_version=AA_API))


def test_worker_group_operations(raw, names, group):
    example = load_example(AA + "putHybridRunbookWorkerGroup.json")
    path = names["aa_path"] + "/hybridRunbookWorkerGroups/" + unique("grp")
    body = body_of(example, "HybridRunbookWorkerGroupCreationParameters")
    check(example, raw.call("PUT", path, body, AA_API))
    check(example, raw.call("PUT", path, body, AA_API))
    check(load_example(AA + "getHybridRunbookWorkerGroup.json"), raw.call("GET", path, api_version=AA_API))
    example = load_example(AA + "updateHybridRunbookWorkerGroup.json")
    response = raw.call("PATCH", path, body_of(example, "HybridRunbookWorkerGroupUpdationParameters"), AA_API)
    check(example, response)
    assert response.json()["properties"]["credential"]["name"] == "myRunAsCredentialUpdatedName"
    check(load_example(AA + "listHybridRunbookWorkerGroup.json"),
          raw.call("GET", names["aa_path"] + "/hybridRunbookWorkerGroups", api_version=AA_API))
    check(load_example(AA + "deleteHybridRunbookWorkerGroup.json"), raw.call("DELETE", path, api_version=AA_API))


def test_worker_operations(raw, names, group, worker):
    example = load_example(AA + "putHybridRunbookWorker.json")
    path = group + "/hybridRunbookWorkers/" + str(uuid.uuid4())
    check(example, raw.call("PUT", path, body_of(example, "HybridRunbookWorkerCreationParameters"), AA_API))
    check(load_example(AA + "getHybridRunbookWorker.json"), raw.call("GET", path, api_version=AA_API))
    example = load_example(AA + "patchHybridRunbookWorker.json")
    check(example, raw.call("PATCH", path, body_of(example, "HybridRunbookWorkerCreationParameters"), AA_API))
    check(load_example(AA + "listHybridRunbookWorker.json"),
          raw.call("GET", group + "/hybridRunbookWorkers", api_version=AA_API))
    example = load_example(AA + "moveHybridRunbookWorker.json")
    target = names["aa_path"] + "/hybridRunbookWorkerGroups/" + body_of(example, "HybridRunbookWorkerMoveParameters")[
        "hybridRunbookWorkerGroupName"]
    raw.call("PUT", target, {"properties": {}}, AA_API)
    check(example, raw.call("POST", worker + "/move", body_of(example, "HybridRunbookWorkerMoveParameters"), AA_API))
    moved = target + "/hybridRunbookWorkers/" + worker.rsplit("/", 1)[1]
    assert raw.call("GET", moved, api_version=AA_API).status_code == 200
    example = load_example(AA + "deleteHybridRunbookWorker.json")
    check(example, raw.call("DELETE", path, api_version=AA_API))
    check(example, raw.call("DELETE", moved, api_version=AA_API))
    check(example, raw.call("DELETE", moved, api_version=AA_API))  # already gone: 204, also in the example


def test_linked_workspace(raw, names, workspace):
    link = raw.call("PUT", workspace + "/linkedServices/Automation", {"properties": {"resourceId": names["aa_path"]}},
                    OI_API)
    assert link.status_code in (200, 201), link.text
    try:
        check(load_example(AA + "getLinkedWorkspace.json"),
              raw.call("GET", names["aa_path"] + "/linkedWorkspace", api_version=AA_API))
    finally:
        raw.call("DELETE", workspace + "/linkedServices/Automation", api_version=OI_API)


# ---- Microsoft.OperationalInsights ----------------------------------------------------------------------------------

def test_workspace_create_get_delete(raw, names):
    example = load_example(OI + "2025-07-01/examples/WorkspacesCreate.json")
    path = names["ws_base"] + unique("ws")
    response = raw.call("PUT", path, body_of(example, "parameters"), OI_API)
    check(example, response)
    assert response.json()["properties"]["provisioningState"] == "Creating"
    location = response.headers["Location"]
    status = raw.call("GET", "/subscriptions/%s/providers/Microsoft.OperationalInsights/locations/westeurope/"
                             "operationStatuses/%s" % (names["sub"], location.split("/operationresults/")[1].split("?")[0]),
                      api_version=OI_API)
    check(load_example(OI + "2025-07-01/examples/OperationStatusesGet.json"), status)
    assert raw.call_url("GET", location).status_code == 200  # the lab's default: done after one poll
    check(load_example(OI + "2025-02-01/examples/WorkspacesGet.json"), raw.call("GET", path, api_version=OI_API))
    check(load_example(OI + "2025-02-01/examples/WorkspacesDelete.json"), raw.call("DELETE", path, api_version=OI_API))


def test_shared_keys_and_intelligence_packs(raw, workspace):
    check(load_example(OI + "2025-02-01/examples/WorkspacesGetSharedKeys.json"),
          raw.call("POST", workspace + "/sharedKeys", api_version=OI_API))
    check(load_example(OI + "2025-02-01/examples/WorkspacesListIntelligencePacks.json"),
          raw.call("GET", workspace + "/intelligencePacks", api_version=OI_API))
    example = load_example(OI + "2023-09-01/examples/WorkspacesEnableIntelligencePack.json")
    pack = example["parameters"]["intelligencePackName"]
    check(example, raw.call("POST", workspace + "/intelligencePacks/%s/Enable" % pack, api_version=OI_API))
    example = load_example(OI + "2025-02-01/examples/WorkspacesDisableIntelligencePack.json")
    check(example, raw.call("POST", workspace + "/intelligencePacks/%s/Disable" % pack, api_version=OI_API))


def test_linked_service_create_get_delete(raw, workspace):
    example = load_example(OI + "2025-02-01/examples/LinkedServicesCreate.json")
    path = workspace + "/linkedServices/" + example["parameters"]["linkedServiceName"]
    check(example, raw.call("PUT", path, body_of(example, "parameters"), OI_API))
    check(load_example(OI + "2025-07-01/examples/LinkedServicesGet.json"), raw.call("GET", path, api_version=OI_API))
    check(load_example(OI + "2025-02-01/examples/LinkedServicesDelete.json"), raw.call("DELETE", path, api_version=OI_API))


# ---- Microsoft.OperationsManagement --------------------------------------------------------------------------------

def test_solution_create_get_delete(raw, names, workspace):
    example = load_example(OM1 + "SolutionCreate.json")
    body = json.loads(json.dumps(body_of(example, "parameters")))
    # The example's names are placeholders; a gallery solution is "<Pack>(<workspace>)" on plan
    # Microsoft / OMSGallery/<Pack>, next to its workspace.
    ws_name = workspace.rsplit("/", 1)[1]
    body["properties"]["workspaceResourceId"] = workspace
    body["plan"].update({"publisher": "Microsoft", "product": "OMSGallery/AzureAutomation"})
    path = names["rg_path"] + "/providers/Microsoft.OperationsManagement/solutions/AzureAutomation(%s)" % ws_name
    check(example, raw.call("PUT", path, body, OM_API))
    check(load_example(OM2 + "SolutionGet.json"), raw.call("GET", path, api_version=OM_API))
    check(load_example(OM2 + "SolutionDelete.json"), raw.call("DELETE", path, api_version=OM_API))


# ---- Log Analytics query API ---------------------------------------------------------------------------------------

def test_query_api_shape(raw, workspace):
    example = load_example(QUERY)
    customer_id = raw.call("GET", workspace, api_version=OI_API).json()["properties"]["customerId"]
    path = "/v1/workspaces/%s/query" % customer_id
    # The example's query reads the Usage table, which the lab does not model: it must refuse, not answer wrongly.
    refused = raw.call("POST", path, example["parameters"]["body"], scope="https://api.loganalytics.io/.default")
    assert refused.status_code == 400
    assert "not supported by the lab" in refused.json()["error"]["message"]
    answer = raw.call("POST", path, {"query": "Heartbeat | take 10", "timespan": "PT12H"},
                      scope="https://api.loganalytics.io/.default")
    assert answer.status_code == 200
    expected = example["responses"]["200"]["body"]
    assert_shape({"tables": [{"name": "x", "columns": expected["tables"][0]["columns"], "rows": []}]}, answer.json())
