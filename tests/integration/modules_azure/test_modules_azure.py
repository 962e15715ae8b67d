"""The Azure modules against the lab: create, converge (no ARM write), change, check mode, diff, delete, errors."""
import datetime
import json

import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import client as lab_client
from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import signing
from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import testing as lab_testing


def test_log_analytics_workspace(run_playbook):
    run_playbook("log_analytics_workspace.yml")


@pytest.fixture(scope="module")
def second_account(azure_lab):
    """Another Automation account in the lab's resource group, to move a workspace link to."""
    from azure.mgmt.automation import AutomationClient  # pylint: disable=import-outside-toplevel
    client = AutomationClient(lab_testing.credential(azure_lab.lab), azure_lab.subscription_id, **lab_testing.client_kwargs(azure_lab.lab))
    name = "aa-it-second"
    client.automation_account.create_or_update(azure_lab.resource_group, name,
                                               {"location": azure_lab.location, "properties": {"sku": {"name": "Basic"}}})
    return name


def test_log_analytics_solution_and_linked_service(run_playbook, second_account):
    run_playbook("log_analytics_solution_and_link.yml", second_account=second_account)


def test_registration_info_groups_and_workers(run_playbook):
    run_playbook("automation_workers.yml")


def _send_heartbeat(lab, customer_id, shared_key, records):
    """Post Heartbeat records the way an agent does (HTTP Data Collector API, SharedKey signed)."""
    body = json.dumps(records).encode("utf-8")
    url = "%s/ods/%s/api/logs?api-version=2016-04-01" % (lab.info["url"], customer_id)
    status, _headers, _body = lab_client.http(lab.dir, "POST", url, body, signing.ingestion_headers(customer_id, shared_key, body))
    assert status == 200


@pytest.fixture(scope="module")
def heartbeat_workspace(azure_lab):
    """A workspace with a fresh heartbeat from WEB01 (ingested) and a two-hour-old one from OLD01."""
    from azure.mgmt.loganalytics import LogAnalyticsManagementClient  # pylint: disable=import-outside-toplevel
    client = LogAnalyticsManagementClient(lab_testing.credential(azure_lab.lab), azure_lab.subscription_id,
                                          **lab_testing.client_kwargs(azure_lab.lab))
    name = "law-it-heartbeat"
    workspace = client.workspaces.begin_create_or_update(azure_lab.resource_group, name, {"location": azure_lab.location}).result()
    customer_id = workspace.properties.customer_id
    keys = client.shared_keys.get_shared_keys(azure_lab.resource_group, name)
    _send_heartbeat(azure_lab, customer_id, keys.primary_shared_key,
                    [{"Computer": "WEB01", "ComputerIP": "10.0.0.11", "Category": "Direct Agent", "OSType": "Windows", "Version": "10.20"}])
    two_hours_ago = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    azure_lab.control.add_heartbeats(customer_id, [{"Computer": "OLD01", "Category": "Direct Agent", "OSType": "Windows",
                                                    "TimeGenerated": two_hours_ago}])
    return name, customer_id


def test_log_analytics_heartbeat_info(run_playbook, azure_lab, heartbeat_workspace):
    name, customer_id = heartbeat_workspace
    queries_before = azure_lab.control.stats()["query"]["requests"]
    run_playbook("log_analytics_heartbeat_info.yml", workspace=name, customer_id=customer_id)
    # Two successful queries plus the one for the unknown workspace; bad arguments never reached the service.
    assert azure_lab.control.stats()["query"]["requests"] - queries_before == 3


def test_the_secret_scan_notices_a_leak(run_playbook):
    """Without no_log the module's result (with the keys) is printed at -vvv, and the scan must say so."""
    _output, leaks = run_playbook("leak_probe.yml", expect_clean=False)
    assert len(leaks) >= 2  # primary and secondary key (by value), plus their key shape


def test_throttling_errors_and_failed_operations(run_playbook, azure_lab):
    before = azure_lab.control.stats()
    output = run_playbook("resilience.yml")
    after = azure_lab.control.stats()
    # One 429 retried, one 500 not retried (max_retries 0), one LRO forced to fail.
    assert after["faults_injected"] - before["faults_injected"] >= 2
    assert after["arm"]["by_status"].get("429", 0) - before["arm"]["by_status"].get("429", 0) == 1
    assert "law-it-failing" in output


def test_credentials_file_authentication(run_playbook, azure_lab, tmp_path):
    """azure.azcollection's ~/.azure/credentials file, with the profile from AZURE_PROFILE; endpoints stay in the env."""
    home = tmp_path / "home"
    (home / ".azure").mkdir(parents=True)
    env = azure_lab.env
    (home / ".azure" / "credentials").write_text(
        "[default]\nsubscription_id=00000000-0000-0000-0000-000000000000\nclient_id=nobody\nsecret=nothing\ntenant=nowhere\n\n"
        "[lab]\nsubscription_id=%s\nclient_id=%s\nsecret=%s\ntenant=%s\n"
        % (env["AZURE_SUBSCRIPTION_ID"], env["AZURE_CLIENT_ID"], env["AZURE_SECRET"], env["AZURE_TENANT"]), encoding="utf-8")
    run_playbook("auth_sources.yml", extra_env={"HOME": str(home), "AZURE_PROFILE": "lab"},
                 drop_env=("AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT"))
