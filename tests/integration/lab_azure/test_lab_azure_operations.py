"""Running the lab: labctl commands, accounting, secrets kept out of every output, restart keeps resources."""
import json
import os
import signal
import time
import uuid

import requests
from azure.mgmt.automation import AutomationClient
from azure.mgmt.loganalytics import LogAnalyticsManagementClient

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import signing, testing


def test_lab_json_layout(azure_lab, azure_lab_dir):
    lab = azure_lab["azure"]
    assert oct(os.stat(os.path.join(azure_lab_dir, "lab.json")).st_mode & 0o777) == "0o600"
    assert set(lab["env"]) == {"AZURE_TENANT", "AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_SUBSCRIPTION_ID",
                               "AZURE_AUTHORITY_HOST", "AZURE_RESOURCE_MANAGER_URL", "AZURE_LOG_ANALYTICS_URL",
                               "AZURE_CA_BUNDLE"}
    assert lab["url"].startswith("https://127.0.0.1:")
    assert lab["env"]["AZURE_CA_BUNDLE"] == lab["ca_bundle"] == os.path.join(azure_lab_dir, "certs", "ca.pem")
    assert (lab["resource_group"], lab["automation_account"], lab["location"]) == (
        "rg-hybrid-worker-lab", "aa-hybrid-worker-lab", "westeurope")
    assert lab["env"]["AZURE_SUBSCRIPTION_ID"] == lab["subscription_id"]


def test_labctl_fault_stats_and_dump(azure_lab, azure_lab_dir, automation, names, lab_control):
    out = testing.labctl(azure_lab_dir, "fault", "azure", "throttle", "operation=AutomationAccount_Get", "count=1",
                         "retry_after=0").stdout
    assert json.loads(out)["kind"] == "throttle"
    bad = testing.labctl(azure_lab_dir, "fault", "azure", "explode", check=False)
    assert bad.returncode != 0 and "unknown Azure fault" in bad.stderr
    testing.labctl(azure_lab_dir, "stats", "--reset")
    automation.automation_account.get(names["rg"], names["aa"])
    stats = json.loads(testing.labctl(azure_lab_dir, "stats").stdout)["azure"]
    assert stats["arm"]["by_operation"] == {"AutomationAccount_Get": 2}
    assert (stats["arm"]["reads"], stats["arm"]["writes"], stats["faults_injected"]) == (2, 0, 1)
    testing.labctl(azure_lab_dir, "fault", "azure", "clear")
    assert lab_control.stats()["arm"]["reads"] == 2
    assert lab_control.reset_stats()["arm"]["reads"] == 0

    dump = json.loads(testing.labctl(azure_lab_dir, "azure").stdout)
    account = [r for r in dump["resources"] if r["kind"] == "automationAccount" and r["name"] == names["aa"]][0]
    assert account["keys"] == {"primary": "***masked***", "secondary": "***masked***"}
    assert dump["client_secret"] == "***masked***"
    status = json.loads(testing.labctl(azure_lab_dir, "status").stdout)["azure"]
    assert status["running"] and status["url"] == azure_lab["azure"]["url"]


def test_writes_and_reads_are_counted_apart(automation, names, lab_control):
    lab_control.reset_stats()
    automation.keys.list_by_automation_account(names["rg"], names["aa"])  # a POST that changes nothing: a read
    group = "count-%s" % uuid.uuid4().hex[:6]
    automation.hybrid_runbook_worker_group.create(names["rg"], names["aa"], group, {})
    automation.hybrid_runbook_worker_group.delete(names["rg"], names["aa"], group)
    arm = lab_control.stats()["arm"]
    assert (arm["reads"], arm["writes"]) == (1, 2)


def test_no_secret_in_request_log_or_outputs(azure_lab, azure_lab_dir, automation, loganalytics, credential, names,
                                             lab_control):
    lab = azure_lab["azure"]
    tokens = [credential.get_token(testing.ARM_SCOPE).token, credential.get_token(testing.QUERY_SCOPE).token]
    # Traffic that carries every kind of secret: keys in answers, signed agent calls, ingestion, a query.
    registration = automation.agent_registration_information.get(names["rg"], names["aa"])
    automation.keys.list_by_automation_account(names["rg"], names["aa"])
    body = json.dumps({"RunbookWorkerGroup": "secret-check", "MachineName": "WIN-S"}).encode()
    headers = signing.shared_headers(registration.keys_property.primary, body)
    machine = str(uuid.uuid4())
    assert requests.put(registration.endpoint + "/HybridV2(MachineId='%s')" % machine, data=body, headers=headers,
                        verify=lab["ca_bundle"], timeout=30).status_code == 200
    workspace = loganalytics.workspaces.begin_create_or_update(names["rg"], "ws-secrets", {"location": "westeurope"}).result()
    key = loganalytics.shared_keys.get_shared_keys(names["rg"], "ws-secrets").primary_shared_key
    records = json.dumps([{"Computer": "WIN-S", "Category": "Direct Agent"}]).encode()
    ingest = signing.ingestion_headers(workspace.properties.customer_id, key, records)
    assert requests.post("%s/ods/%s/api/logs?api-version=2016-04-01" % (lab["url"], workspace.properties.customer_id),
                         data=records, headers=ingest, verify=lab["ca_bundle"], timeout=30).status_code == 200
    # A secret in a query string must not reach the log either.
    requests.get(lab["url"] + "/subscriptions/%s?api-version=2021-04-01&sig=%s" % (names["sub"], key),
                 headers={"Authorization": "Bearer " + tokens[0]}, verify=lab["ca_bundle"], timeout=30)

    secrets = set(lab_control.secrets()) | set(tokens) | {headers["Authorization"].split()[1],
                                                          ingest["Authorization"].split(":")[1]}
    assert lab["env"]["AZURE_SECRET"] in secrets and key in secrets and registration.keys_property.primary in secrets
    outputs = {
        "request log": open(os.path.join(azure_lab_dir, "azure", "requests.jsonl"), encoding="utf-8").read(),
        "server log": open(os.path.join(azure_lab_dir, "azure", "server.log"), encoding="utf-8").read(),
        "labctl up": testing.labctl(azure_lab_dir, "up").stdout,
        "labctl status": testing.labctl(azure_lab_dir, "status").stdout,
        "labctl stats": testing.labctl(azure_lab_dir, "stats").stdout,
        "labctl azure": testing.labctl(azure_lab_dir, "azure").stdout,
    }
    for name, text in outputs.items():
        leaked = [s for s in secrets if s in text]
        assert not leaked, "%d secret value(s) in the %s" % (len(leaked), name)
    entries = lab_control.request_log()
    token_calls = [e for e in entries if e["operation"] == "Token"]
    assert token_calls and all(e["path"].endswith("/oauth2/v2.0/token") for e in token_calls)
    assert {"method", "path", "status", "duration_ms", "surface", "operation", "time"} <= set(entries[-1])
    assert any(e["surface"] == "agentsvc" and e["status"] == 200 for e in entries)
    assert any(e["surface"] == "ods" and e["status"] == 200 for e in entries)


def test_kill_and_restart_keeps_resources(tmp_path):
    lab_dir = str(tmp_path)
    with testing.running_lab(lab_dir, "--azure-automation-account", "aa-restart", "--azure-location", "northeurope") as lab:
        azure = lab["azure"]
        credential = testing.credential(lab)
        client = AutomationClient(credential, azure["subscription_id"], **testing.client_kwargs(lab))
        client.hybrid_runbook_worker_group.create(azure["resource_group"], "aa-restart", "kept", {})
        keys = client.agent_registration_information.get(azure["resource_group"], "aa-restart").keys_property
        old_token = credential.get_token(testing.ARM_SCOPE).token
        workspaces = LogAnalyticsManagementClient(credential, azure["subscription_id"], **testing.client_kwargs(lab))
        customer_id = workspaces.workspaces.begin_create_or_update(
            azure["resource_group"], "ws-restart", {"location": "northeurope"}).result().properties.customer_id
        testing.LabControl(lab_dir).add_heartbeats(customer_id, [{"Computer": "WIN-KEEP", "Category": "Direct Agent"}])
        os.kill(azure["pid"], signal.SIGKILL)
        deadline = time.time() + 5
        while time.time() < deadline and not requests_fail(azure):
            time.sleep(0.05)

        testing.labctl(lab_dir, "up", "--azure-automation-account", "aa-restart")
        again = testing.read_lab_json(lab_dir)["azure"]
        assert again["pid"] != azure["pid"]
        assert again["env"]["AZURE_SECRET"] == azure["env"]["AZURE_SECRET"]
        assert again["location"] == "northeurope"
        lab = testing.read_lab_json(lab_dir)
        client = AutomationClient(testing.credential(lab), again["subscription_id"], **testing.client_kwargs(lab))
        assert client.hybrid_runbook_worker_group.get(again["resource_group"], "aa-restart", "kept").name == "kept"
        assert client.agent_registration_information.get(again["resource_group"], "aa-restart").keys_property.primary \
            == keys.primary
        # A token issued before the restart is still good, as it would be against the real service.
        response = requests.get(again["url"] + "/subscriptions/%s/resourceGroups/%s?api-version=2021-04-01" % (
            again["subscription_id"], again["resource_group"]), headers={"Authorization": "Bearer " + old_token},
            verify=again["ca_bundle"], timeout=30)
        assert response.status_code == 200
        query = requests.post(again["url"] + "/v1/workspaces/%s/query" % customer_id, json={"query": "Heartbeat | count"},
                              headers={"Authorization": "Bearer " + testing.credential(lab).get_token(
                                  testing.QUERY_SCOPE).token}, verify=again["ca_bundle"], timeout=30)
        assert query.json()["tables"][0]["rows"] == [[1]]


def requests_fail(azure):
    try:
        requests.get(azure["url"] + "/_lab/health", verify=azure["ca_bundle"], timeout=1)
    except requests.RequestException:
        return True
    return False


def test_latency_fault_and_settings_from_labctl(azure_lab_dir, automation, names, lab_control):
    lab_control.fault("latency", ms=300, operation="AutomationAccount_Get", count=1)
    started = time.monotonic()
    automation.automation_account.get(names["rg"], names["aa"])
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    automation.automation_account.get(names["rg"], names["aa"])
    assert time.monotonic() - started < 0.3

    dump = json.loads(testing.labctl(azure_lab_dir, "azure", "--set", "page_size=3", "--add-subscription").stdout)
    assert dump["settings"]["page_size"] == 3
    assert len(dump["subscriptions"]) >= 2
