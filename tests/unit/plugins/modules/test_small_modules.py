"""Result shaping of the solution, link, registration and heartbeat modules."""
import datetime

from ansible_collections.azure_automation.hybrid_worker.plugins.modules import automation_registration_info as registration
from ansible_collections.azure_automation.hybrid_worker.plugins.modules import log_analytics_heartbeat_info as heartbeat
from ansible_collections.azure_automation.hybrid_worker.plugins.modules import log_analytics_linked_service as link
from ansible_collections.azure_automation.hybrid_worker.plugins.modules import log_analytics_solution as solution

NOW = datetime.datetime(2026, 1, 10, 12, 0, 0, tzinfo=datetime.timezone.utc)


def test_find_pack_is_case_insensitive():
    packs = [{"name": "AzureAutomation", "enabled": False, "displayName": "Automation"}, {"name": "Updates", "enabled": True}]
    assert solution.find_pack(packs, "azureautomation") == {"name": "AzureAutomation", "enabled": False, "display_name": "Automation"}
    assert solution.find_pack(packs, "Security") is None


def test_solution_name_validation():
    base = dict(workspace_name="law-test", resource_group="rg", name="AzureAutomation")
    assert solution.validate_params(base) is None
    assert "is not an intelligence pack name" in solution.validate_params(dict(base, name="a/b"))


def test_link_views():
    rest = {"id": "/x/linkedservices/automation", "name": "law/Automation",
            "properties": {"resourceId": "/aa", "provisioningState": "Succeeded"}}
    assert link.link_view(rest) == {"id": "/x/linkedservices/automation", "name": "law/Automation", "resource_id": "/aa",
                                    "provisioning_state": "Succeeded"}
    assert not link.is_lingering(rest)
    assert link.is_lingering({"properties": {"provisioningState": "Deleting"}})
    assert link.validate_params(dict(workspace_name="law-test", resource_group="rg", state="present", automation_account=None,
                                     automation_account_resource_group=None)) == "automation_account is required with state=present"


def test_registration_result():
    account = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Automation/automationAccounts/aa",
               "properties": {"automationHybridServiceUrl": "https://jrds/automationAccounts/g",
                              "RegistrationUrl": "https://agentsvc/accounts/g"}}
    result = registration.registration_result(account, {"endpoint": "https://agentsvc/accounts/1234", "keys": {"primary": "p", "secondary": "s"}})
    assert result == {"account_resource_id": account["id"], "account_id": "1234", "registration_url": "https://agentsvc/accounts/1234",
                      "automation_hybrid_service_url": "https://jrds/automationAccounts/g", "primary_key": "p", "secondary_key": "s"}


def test_heartbeat_query_stays_in_the_supported_kql():
    assert heartbeat.heartbeat_query(["WEB01", "web02"], 30) == (
        'Heartbeat | where Category == "Direct Agent" | where TimeGenerated > ago(30m)'
        ' | where Computer in~ ("WEB01", "web02") | summarize arg_max(TimeGenerated, *) by Computer')
    assert heartbeat.heartbeat_query(None, 5) == (
        'Heartbeat | where Category == "Direct Agent" | where TimeGenerated > ago(5m) | summarize arg_max(TimeGenerated, *) by Computer')


def test_heartbeat_views_and_missing():
    rows = [{"Computer": "web02", "TimeGenerated": "2026-01-10T11:58:00Z", "ComputerIP": "10.0.0.2", "OSType": "Windows", "Version": ""},
            {"Computer": "WEB01", "TimeGenerated": "2026-01-10T11:59:00.5Z"}]
    views, missing = heartbeat.heartbeat_views(rows, ["web01", "WEB02", "WEB03"], NOW)
    assert views == [{"computer": "WEB01", "last_heartbeat": "2026-01-10T11:59:00.5Z", "minutes_ago": 1.0},
                     {"computer": "web02", "last_heartbeat": "2026-01-10T11:58:00Z", "minutes_ago": 2.0, "computer_ip": "10.0.0.2", "os_type": "Windows"}]
    assert missing == ["WEB03"]


def test_heartbeat_validation():
    base = dict(workspace_id=None, workspace_name="law-test", resource_group="rg", computers=["WEB01"], max_age_minutes=30)
    assert heartbeat.validate_params(base) is None
    assert heartbeat.validate_params(dict(base, workspace_id="nope", workspace_name=None)) == (
        "workspace_id 'nope' is not a GUID (the workspace ID, not its resource id)")
    assert "may only contain" in heartbeat.validate_params(dict(base, computers=['a" or 1']))
    assert heartbeat.validate_params(dict(base, max_age_minutes=0)) == "max_age_minutes must be between 1 and 43200, got 0"
