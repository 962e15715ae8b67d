"""The real azure-identity, azure-mgmt-automation and azure-mgmt-loganalytics clients against the lab."""
import time
import uuid

import pytest
from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ResourceExistsError,
                                   ResourceNotFoundError)
from azure.mgmt.automation import AutomationClient
from azure.mgmt.loganalytics import LogAnalyticsManagementClient

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import testing

VM_ID = "/subscriptions/%s/resourceGroups/vms/providers/Microsoft.HybridCompute/machines/%s"


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def operations(control, name):
    return [e for e in control.request_log() if e["operation"] == name]


# ---- Microsoft.Automation ------------------------------------------------------------------------------------------

def test_automation_account_lifecycle(automation, names, azure_lab):
    name = unique("acct")
    created = automation.automation_account.create_or_update(
        names["rg"], name, {"location": "West Europe", "properties": {"sku": {"name": "Basic"}}})
    assert created.name == name
    assert created.properties.automation_hybrid_service_url.startswith(azure_lab["azure"]["url"] + "/jrds/")
    assert created["properties"]["RegistrationUrl"].startswith(azure_lab["azure"]["url"] + "/agentsvc/accounts/")
    updated = automation.automation_account.update(names["rg"], name, {"tags": {"team": "ops"}})
    assert updated.tags == {"team": "ops"}
    assert automation.automation_account.get(names["rg"], name).tags == {"team": "ops"}
    automation.automation_account.delete(names["rg"], name)
    with pytest.raises(ResourceNotFoundError):
        automation.automation_account.get(names["rg"], name)


def test_registration_information_and_keys(automation, names):
    before = automation.agent_registration_information.get(names["rg"], names["aa"])
    assert before.endpoint.endswith(automation.automation_account.get(names["rg"], names["aa"]).properties[
        "RegistrationUrl"].rsplit("/", 1)[1])
    listed = automation.keys.list_by_automation_account(names["rg"], names["aa"])
    assert [(k.key_name, k.value) for k in listed.keys_property] == [
        ("Primary", before.keys_property.primary), ("Secondary", before.keys_property.secondary)]
    after = automation.agent_registration_information.regenerate_key(names["rg"], names["aa"], {"keyName": "secondary"})
    assert after.keys_property.primary == before.keys_property.primary
    assert after.keys_property.secondary != before.keys_property.secondary


def test_worker_group_lifecycle_and_paging(automation, names, lab_control):
    lab_control.settings(page_size=2)
    prefix = unique("page")
    for index in range(5):
        automation.hybrid_runbook_worker_group.create(names["rg"], names["aa"], "%s-%d" % (prefix, index),
                                                      {"properties": {"credential": {"name": "cred"}}})
    listed = [g.name for g in automation.hybrid_runbook_worker_group.list_by_automation_account(names["rg"], names["aa"])]
    assert ["%s-%d" % (prefix, i) for i in range(5)] == [n for n in listed if n.startswith(prefix)]
    pages = [e for e in operations(lab_control, "HybridRunbookWorkerGroup_ListByAutomationAccount")
             if "skiptoken" in e["path"]]
    assert pages, "the SDK never followed a nextLink"
    only = list(automation.hybrid_runbook_worker_group.list_by_automation_account(
        names["rg"], names["aa"], filter="name eq '%s-3'" % prefix))
    assert [g.name for g in only] == ["%s-3" % prefix]

    group = "%s-0" % prefix
    updated = automation.hybrid_runbook_worker_group.update(names["rg"], names["aa"], group,
                                                            {"properties": {"credential": {"name": "other"}}})
    assert updated.properties.credential.name == "other"
    assert updated.properties.group_type == "User"
    for index in range(5):
        automation.hybrid_runbook_worker_group.delete(names["rg"], names["aa"], "%s-%d" % (prefix, index))
    with pytest.raises(ResourceNotFoundError) as caught:
        automation.hybrid_runbook_worker_group.get(names["rg"], names["aa"], group)
    assert caught.value.error.code == "NotFound"  # the Automation provider's flat error shape


def test_workers_create_patch_move_delete_and_paging(automation, names, lab_control):
    lab_control.settings(page_size=2)
    source, target = unique("src"), unique("dst")
    for group in (source, target):
        automation.hybrid_runbook_worker_group.create(names["rg"], names["aa"], group, {})
    ids = [str(uuid.uuid4()) for index in range(3)]
    for worker_id in ids:
        created = automation.hybrid_runbook_workers.create(
            names["rg"], names["aa"], source, worker_id, {"properties": {"vmResourceId": VM_ID % (names["sub"], worker_id)}})
        assert created.properties.worker_type == "HybridV2"
        assert created.properties.worker_name == worker_id
    listed = list(automation.hybrid_runbook_workers.list_by_hybrid_runbook_worker_group(names["rg"], names["aa"], source))
    assert sorted(w.name for w in listed) == sorted(ids)
    patched = automation.hybrid_runbook_workers.patch(names["rg"], names["aa"], source, ids[0])
    assert patched.name == ids[0]
    # A group that still has workers is refused (lab rule, see README); the SDK raises with the flat error code.
    with pytest.raises(HttpResponseError) as caught:
        automation.hybrid_runbook_worker_group.delete(names["rg"], names["aa"], source)
    assert caught.value.error.code == "BadRequest"
    automation.hybrid_runbook_workers.move(names["rg"], names["aa"], source, ids[0], {"hybridRunbookWorkerGroupName": target})
    assert automation.hybrid_runbook_workers.get(names["rg"], names["aa"], target, ids[0]).name == ids[0]
    with pytest.raises(ResourceNotFoundError):
        automation.hybrid_runbook_workers.get(names["rg"], names["aa"], source, ids[0])
    with pytest.raises(ResourceExistsError):
        automation.hybrid_runbook_workers.create(names["rg"], names["aa"], source, ids[0],
                                                 {"properties": {"vmResourceId": VM_ID % (names["sub"], "x")}})
    for group, worker_id in ((target, ids[0]), (source, ids[1]), (source, ids[2])):
        automation.hybrid_runbook_workers.delete(names["rg"], names["aa"], group, worker_id)
    automation.hybrid_runbook_workers.delete(names["rg"], names["aa"], source, ids[1])  # 204: already gone
    for group in (source, target):
        automation.hybrid_runbook_worker_group.delete(names["rg"], names["aa"], group)


# ---- Microsoft.OperationalInsights ----------------------------------------------------------------------------------

def test_workspace_lro_create_update_delete(loganalytics, names, lab_control):
    lab_control.settings(lro_polls=3, lro_seconds=60)
    name = unique("ws")
    poller = loganalytics.workspaces.begin_create_or_update(
        names["rg"], name, {"location": "westeurope", "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 60}})
    workspace = poller.result()
    assert workspace.properties.provisioning_state == "Succeeded"
    assert workspace.properties.sku.name == "pergb2018"  # echoed lower-case, as the real service does
    assert len(operations(lab_control, "Workspaces_OperationResult")) >= 3
    assert loganalytics.workspaces.get(names["rg"], name).properties.customer_id == workspace.properties.customer_id
    patched = loganalytics.workspaces.update(names["rg"], name, {"properties": {"retentionInDays": 90}})
    assert patched.properties.retention_in_days == 90
    loganalytics.workspaces.begin_delete(names["rg"], name).result()
    with pytest.raises(ResourceNotFoundError) as caught:
        loganalytics.workspaces.get(names["rg"], name)
    assert caught.value.error.code == "ResourceNotFound"


def test_workspace_creating_until_polled_or_timed(loganalytics, names, lab_control):
    lab_control.settings(lro_polls=100, lro_seconds=0.3)
    name = unique("ws")
    poller = loganalytics.workspaces.begin_create_or_update(names["rg"], name, {"location": "westeurope"}, polling=False)
    assert poller.result().properties.provisioning_state == "Creating"
    assert loganalytics.workspaces.get(names["rg"], name).properties.provisioning_state == "Creating"
    time.sleep(0.4)
    assert loganalytics.workspaces.get(names["rg"], name).properties.provisioning_state == "Succeeded"


def test_workspace_lro_failed_fault(loganalytics, names, lab_control):
    lab_control.fault("lro_failed", count=1)
    name = unique("ws")
    with pytest.raises(HttpResponseError):
        loganalytics.workspaces.begin_create_or_update(names["rg"], name, {"location": "westeurope"}).result()
    assert loganalytics.workspaces.get(names["rg"], name).properties.provisioning_state == "Failed"
    again = loganalytics.workspaces.begin_create_or_update(names["rg"], name, {"location": "westeurope"}).result()
    assert again.properties.provisioning_state == "Succeeded"


def test_workspace_validation(loganalytics, names):
    with pytest.raises(HttpResponseError) as caught:
        loganalytics.workspaces.begin_create_or_update(names["rg"], "ab", {"location": "westeurope"}).result()
    assert caught.value.error.code == "InvalidWorkspaceName"
    with pytest.raises(HttpResponseError) as caught:
        loganalytics.workspaces.begin_create_or_update(names["rg"], unique("ws"), {"location": "moon-north"}).result()
    assert caught.value.error.code == "LocationNotAvailableForResourceType"
    with pytest.raises(ResourceNotFoundError) as caught:
        loganalytics.workspaces.begin_create_or_update("no-such-rg", unique("ws"), {"location": "westeurope"}).result()
    assert caught.value.error.code == "ResourceGroupNotFound"


def test_keys_packs_and_linked_service(loganalytics, automation, names, lab_control):
    name = unique("ws")
    loganalytics.workspaces.begin_create_or_update(names["rg"], name, {"location": "westeurope"}).result()
    keys = loganalytics.shared_keys.get_shared_keys(names["rg"], name)
    renewed = loganalytics.shared_keys.regenerate(names["rg"], name)
    assert renewed.primary_shared_key != keys.primary_shared_key
    packs = loganalytics.intelligence_packs.list(names["rg"], name)
    assert {p.name: p.enabled for p in packs}["AzureAutomation"] is False
    loganalytics.intelligence_packs.enable(names["rg"], name, "AzureAutomation")
    assert {p.name: p.enabled for p in loganalytics.intelligence_packs.list(names["rg"], name)}["AzureAutomation"]
    loganalytics.intelligence_packs.disable(names["rg"], name, "AzureAutomation")
    assert not {p.name: p.enabled for p in loganalytics.intelligence_packs.list(names["rg"], name)}["AzureAutomation"]

    lab_control.settings(linked_service_linger_seconds=0.3)
    account_id = automation.automation_account.get(names["rg"], names["aa"]).id
    link = loganalytics.linked_services.begin_create_or_update(
        names["rg"], name, "Automation", {"properties": {"resourceId": account_id}}).result()
    assert link.name == name + "/Automation"
    assert link.properties.resource_id == account_id
    assert [s.name for s in loganalytics.linked_services.list_by_workspace(names["rg"], name)] == [name + "/Automation"]
    assert automation.linked_workspace.get(names["rg"], names["aa"]).id.lower().endswith("/workspaces/" + name.lower())
    loganalytics.linked_services.begin_delete(names["rg"], name, "Automation").result()
    # The link lingers after the 200 answer, then disappears.
    assert loganalytics.linked_services.get(names["rg"], name, "Automation").properties.provisioning_state == "Deleting"
    time.sleep(0.4)
    with pytest.raises(ResourceNotFoundError):
        loganalytics.linked_services.get(names["rg"], name, "Automation")


# ---- errors, retries, auth -----------------------------------------------------------------------------------------

def test_throttled_request_is_retried_by_the_sdk(automation, names, lab_control):
    lab_control.reset_stats()
    lab_control.fault("throttle", operation="AgentRegistrationInformation_Get", count=1, retry_after=0)
    assert automation.agent_registration_information.get(names["rg"], names["aa"]).endpoint
    stats = lab_control.stats()["arm"]
    assert stats["by_operation"]["AgentRegistrationInformation_Get"] == 2
    assert stats["by_status"]["429"] == 1
    logged = operations(lab_control, "AgentRegistrationInformation_Get")[-2:]
    assert [e["status"] for e in logged] == [429, 200]


def test_server_error_fault_every_nth(automation, names, lab_control):
    lab_control.fault("error", status=500, operation="HybridRunbookWorkerGroup_Get", every=2)
    group = unique("g")
    automation.hybrid_runbook_worker_group.create(names["rg"], names["aa"], group, {})
    for attempt in range(2):
        # The 500 on every second call is retried by the SDK, so both calls succeed.
        assert automation.hybrid_runbook_worker_group.get(names["rg"], names["aa"], group).name == group
    statuses = [e["status"] for e in operations(lab_control, "HybridRunbookWorkerGroup_Get")[-3:]]
    assert statuses == [200, 500, 200]
    automation.hybrid_runbook_worker_group.delete(names["rg"], names["aa"], group)


def test_wrong_api_version_is_refused(azure_lab, credential, names):
    client = AutomationClient(credential, names["sub"], api_version="2023-11-01", **testing.client_kwargs(azure_lab))
    with pytest.raises(HttpResponseError) as caught:
        client.automation_account.get(names["rg"], names["aa"])
    assert caught.value.error.code == "NoRegisteredProviderFound"


def test_wrong_secret_gets_aadsts_error(azure_lab):
    lab = dict(azure_lab, azure=dict(azure_lab["azure"], env=dict(azure_lab["azure"]["env"], AZURE_SECRET="wrong")))
    with pytest.raises(ClientAuthenticationError) as caught:
        testing.credential(lab).get_token(testing.ARM_SCOPE)
    assert "AADSTS7000215" in str(caught.value)


def test_token_endpoint_down(azure_lab, lab_control):
    lab_control.fault("token_down", count=1)
    with pytest.raises(ClientAuthenticationError):
        testing.credential(azure_lab, retry_total=0).get_token(testing.ARM_SCOPE)
    assert testing.credential(azure_lab).get_token(testing.ARM_SCOPE).token


@pytest.mark.parametrize("audience, expires_in, code", [
    ("https://api.loganalytics.io", 3600, "InvalidAuthenticationTokenAudience"),
    ("https://management.azure.com", -10, "ExpiredAuthenticationToken"),
])
def test_bad_bearer_tokens(raw, names, lab_control, audience, expires_in, code):
    token = lab_control.mint_token(audience, expires_in)
    response = raw.call("GET", names["aa_path"], api_version="2024-10-23", scope=None,
                        headers={"Authorization": "Bearer " + token})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


def test_missing_or_garbage_token(raw, names):
    assert raw.call("GET", names["aa_path"], api_version="2024-10-23", scope=None).json()["error"]["code"] == \
        "AuthenticationFailed"
    garbage = raw.call("GET", names["aa_path"], api_version="2024-10-23", scope=None,
                       headers={"Authorization": "Bearer a.b.c"})
    assert (garbage.status_code, garbage.json()["error"]["code"]) == (401, "InvalidAuthenticationToken")


def test_sdk_raises_client_authentication_error_on_401(azure_lab, names, lab_control):
    class Expired:  # a credential handing out an expired token
        def get_token(self, *scopes, **kwargs):  # pylint: disable=unused-argument
            from azure.core.credentials import AccessToken  # pylint: disable=import-outside-toplevel
            return AccessToken(lab_control.mint_token(expires_in=-10), int(time.time()) + 3600)

    client = AutomationClient(Expired(), names["sub"], **testing.client_kwargs(azure_lab))
    with pytest.raises(ClientAuthenticationError) as caught:
        client.automation_account.get(names["rg"], names["aa"])
    assert caught.value.error.code == "ExpiredAuthenticationToken"


def test_body_that_is_not_an_object_is_refused(raw, names):
    answer = raw.call("PUT", names["aa_path"] + "/hybridRunbookWorkerGroups/listy", ["a"], "2024-10-23")
    assert (answer.status_code, answer.json()) == (400, {"code": "InvalidRequestContent",
                                                         "message": "The request content must be a JSON object."})
    assert raw.call("GET", names["aa_path"] + "/hybridRunbookWorkerGroups/listy", api_version="2024-10-23").status_code \
        == 404


def test_missing_api_version_and_case_insensitive_paths(raw, names):
    missing = raw.call("GET", names["aa_path"])
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "MissingApiVersionParameter")
    shouting = names["aa_path"].upper().replace(names["sub"].upper(), names["sub"])
    shouting = shouting.replace(names["rg"].upper(), names["rg"]).replace(names["aa"].upper(), names["aa"])
    assert raw.call("GET", shouting, api_version="2024-10-23").json()["name"] == names["aa"]
    assert raw.call("GET", names["aa_path"].lower(), api_version="2024-10-23").status_code == 200


def test_several_subscriptions(azure_lab, credential, raw, lab_control):
    other = lab_control.add_subscription()
    response = raw.call("PUT", "/subscriptions/%s/resourcegroups/rg-two" % other, {"location": "northeurope"}, "2021-04-01")
    assert response.status_code == 201
    client = AutomationClient(credential, other, **testing.client_kwargs(azure_lab))
    client.automation_account.create_or_update("rg-two", "second-account", {"location": "northeurope"})
    assert client.automation_account.get("rg-two", "second-account").location == "northeurope"
    unknown = AutomationClient(credential, str(uuid.uuid4()), **testing.client_kwargs(azure_lab))
    with pytest.raises(ResourceNotFoundError) as caught:
        unknown.automation_account.get("rg-two", "second-account")
    assert caught.value.error.code == "SubscriptionNotFound"


def test_solution_keeps_intelligence_pack_in_step(loganalytics, raw, names):
    name = unique("ws")
    workspace = loganalytics.workspaces.begin_create_or_update(names["rg"], name, {"location": "westeurope"}).result()
    path = names["rg_path"] + "/providers/Microsoft.OperationsManagement/solutions/AzureAutomation(%s)" % name
    body = {"location": "westeurope", "plan": {"name": "AzureAutomation(%s)" % name, "publisher": "Microsoft",
                                               "product": "OMSGallery/AzureAutomation", "promotionCode": ""},
            "properties": {"workspaceResourceId": workspace.id}}
    assert raw.call("PUT", path, body, "2015-11-01-preview").status_code == 201
    assert {p.name: p.enabled for p in loganalytics.intelligence_packs.list(names["rg"], name)}["AzureAutomation"]
    wrong = dict(body, plan=dict(body["plan"], product="OMSGallery/Updates"))
    refused = raw.call("PUT", path, wrong, "2015-11-01-preview")
    assert refused.status_code == 400 and "OMSGallery/AzureAutomation" in refused.json()["error"]["message"]
    assert raw.call("DELETE", path, api_version="2015-11-01-preview").status_code == 200
    assert not {p.name: p.enabled for p in loganalytics.intelligence_packs.list(names["rg"], name)}["AzureAutomation"]
    assert raw.call("GET", path, api_version="2015-11-01-preview").status_code == 404


def test_loganalytics_client_unknown_workspace_raises_wrapped_error(azure_lab, credential, names):
    client = LogAnalyticsManagementClient(credential, names["sub"], **testing.client_kwargs(azure_lab))
    with pytest.raises(ResourceNotFoundError) as caught:
        client.shared_keys.get_shared_keys(names["rg"], "no-such-workspace")
    assert caught.value.error.code == "ResourceNotFound"
    assert "no-such-workspace" in caught.value.error.message


def test_list_workspaces_and_accounts(loganalytics, automation, names, lab_control):
    name = unique("ws")
    loganalytics.workspaces.begin_create_or_update(names["rg"], name, {"location": "westeurope"}).result()
    assert name in [w.name for w in loganalytics.workspaces.list_by_resource_group(names["rg"])]
    assert name in [w.name for w in loganalytics.workspaces.list()]
    lab_control.settings(page_size=1)
    assert names["aa"] in [a.name for a in automation.automation_account.list_by_resource_group(names["rg"])]
    assert names["aa"] in [a.name for a in automation.automation_account.list()]
    with pytest.raises(ResourceNotFoundError) as caught:
        list(loganalytics.workspaces.list_by_resource_group("no-such-rg"))
    assert caught.value.error.code == "ResourceGroupNotFound"
