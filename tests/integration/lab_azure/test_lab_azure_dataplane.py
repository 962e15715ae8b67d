"""Agent registration service, heartbeat ingestion, agent configuration and the query API of the lab."""
import concurrent.futures
import datetime
import email.utils
import json
import uuid

import pytest
import requests

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import signing

QUERY_SCOPE = "https://api.loganalytics.io/.default"


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


class Agent:
    """What an agent on a Windows host sends, signed with the helpers the Windows lab reuses."""

    def __init__(self, lab, registration_url, key, machine_id=None):
        self.lab, self.url, self.key = lab["azure"], registration_url, key
        self.machine_id = machine_id or str(uuid.uuid4())

    def _send(self, method, path, body=b"", date=None, key=None):
        headers = signing.shared_headers(key or self.key, body, date)
        return requests.request(method, self.url + path, data=body, headers=headers, verify=self.lab["ca_bundle"],
                                timeout=30)

    def register(self, group, machine="WIN-001", ip="10.1.2.3", **kwargs):
        body = json.dumps({"RunbookWorkerGroup": group, "MachineName": machine, "IpAddress": ip,
                           "Thumbprint": "AB" * 20, "Issuer": "CN=" + machine, "Subject": "CN=" + machine,
                           "OperatingSystem": "Windows Server 2022", "SMBIOSAssetTag": "", "VirtualMachineId": ""})
        return self._send("PUT", "/HybridV2(MachineId='%s')" % self.machine_id, body.encode(), **kwargs)

    def ping(self, **kwargs):
        return self._send("POST", "/HybridV2(MachineId='%s')/ping" % self.machine_id, **kwargs)

    def deregister(self, **kwargs):
        return self._send("DELETE", "/Hybrid(MachineId='%s')" % self.machine_id, **kwargs)


@pytest.fixture
def registration(automation, names):
    info = automation.agent_registration_information.get(names["rg"], names["aa"])
    return info.endpoint, info.keys_property.primary


@pytest.fixture
def workspace(loganalytics, names):
    name = unique("ws")
    created = loganalytics.workspaces.begin_create_or_update(names["rg"], name, {"location": "westeurope"}).result()
    keys = loganalytics.shared_keys.get_shared_keys(names["rg"], name)
    yield {"name": name, "customer_id": created.properties.customer_id, "key": keys.primary_shared_key,
           "secondary": keys.secondary_shared_key}
    loganalytics.workspaces.begin_delete(names["rg"], name).result()


def send_heartbeats(lab, workspace, records, key=None, date=None):
    body = json.dumps(records).encode()
    headers = signing.ingestion_headers(workspace["customer_id"], key or workspace["key"], body, date=date)
    return requests.post("%s/ods/%s/api/logs?api-version=2016-04-01" % (lab["azure"]["url"], workspace["customer_id"]),
                         data=body, headers=headers, verify=lab["azure"]["ca_bundle"], timeout=30)


def query(raw, workspace, text, timespan=None):
    body = {"query": text}
    if timespan:
        body["timespan"] = timespan
    return raw.call("POST", "/v1/workspaces/%s/query" % workspace["customer_id"], body, scope=QUERY_SCOPE)


def rows(answer):
    assert answer.status_code == 200, answer.text
    table = answer.json()["tables"][0]
    names = [c["name"] for c in table["columns"]]
    return [dict(zip(names, row)) for row in table["rows"]]


# ---- agent registration service ------------------------------------------------------------------------------------

def test_register_creates_v1_worker_and_group(azure_lab, automation, names, registration):
    url, key = registration
    group = unique("v1grp")
    agent = Agent(azure_lab, url, key)
    answer = agent.register(group, machine="WIN-REG-1", ip="10.9.8.7")
    assert answer.status_code == 200, answer.text
    assert answer.json()["AccountId"] == url.rsplit("/", 1)[1]
    assert answer.json()["jobRuntimeDataServiceUri"].startswith("https://")
    created = automation.hybrid_runbook_worker_group.get(names["rg"], names["aa"], group)
    assert created.properties.group_type == "User"
    worker = automation.hybrid_runbook_workers.get(names["rg"], names["aa"], group, agent.machine_id)
    assert (worker.properties.worker_type, worker.properties.worker_name, worker.properties.ip) == \
        ("HybridV1", "WIN-REG-1", "10.9.8.7")
    seen = worker.properties.last_seen_date_time
    assert agent.ping().status_code == 200
    assert automation.hybrid_runbook_workers.get(names["rg"], names["aa"], group,
                                                 agent.machine_id).properties.last_seen_date_time > seen
    # Re-registering in the same group is fine; another group is refused.
    assert agent.register(group, machine="WIN-REG-1").status_code == 200
    conflict = agent.register(unique("other"))
    assert (conflict.status_code, conflict.json()) == (409, {"Message": "Machine is already registered"})
    assert agent.deregister().status_code == 200
    assert list(automation.hybrid_runbook_workers.list_by_hybrid_runbook_worker_group(names["rg"], names["aa"], group)) == []
    assert agent.deregister().status_code == 404
    assert agent.ping().status_code == 404


def test_register_with_secondary_key_and_refusals(azure_lab, automation, names, registration):
    url = registration[0]
    secondary = automation.agent_registration_information.get(names["rg"], names["aa"]).keys_property.secondary
    agent = Agent(azure_lab, url, secondary)
    assert agent.register(unique("grp")).status_code == 200
    assert agent.ping(key="d3Jvbmcga2V5").status_code == 401
    old = email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20),
                                      usegmt=True)
    assert agent.ping(date=old).status_code == 403
    automation.agent_registration_information.regenerate_key(names["rg"], names["aa"], {"keyName": "secondary"})
    assert agent.ping().status_code == 401  # the regenerated key no longer signs
    unknown = Agent(azure_lab, url.rsplit("/", 1)[0] + "/" + str(uuid.uuid4()), secondary)
    assert unknown.register("g").status_code == 404


def test_unmodelled_agentsvc_path_says_so(azure_lab, registration):
    url, key = registration
    body = b"{}"
    response = requests.get(url + "/somethingElse", headers=signing.shared_headers(key, body),
                            verify=azure_lab["azure"]["ca_bundle"], timeout=30)
    assert response.status_code == 404
    assert "not modelled by the lab" in response.json()["Message"]


# ---- ingestion, agent configuration, query -------------------------------------------------------------------------

def test_heartbeats_are_ingested_and_queried(azure_lab, raw, workspace):
    records = [{"Computer": "WIN-A", "ComputerIP": "10.0.0.1", "Category": "Direct Agent", "OSType": "Windows",
                "Version": "10.20.18067.0", "TimeGenerated": "2001-01-01T00:00:00Z"},
               {"Computer": "WIN-B", "ComputerIP": "10.0.0.2", "Category": "Direct Agent", "OSType": "Windows",
                "Version": "10.20.18067.0"}]
    assert send_heartbeats(azure_lab, workspace, records).status_code == 200
    assert send_heartbeats(azure_lab, workspace, records[:1], key=workspace["secondary"]).status_code == 200
    recent = query(raw, workspace, 'Heartbeat | where Category == "Direct Agent" | where TimeGenerated > ago(30m)')
    assert recent.status_code == 200, recent.text
    found = rows(recent)
    assert sorted(r["Computer"] for r in found) == ["WIN-A", "WIN-A", "WIN-B"]
    assert all(not r["TimeGenerated"].startswith("2001") for r in found), "TimeGenerated is set by the service"
    latest = rows(query(raw, workspace, "Heartbeat | summarize arg_max(TimeGenerated, *) by Computer"))
    assert sorted(r["Computer"] for r in latest) == ["WIN-A", "WIN-B"]
    assert query(raw, workspace, "Heartbeat | summarize arg_max(TimeGenerated, *) by Computer").json()["tables"][0][
        "columns"][0] == {"name": "Computer", "type": "string"}
    chosen = rows(query(raw, workspace, 'Heartbeat | where Computer in ("WIN-B", "WIN-C") | project Computer, ComputerIP'))
    assert chosen == [{"Computer": "WIN-B", "ComputerIP": "10.0.0.2"}]
    last = rows(query(raw, workspace, "Heartbeat | summarize LastSeen = max(TimeGenerated) by Computer | count"))
    assert last == [{"Count": 2}]
    assert rows(query(raw, workspace, "Heartbeat | count", timespan="PT5M")) == [{"Count": 3}]


def test_stale_heartbeats_from_the_lab_api(raw, workspace, lab_control):
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lab_control.add_heartbeats(workspace["customer_id"], [{"Computer": "WIN-OLD", "Category": "Direct Agent",
                                                           "TimeGenerated": old}])
    assert rows(query(raw, workspace, 'Heartbeat | where TimeGenerated > ago(30m) | count')) == [{"Count": 0}]
    assert rows(query(raw, workspace, 'Heartbeat | where TimeGenerated > ago(3h) | distinct Computer')) == [
        {"Computer": "WIN-OLD"}]


@pytest.mark.parametrize("text", [
    "Perf | take 1",
    "Heartbeat | where Computer startswith 'WIN'",
    "Heartbeat | extend X = 1",
    'Heartbeat | where Category == "Direct Agent" or Computer == "x"',
    "Heartbeat | summarize dcount(Computer)",
    "Heartbeat | where computer == 'x'",
])
def test_unsupported_queries_are_refused(raw, workspace, text):
    answer = query(raw, workspace, text)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadArgumentError"
    assert "not supported by the lab" in answer.json()["error"]["message"]


def test_query_needs_a_query_api_token(raw, workspace):
    answer = raw.call("POST", "/v1/workspaces/%s/query" % workspace["customer_id"], {"query": "Heartbeat"})
    assert answer.status_code == 401
    unknown = raw.call("POST", "/v1/workspaces/%s/query" % uuid.uuid4(), {"query": "Heartbeat"}, scope=QUERY_SCOPE)
    assert unknown.status_code == 404


def test_ingestion_refusals(azure_lab, workspace):
    wrong = send_heartbeats(azure_lab, workspace, [{"Computer": "X"}], key="d3Jvbmcga2V5")
    assert (wrong.status_code, wrong.json()["Error"]) == (403, "InvalidAuthorization")
    old = email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1),
                                      usegmt=True)
    assert send_heartbeats(azure_lab, workspace, [{"Computer": "X"}], date=old).status_code == 403
    unknown = dict(workspace, customer_id=str(uuid.uuid4()))
    missing = send_heartbeats(azure_lab, unknown, [{"Computer": "X"}])
    assert (missing.status_code, missing.json()["Error"]) == (400, "InvalidCustomerId")
    body = b"[]"
    headers = signing.ingestion_headers(workspace["customer_id"], workspace["key"], body, log_type="MyApp")
    custom = requests.post("%s/ods/%s/api/logs?api-version=2016-04-01" % (azure_lab["azure"]["url"],
                                                                          workspace["customer_id"]),
                           data=body, headers=headers, verify=azure_lab["azure"]["ca_bundle"], timeout=30)
    assert custom.status_code == 501 and "not modelled by the lab" in custom.json()["Message"]


def test_agent_configuration_follows_intelligence_packs(azure_lab, loganalytics, names, workspace):
    def configuration(key):
        headers = signing.agent_configuration_headers(workspace["customer_id"], key)
        return requests.get("%s/oms/%s/agent/configuration" % (azure_lab["azure"]["url"], workspace["customer_id"]),
                            headers=headers, verify=azure_lab["azure"]["ca_bundle"], timeout=30)

    assert configuration(workspace["key"]).json() == {"solutions": ["LogManagement"]}
    loganalytics.intelligence_packs.enable(names["rg"], workspace["name"], "AzureAutomation")
    assert configuration(workspace["secondary"]).json() == {"solutions": ["AzureAutomation", "LogManagement"]}
    assert configuration("d3Jvbmcga2V5").status_code == 403


def test_concurrent_registrations_of_a_fleet(azure_lab, automation, names, registration):
    url, key = registration
    group = unique("fleet")
    agents = [Agent(azure_lab, url, key) for index in range(16)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda pair: pair[1].register(group, machine="WIN-%02d" % pair[0]).status_code,
                                enumerate(agents)))
    assert answers == [200] * 16
    listed = automation.hybrid_runbook_workers.list_by_hybrid_runbook_worker_group(names["rg"], names["aa"], group)
    assert sorted(w.properties.worker_name for w in listed) == ["WIN-%02d" % i for i in range(16)]
    groups = [g.name for g in automation.hybrid_runbook_worker_group.list_by_automation_account(
        names["rg"], names["aa"], filter="name eq '%s'" % group)]
    assert groups == [group]
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        assert list(pool.map(lambda agent: agent.deregister().status_code, agents)) == [200] * 16
