"""The non-ARM surfaces: agent registration service, heartbeat ingestion, agent configuration, and the query API.

* Agent registration service (``/agentsvc/accounts/{accountId}``): the V1 worker's ``Add-HybridRunbookWorker`` /
  ``Remove-HybridRunbookWorker`` calls, as the Linux worker's onboarding script shows them (windows-host.md 2.2):
  ``PUT .../HybridV2(MachineId='{uuid}')`` to register, ``DELETE .../Hybrid(MachineId='{uuid}')`` to deregister,
  ``Shared`` signing with the account key. The heartbeat ``POST .../HybridV2(MachineId='{uuid}')/ping`` is modelled by
  the lab (the real worker protocol is not public).
* Heartbeat ingestion (``/ods/{customerId}/api/logs``): the HTTP Data Collector API shape and its error answers
  (``{"Error": code, "Message": text}``; learn.microsoft.com azure-monitor/logs/data-collector-api "Return codes").
* Agent configuration (``/oms/{customerId}/agent/configuration``): lab-modelled stand-in for the management-pack
  download that tells an agent which solutions its workspace has.
* Query API (``/v1/workspaces/{customerId}/query``): data-plane spec 2022-10-27, ``queryResults`` answers; the KQL
  subset is in ``kql.py``.
"""
import datetime
import json
import re

from . import kql
from . import signing
from . import store as lab_store
from .arm import new_group

MACHINE_SEGMENT = re.compile(r"^(HybridV2|Hybrid)\(MachineId='([0-9a-fA-F-]{36})'\)$")
HEARTBEAT_FIELDS = {name for name, ignored in kql.HEARTBEAT_COLUMNS}


class ServiceAnswer(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _utcnow_text():
    return kql.format_datetime(datetime.datetime.now(datetime.timezone.utc))


# ---- agent registration service ---------------------------------------------------------------------------------

def agentsvc_route(method, segments):
    """``segments`` after ``agentsvc``: ``accounts, {id}, HybridV2(MachineId='..')[, ping]`` → operation name."""
    if len(segments) < 3 or segments[0].lower() != "accounts":
        return None
    match = MACHINE_SEGMENT.match(segments[2])
    if not match:
        return None
    kind, tail = match.group(1), [s.lower() for s in segments[3:]]
    if method == "PUT" and kind == "HybridV2" and not tail:
        return "AgentService_Register"
    if method == "DELETE" and kind == "Hybrid" and not tail:
        return "AgentService_Deregister"
    if method == "POST" and kind == "HybridV2" and tail == ["ping"]:
        return "AgentService_Ping"
    return None


def _agent_error(status, message):
    raise ServiceAnswer(status, {"Message": message})


def agentsvc(lab, operation, segments, headers, body):
    store = lab.store
    account_id = segments[1]
    machine_id = MACHINE_SEGMENT.match(segments[2]).group(2).lower()
    accounts = [a for a in store.find("automationAccount") if a["accountId"].lower() == account_id.lower()]
    if not accounts:
        _agent_error(404, "Account '%s' was not found." % account_id)
    account = accounts[0]
    if not signing.date_within_skew(headers.get("x-ms-date")):
        _agent_error(403, "The x-ms-date header is missing or more than 15 minutes away from the service clock.")
    keys = [account["keys"]["primary"], account["keys"]["secondary"]]
    if not signing.verify_shared(headers.get("Authorization"), keys, body, headers.get("x-ms-date")):
        _agent_error(401, "Authorization failed: the request signature does not match any key of the account.")
    workers = [w for w in store.find("worker", accountId=account["accountId"]) if w["name"].lower() == machine_id]
    existing = workers[0] if workers else None
    now = lab_store.iso()
    if operation == "AgentService_Deregister":
        if not existing:
            _agent_error(404, "Machine is not registered.")
        store.delete(existing["id"])
        return 200, {}
    if operation == "AgentService_Ping":
        if not existing:
            _agent_error(404, "Machine is not registered.")
        existing["lastSeenDateTime"] = now
        return 200, {}
    try:
        request = json.loads(body.decode("utf-8"))
    except ValueError:
        _agent_error(400, "The request body is not valid JSON.")
    if not isinstance(request, dict) or not request.get("RunbookWorkerGroup") or not request.get("MachineName"):
        _agent_error(400, "RunbookWorkerGroup and MachineName are required.")
    group_name = request["RunbookWorkerGroup"]
    groups = {g["name"].lower(): g for g in store.children(account["id"], "workerGroup")}
    if existing and existing["group"].lower() != group_name.lower():
        _agent_error(409, "Machine is already registered")
    group = groups.get(group_name.lower()) or new_group(store, account, group_name)
    record = existing or {"kind": "worker", "id": group["id"] + "/hybridRunbookWorkers/" + machine_id,
                          "name": machine_id, "group": group["name"], "accountId": account["accountId"],
                          "workerType": "HybridV1", "vmResourceId": "", "registeredDateTime": now, "created": now}
    record.update({"workerName": request["MachineName"], "ip": request.get("IpAddress") or "",
                   "lastSeenDateTime": now, "modified": now,
                   "agent": {k: request.get(k) for k in ("Thumbprint", "Issuer", "Subject", "OperatingSystem",
                                                         "SMBIOSAssetTag", "VirtualMachineId")}})
    store.put(record["id"], record)
    return 200, {"jobRuntimeDataServiceUri": "%s/jrds/" % lab.base_url, "AccountId": account["accountId"]}


# ---- Log Analytics ingestion and agent configuration ------------------------------------------------------------

def _ods_error(status, code, message):
    raise ServiceAnswer(status, {"Error": code, "Message": message})


def workspace_by_customer_id(store, customer_id):
    for record in store.find("workspace"):
        if record["customerId"].lower() == customer_id.lower() and record["provisioningState"] == "Succeeded":
            return record
    return None


def ods_ingest(lab, customer_id, query, headers, body):
    store = lab.store
    if "api-version" not in query:
        _ods_error(400, "MissingApiVersion", "The API version wasn't specified.")
    if query["api-version"] != "2016-04-01":
        _ods_error(400, "InvalidApiVersion", "The API version that you specified wasn't recognized by the service.")
    workspace = workspace_by_customer_id(store, customer_id)
    if not workspace:
        _ods_error(400, "InvalidCustomerId", "The workspace ID specified is invalid.")
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if not content_type:
        _ods_error(400, "MissingContentType", "The content type wasn't specified.")
    if content_type != "application/json":
        _ods_error(400, "UnsupportedContentType", "The content type wasn't set to application/json.")
    if not headers.get("Log-Type"):
        _ods_error(400, "MissingLogType", "The required value log type wasn't specified.")
    date = headers.get("x-ms-date") or ""
    if not signing.date_within_skew(date):
        _ods_error(403, "InvalidAuthorization", "The x-ms-date header is missing or too far from the service clock.")
    to_sign = signing.shared_key_string_to_sign("POST", len(body), "application/json", date, "/api/logs")
    keys = [workspace["keys"]["primary"], workspace["keys"]["secondary"]]
    if not signing.verify_shared_key(headers.get("Authorization"), workspace["customerId"], keys, to_sign):
        _ods_error(403, "InvalidAuthorization", "The service failed to authenticate the request.")
    if headers.get("Log-Type") != "Heartbeat":
        _ods_error(501, "NotModelled", "Log-Type '%s' is not modelled by the lab (only Heartbeat)." % headers.get("Log-Type"))
    try:
        records = json.loads(body.decode("utf-8"))
    except ValueError:
        _ods_error(400, "InvalidDataFormat", "An invalid JSON was specified.")
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        _ods_error(400, "InvalidDataFormat", "The body must be a JSON object or an array of objects.")
    add_heartbeats(store, workspace, records)
    return 200, len(records)


def add_heartbeats(store, workspace, records, time_generated=None):
    """Store heartbeat rows; TimeGenerated is the service's clock unless the lab's own API passes one."""
    rows = []
    for record in records:
        row = {k: v for k, v in record.items() if k in HEARTBEAT_FIELDS}
        row.update({"TenantId": workspace["customerId"], "SourceSystem": row.get("SourceSystem") or "OpsManager",
                    "Type": "Heartbeat",
                    "TimeGenerated": (record.get("TimeGenerated") if time_generated else None) or _utcnow_text()})
        rows.append(row)
    store.append_heartbeats(workspace["customerId"], rows)


def oms_configuration(lab, customer_id, headers):
    store = lab.store
    workspace = workspace_by_customer_id(store, customer_id)
    if not workspace:
        _ods_error(404, "NotFound", "Workspace '%s' was not found." % customer_id)
    date = headers.get("x-ms-date") or ""
    to_sign = signing.shared_key_string_to_sign("GET", 0, "", date, "/agent/configuration")
    keys = [workspace["keys"]["primary"], workspace["keys"]["secondary"]]
    if not signing.date_within_skew(date) or \
            not signing.verify_shared_key(headers.get("Authorization"), workspace["customerId"], keys, to_sign):
        _ods_error(403, "InvalidAuthorization", "The service failed to authenticate the request.")
    return 200, {"solutions": sorted(name for name, on in workspace["packs"].items() if on)}


# ---- query API -----------------------------------------------------------------------------------------------------

def _query_error(status, code, message):
    raise ServiceAnswer(status, {"error": {"code": code, "message": message}})


def query(lab, customer_id, body):
    store = lab.store
    workspace = workspace_by_customer_id(store, customer_id)
    if not workspace:
        _query_error(404, "WorkspaceNotFoundError", "The workspace '%s' could not be found." % customer_id)
    try:
        request = json.loads(body.decode("utf-8"))
    except ValueError:
        _query_error(400, "BadArgumentError", "The request body is not valid JSON.")
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        _query_error(400, "BadArgumentError", "The request had some invalid properties: 'query' is required.")
    if request.get("workspaces"):
        _query_error(400, "BadArgumentError", "Cross-workspace queries are not supported by the lab.")
    try:
        columns, rows = kql.run(request["query"], store.state["heartbeats"].get(workspace["customerId"], []),
                                request.get("timespan"))
    except kql.UnsupportedQuery as exc:
        _query_error(400, "BadArgumentError", "Query not supported by the lab: %s." % exc)
    return 200, {"tables": [{"name": "PrimaryResult", "columns": columns, "rows": rows}]}
