"""Microsoft.HybridCompute (Azure Arc-enabled servers) in the Azure lab: machines, machine extensions, and the
lab-modelled side of the Connected Machine agent.

Sources: ``hybridcompute/.../HybridCompute/stable/2026-09-01/openapi.json`` (operations, status codes, LRO options:
extension create ``200/202 + Location``, ``final-state-via: location`` with the MachineExtension as the final body;
extension delete ``200/202/204`` with ``Azure-AsyncOperation`` and ``Location``; machine delete ``202/204``), the
examples ``Machines_Get.json`` (2026-07-15), ``Extension_Get.json`` / ``Extension_CreateOrUpdate.json`` (2025-01-13,
the service answers the installed ``typeHandlerVersion`` "1.10.3" for a requested "1.10") and ``Extension_Delete.json``
(2026-09-01); reference windows-host.md 5.1 (the V2 worker flow: worker record with ``vmResourceId`` first, then the
``Microsoft.Azure.Automation.HybridWorker`` / ``HybridWorkerForWindows`` extension with ``AutomationAccountURL`` =
the account's ``automationHybridServiceUrl``; optional ``ProxySettings`` and protected ``ProxyPassword``).

A machine exists once an agent connects. The agent side is lab-modelled (the real agent protocol is not public):
``/arcagent/subscriptions/{s}/resourceGroups/{rg}/machines/{m}[/...]`` with the service principal's ARM token, as
``azcmagent connect --service-principal-id/--service-principal-secret`` authenticates. See tests/lab/README.md.
"""
import json
import re
import time
import urllib.parse

from . import arm
from . import entra
from . import store as lab_store
from .arm import ArmError

MACHINE_TYPE = "Microsoft.HybridCompute/machines"
EXTENSION_TYPE = "Microsoft.HybridCompute/machines/extensions"
# machineName parameter of the 2026-09-01 swagger.
MACHINE_NAME = re.compile(r"^[a-zA-Z0-9-_\.]{1,54}$")
HYBRID_WORKER_PUBLISHER = "Microsoft.Azure.Automation.HybridWorker"
# Extension handlers the lab knows, with the full version it "installs" for a requested major.minor (lab data: the
# service answers the full installed version, as Extension_CreateOrUpdate.json shows; the patch numbers are the lab's).
HANDLERS = {
    (HYBRID_WORKER_PUBLISHER.lower(), "hybridworkerforwindows"): {
        "publisher": HYBRID_WORKER_PUBLISHER, "type": "HybridWorkerForWindows", "os": "windows",
        "versions": {"0.1": "0.1.0.18", "1.0": "1.0.3", "1.1": "1.1.13"}},
    (HYBRID_WORKER_PUBLISHER.lower(), "hybridworkerforlinux"): {
        "publisher": HYBRID_WORKER_PUBLISHER, "type": "HybridWorkerForLinux", "os": "linux",
        "versions": {"0.1": "0.1.0.18", "1.0": "1.0.3", "1.1": "1.1.13"}},
}
MACHINE_STATUSES = ("Connected", "Disconnected", "Error", "AwaitingConnection")
# What the host's extension handler does with the next operation (set by the Windows lab through the agent surface).
HANDLER_OUTCOMES = ("succeed", "fail", "hang")
IN_PROGRESS = ("Creating", "Updating", "Deleting")


def handler_key(publisher, extension_type):
    return "%s.%s" % (publisher, extension_type)


def _location(value):
    return arm.normalise_location(value)


class Handlers(arm.Handlers):
    """The ARM handlers plus Microsoft.HybridCompute (machines, extensions, their operations)."""

    # ---- machines --------------------------------------------------------------------------------------------
    def machine_id(self, req):
        return self.rg_id(req) + "/providers/Microsoft.HybridCompute/machines/" + req.names["name"]

    def machine(self, req):
        self.subscription(req)
        self.resource_group(req)
        record = self.store.get(self.machine_id(req))
        if not record:
            arm.not_found(MACHINE_TYPE, req.names["name"], req.names["rg"])
        self.settle_machine(record)
        return record

    def settle_machine(self, record):
        """Finish this machine's extension operations whose time is up (callers that re-GET see them end)."""
        for ext in self.store.children(record["id"], "arcExtension"):
            op = self.store.state["operations"].get(ext.get("operation") or "")
            if op and not op["done"] and time.time() - op["started"] >= float(self.store.settings["lro_seconds"]):
                self.finish_extension_operation(op)

    def render_machine(self, record):
        extensions = sorted(self.store.children(record["id"], "arcExtension"), key=lambda e: e["name"].lower())
        ip = record.get("ipAddress")
        properties = {
            "provisioningState": "Succeeded", "status": record["status"],
            "lastStatusChange": record["lastStatusChange"], "errorDetails": [],
            "agentVersion": record.get("agentVersion"), "vmId": record["vmId"], "vmUuid": record.get("vmUuid"),
            "displayName": record["name"], "machineFqdn": record.get("dnsFqdn"), "dnsFqdn": record.get("dnsFqdn"),
            "domainName": record.get("domainName"), "adFqdn": record.get("dnsFqdn"),
            "osName": record.get("osName"), "osVersion": record.get("osVersion"), "osType": record.get("osType"),
            "osSku": record.get("osSku"), "osEdition": record.get("osEdition"),
            "osProfile": {"computerName": record.get("computerName")},
            "clientPublicKey": record.get("clientPublicKey"), "mssqlDiscovered": "false",
            # Not modelled (no hardware, license, private link or cluster data): present and empty, as for a plain
            # server without them.
            "hardwareResourceId": None, "parentClusterResourceId": None, "privateLinkScopeResourceId": None,
            "identityKeyStore": None, "tpmEkCertificate": None, "locationData": None, "licenseProfile": None,
            "hardwareProfile": None, "storageProfile": None, "firmwareProfile": None,
            # What the agent detects; the default is a Hyper-V guest as in Machines_Get.json.
            "detectedProperties": dict(record.get("detectedProperties") or {
                "cloudprovider": "N/A", "manufacturer": "Microsoft Corporation", "model": "Virtual Machine"}),
            "agentConfiguration": {"configMode": "full", "extensionsEnabled": "true",
                                   "guestConfigurationEnabled": "true", "incomingConnectionsPorts": [],
                                   "proxyBypass": [], "proxyUrl": record.get("proxyUrl") or ""},
            "serviceStatuses": {"extensionService": {"startupType": "Automatic", "status": "Running"},
                                "guestConfigurationService": {"startupType": "Automatic", "status": "Running"}},
            "networkProfile": {"networkInterfaces": [{"name": "Ethernet", "id": "1", "ipAddresses": [
                {"address": ip, "ipAddressVersion": "IPv4", "subnet": {"addressPrefix": ip.rsplit(".", 1)[0] + ".0/24"}}
            ]}] if ip else []},
        }
        return {"id": record["id"], "name": record["name"], "type": MACHINE_TYPE, "location": record["location"],
                "tags": record.get("tags") or {}, "kind": None,
                "identity": {"type": "SystemAssigned", "principalId": record["principalId"],
                             "tenantId": self.store.state["tenant_id"]},
                "properties": properties,
                # Machine.resources (read-only): the machine's extensions, in its answer and in the listings.
                "resources": [self.render_extension(e) for e in extensions],
                "systemData": arm.system_data(record, self.store.state["client_id"])}

    @staticmethod
    def refuse_expand(req):
        """``$expand`` (Machines_Get: enum ``instanceView``; Machines_ListByResourceGroup: "referenced resources", no
        values given) is not modelled: the spec does not say what either adds to the answer. Without it the lab answers
        every machine with ``resources``, its extensions (the Machine definition's read-only property, present in
        Machines_Get.json without any ``$expand``)."""
        if "$expand" in req.query:
            raise ArmError(501, "NotModelledByLab", "The $expand query parameter ('%s') of the Arc machine operations "
                           "is not modelled by the lab." % req.query["$expand"])

    def machine_get(self, req):
        self.refuse_expand(req)
        return 200, self.render_machine(self.machine(req)), {}

    def machine_list(self, req):
        self.refuse_expand(req)
        self.subscription(req)
        prefix = "/subscriptions/%s/" % req.names["sub"]
        if "rg" in req.names:
            self.resource_group(req)
            prefix = self.rg_id(req) + "/"
        found = [r for r in self.store.find("arcMachine") if r["id"].lower().startswith(prefix.lower())]
        for record in found:
            self.settle_machine(record)
        return 200, self.page(req, sorted(found, key=lambda r: r["id"].lower()), self.render_machine), {}

    def resource_list(self, req):
        if req.names.get("list_type") == "machines":
            return self.machine_list(req)
        return super().resource_list(req)

    def remove_machine(self, record):
        for ext in self.store.children(record["id"], "arcExtension"):
            self.deactivate_workers(record, ext)
        self.store.delete_tree(record["id"])

    def machine_delete(self, req):
        self.subscription(req)
        self.resource_group(req)
        record = self.store.get(self.machine_id(req))
        if not record:
            return 204, None, {}
        self.remove_machine(record)
        op_id = lab_store.new_uuid()
        self.store.state["operations"][op_id] = {"kind": "hc_machine_delete", "resource": record["id"], "done": True,
                                                 "fail": False, "started": time.time(), "polls": 0}
        return 202, None, {"Location": self.hc_operation_url(req.names["sub"], record["location"], "operationResults",
                                                             op_id, req.api_version),
                           "Retry-After": str(self.store.settings["lro_retry_after"])}

    # ---- extensions ------------------------------------------------------------------------------------------
    def extension_id(self, req):
        return self.machine_id(req) + "/extensions/" + req.names["ext"]

    def extension(self, req):
        self.machine(req)
        record = self.store.get(self.extension_id(req))
        if not record:
            arm.not_found(EXTENSION_TYPE, "%s/%s" % (req.names["name"], req.names["ext"]), req.names["rg"])
        return record

    def render_extension(self, record, goal_state=False):
        properties = {
            "publisher": record["publisher"], "type": record["type"],
            "typeHandlerVersion": record.get("installedVersion") or record["typeHandlerVersion"],
            "autoUpgradeMinorVersion": record["autoUpgradeMinorVersion"],
            "enableAutomaticUpgrade": record["enableAutomaticUpgrade"],
            "settings": record["settings"],
            # Protected settings are write-only: answers carry an empty object (Extension_Get.json).
            "protectedSettings": {},
            "provisioningState": record["provisioningState"],
            "instanceView": {"name": record["name"], "type": record["type"],
                             "typeHandlerVersion": record.get("installedVersion") or record["typeHandlerVersion"],
                             "status": dict(record["status"])},
        }
        if goal_state:
            properties.pop("protectedSettings")
            properties["protectedSettingsNames"] = sorted(record.get("protectedSettings") or {})
        return {"id": record["id"], "name": record["name"], "type": EXTENSION_TYPE, "location": record["location"],
                "tags": record.get("tags") or {}, "properties": properties}

    def extension_list(self, req):
        machine = self.machine(req)
        items = sorted(self.store.children(machine["id"], "arcExtension"), key=lambda e: e["name"].lower())
        return 200, self.page(req, items, self.render_extension), {}

    def extension_get(self, req):
        return 200, self.render_extension(self.extension(req)), {}

    def hc_operation_url(self, sub, location, kind, op_id, api_version):
        return self.url("/subscriptions/%s/providers/Microsoft.HybridCompute/locations/%s/%s/%s" % (
            sub, _location(location), kind, op_id), **{"api-version": api_version})

    def extension_put(self, req):  # pylint: disable=too-many-branches
        machine = self.machine(req)
        body = req.json
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
        properties = body.get("properties")
        if not isinstance(properties, dict):
            raise ArmError(400, "InvalidParameter", "The extension 'properties' are required.")
        if "location" not in body:
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        arm.check_location(body["location"], EXTENSION_TYPE)
        if _location(body["location"]) != _location(machine["location"]):
            # Lab rule: an extension lives in its machine's region.
            raise ArmError(400, "InvalidParameter", "The extension location '%s' must be the machine's location '%s'."
                           % (body["location"], machine["location"]))
        publisher, extension_type = properties.get("publisher"), properties.get("type")
        if not publisher or not extension_type:
            raise ArmError(400, "InvalidParameter", "The extension properties 'publisher' and 'type' are required.")
        for key in ("settings", "protectedSettings"):
            if properties.get(key) is not None and not isinstance(properties[key], dict):
                raise ArmError(400, "InvalidParameter", "The extension property '%s' must be an object." % key)
        handler = HANDLERS.get((publisher.lower(), extension_type.lower()))
        if not handler:
            raise ArmError(501, "NotModelledByLab", "Extension type '%s' of publisher '%s' is not modelled by the lab "
                           "(it models %s)." % (extension_type, publisher,
                                                ", ".join(handler_key(h["publisher"], h["type"]) for h in HANDLERS.values())))
        record = self.store.get(self.extension_id(req))
        for other in self.store.children(machine["id"], "arcExtension"):
            if other["id"].lower() != self.extension_id(req).lower() and other["publisher"] == handler["publisher"] \
                    and other["type"] == handler["type"]:
                # One extension per handler on a machine (as for Azure VMs); the code and sentence are the lab's.
                kind = handler_key(handler["publisher"], handler["type"])
                raise ArmError(409, "Conflict", "Machine '%s' already has extension '%s' of type %s; a machine can "
                               "have one extension per handler." % (machine["name"], other["name"], kind))
        if record:
            for key, value in (("publisher", publisher), ("type", extension_type)):
                if record[key].lower() != value.lower():
                    raise ArmError(400, "PropertyChangeNotAllowed", "Changing property '%s' is not allowed." % key)
            if record["provisioningState"] in IN_PROGRESS:
                raise ArmError(409, "Conflict", "The extension '%s' has an operation in progress (%s); retry when it "
                               "has finished." % (record["name"], record["provisioningState"]))
        now = lab_store.iso()
        new = record is None
        if new:
            record = {"kind": "arcExtension", "id": self.extension_id(req), "name": req.names["ext"],
                      "machine": machine["id"], "created": now, "protectedSettings": {}}
        record.update({
            "location": machine["location"], "tags": body.get("tags") or record.get("tags") or {},
            "publisher": handler["publisher"], "type": handler["type"],
            "typeHandlerVersion": str(properties.get("typeHandlerVersion") or max(handler["versions"])),
            "autoUpgradeMinorVersion": bool(properties.get("autoUpgradeMinorVersion", False)),
            "enableAutomaticUpgrade": bool(properties.get("enableAutomaticUpgrade", False)),
            "settings": properties.get("settings") or {},
            "provisioningState": "Creating" if new else "Updating",
            "status": {"code": "0", "level": "Info", "displayStatus": "Transitioning",
                       "message": "The extension operation is in progress.", "time": now},
            "modified": now,
        })
        if properties.get("protectedSettings") is not None:
            # Kept in the lab's secret store (state.json, mode 0600) only; never answered.
            record["protectedSettings"] = properties["protectedSettings"]
        self.store.put(record["id"], record)
        op_id = self.start_extension_operation("hc_extension_put", record)
        # 202 + Location (the 2026-09-01 swagger's headers for this operation); the Location URL answers 202 while
        # the operation runs and the MachineExtension when it has succeeded (final-state-via: location).
        return 202, None, {"Location": self.hc_operation_url(req.names["sub"], machine["location"], "operationResults",
                                                             op_id, req.api_version),
                           "Retry-After": str(self.store.settings["lro_retry_after"])}

    def extension_delete(self, req):
        machine = self.machine(req)
        record = self.store.get(self.extension_id(req))
        if not record:
            return 204, None, {}
        if record["provisioningState"] in IN_PROGRESS:
            raise ArmError(409, "Conflict", "The extension '%s' has an operation in progress (%s); retry when it has "
                           "finished." % (record["name"], record["provisioningState"]))
        record["provisioningState"] = "Deleting"
        op_id = self.start_extension_operation("hc_extension_delete", record)
        sub, location, version = req.names["sub"], machine["location"], req.api_version
        # Extension_Delete.json: 202 with Azure-AsyncOperation, Location and Retry-After.
        return 202, None, {"Azure-AsyncOperation": self.hc_operation_url(sub, location, "operationStatus", op_id, version),
                           "Location": self.hc_operation_url(sub, location, "operationResults", op_id, version),
                           "Retry-After": str(self.store.settings["lro_retry_after"])}

    # ---- extension operations --------------------------------------------------------------------------------
    def start_extension_operation(self, kind, record):
        fault = self.store.pick_fault("arm", "MachineExtensions_LRO", ("lro_failed",))
        op_id = lab_store.new_uuid()
        self.store.state["operations"][op_id] = {
            "kind": kind, "resource": record["id"], "machine": record["machine"], "polls": 0, "started": time.time(),
            "done": False, "fail": bool(fault), "error": None, "startTime": lab_store.iso()}
        record["operation"] = op_id
        return op_id

    def finish_extension_operation(self, op):
        """Run the handler's effect: decide Succeeded or Failed, unless the host's handler hangs."""
        record = self.store.get(op["resource"])
        machine = self.store.get(op["machine"])
        if not record or not machine:
            op.update(done=True, fail=True, error={"code": "ResourceNotFound", "message": "The machine or extension "
                                                   "was deleted while the operation ran."})
            self.lab.dirty = True
            return
        outcome = (machine.get("handlers") or {}).get(handler_key(record["publisher"], record["type"]).lower()) or {}
        if outcome.get("outcome") == "hang" and not op["fail"]:
            return  # The host's handler never reports (e.g. stale V2 registry keys): Transitioning until it does.
        op["done"], op["endTime"] = True, lab_store.iso()
        self.lab.dirty = True
        record.pop("operation", None)
        if op["kind"] == "hc_extension_delete":
            if op["fail"]:
                return self.fail_extension(op, record, "The extension could not be removed (a fault injected by the lab).")
            self.deactivate_workers(machine, record)
            self.store.delete(record["id"])
            return None
        problem = None
        if op["fail"]:
            problem = "The extension operation failed (a fault injected by the lab)."
        elif outcome.get("outcome") == "fail":
            problem = outcome.get("message") or "The extension handler on the machine reported a failure."
        else:
            problem = self.check_extension(machine, record)
        if problem:
            return self.fail_extension(op, record, problem)
        handler = HANDLERS[(record["publisher"].lower(), record["type"].lower())]
        record["installedVersion"] = handler["versions"][".".join(record["typeHandlerVersion"].split(".")[:2])]
        record["provisioningState"] = "Succeeded"
        record["status"] = {"code": "0", "level": "Info", "displayStatus": "Provisioning succeeded",
                            "message": "Hybrid Worker Extension installed and registered.", "time": lab_store.iso()}
        self.activate_workers(machine)
        return None

    def fail_extension(self, op, record, message):
        record["provisioningState"] = "Failed"
        record["status"] = {"code": "1", "level": "Error", "displayStatus": "Provisioning failed",
                            "message": message, "time": lab_store.iso()}
        op["fail"] = True
        # Lab wording (the code and sentence of a failed extension operation are the lab's own).
        op["error"] = {"code": "ExtensionOperationFailed", "message": "Extension '%s' of machine '%s' failed: %s"
                       % (record["name"], record["machine"].rsplit("/", 1)[-1], message)}

    def check_extension(self, machine, record):
        """What the real handler would refuse, as a sentence (None when it installs)."""
        handler = HANDLERS[(record["publisher"].lower(), record["type"].lower())]
        if machine["status"] != "Connected":
            return ("The machine's Connected Machine agent is %s, so the extension operation was never picked up "
                    "(the lab fails it at once instead of after the service's timeout)." % machine["status"])
        if (machine.get("osType") or "").lower() != handler["os"]:
            return "%s cannot be installed on a machine whose osType is '%s'." % (record["type"], machine.get("osType"))
        version = ".".join(record["typeHandlerVersion"].split(".")[:2])
        if version not in handler["versions"]:
            known = ", ".join(sorted(handler["versions"]))
            return "Version '%s' of %s was not found (known: %s)." % (record["typeHandlerVersion"], record["type"], known)
        url = (record["settings"] or {}).get("AutomationAccountURL")
        if not url:
            return "The Hybrid Worker Extension failed to execute: the setting AutomationAccountURL is missing."
        account = self.account_by_hybrid_url(url)
        if not account:
            return ("The Hybrid Worker Extension failed to execute: AutomationAccountURL '%s' is not the "
                    "automationHybridServiceUrl of any Automation account." % url)
        workers = self.machine_workers(machine, account)
        if not workers:
            return ("The Hybrid Worker Extension failed to execute: machine '%s' is not a worker of any Hybrid Runbook "
                    "Worker group of Automation account '%s' (add the worker record with this vmResourceId first)."
                    % (machine["name"], account["name"]))
        if len(workers) > 1:
            return ("The Hybrid Worker Extension failed to execute: machine '%s' is a worker of more than one group "
                    "(%s); a machine can be in one group only." % (machine["name"], ", ".join(sorted(w["group"] for w in workers))))
        return None

    def hybrid_url(self, account):
        return "%s/jrds/automationAccounts/%s" % (self.lab.base_url, account["accountId"])

    def account_by_hybrid_url(self, url):
        for account in self.store.find("automationAccount"):
            if self.hybrid_url(account).lower() == str(url).rstrip("/").lower():
                return account
        return None

    def machine_workers(self, machine, account):
        return [w for w in self.store.find("worker", accountId=account["accountId"])
                if (w.get("vmResourceId") or "").lower() == machine["id"].lower()]

    def activate_workers(self, machine):
        """The V2 workers of this machine in the account of each installed Hybrid Worker extension are seen now."""
        now = lab_store.iso()
        for ext in self.store.children(machine["id"], "arcExtension"):
            if ext["publisher"] != HYBRID_WORKER_PUBLISHER or ext["provisioningState"] != "Succeeded":
                continue
            account = self.account_by_hybrid_url((ext["settings"] or {}).get("AutomationAccountURL"))
            for worker in self.machine_workers(machine, account) if account else []:
                worker.update(workerName=machine.get("computerName") or machine["name"], ip=machine.get("ipAddress") or "",
                              lastSeenDateTime=now, modified=now, extensionActive=True)

    def deactivate_workers(self, machine, ext):
        account = self.account_by_hybrid_url((ext.get("settings") or {}).get("AutomationAccountURL"))
        for worker in self.machine_workers(machine, account) if account else []:
            worker["extensionActive"] = False

    def hc_operation(self, req):
        self.subscription(req)
        op = self.store.state["operations"].get(req.names["op"])
        if not op or not op["kind"].startswith("hc_"):
            raise ArmError(404, "NotFound", "Operation '%s' was not found." % req.names["op"])
        if not op["done"]:
            op["polls"] += 1
            if op["polls"] >= int(self.store.settings["lro_polls"]) or \
                    time.time() - op["started"] >= float(self.store.settings["lro_seconds"]):
                self.finish_extension_operation(op)
        return op

    def hc_operation_status(self, req):
        """Azure-AsyncOperation URL: ``{id, name, status, startTime, endTime?, error?}``."""
        op = self.hc_operation(req)
        status = "InProgress" if not op["done"] else ("Failed" if op["fail"] else "Succeeded")
        body = {"id": "/" + "/".join(req.segments), "name": req.names["op"], "status": status,
                "startTime": op.get("startTime") or lab_store.iso()}
        if op["done"]:
            body["endTime"] = op.get("endTime") or lab_store.iso()
        if op["fail"] and op["done"]:
            body["error"] = op["error"] or {"code": "ExtensionOperationFailed", "message": "The operation failed."}
        headers = {} if op["done"] else {"Retry-After": str(self.store.settings["lro_retry_after"])}
        return 200, body, headers

    def hc_operation_result(self, req):
        """Location URL: 202 while running, then the MachineExtension (create) or 200 without a body (delete)."""
        op = self.hc_operation(req)
        if not op["done"]:
            return 202, None, {"Location": self.url("/" + "/".join(urllib.parse.quote(s) for s in req.segments),
                                                    **{"api-version": req.api_version}),
                               "Retry-After": str(self.store.settings["lro_retry_after"])}
        if op["fail"]:
            error = op["error"] or {"code": "ExtensionOperationFailed", "message": "The operation failed."}
            raise ArmError(400, error["code"], error["message"])
        if op["kind"] == "hc_extension_put":
            record = self.store.get(op["resource"])
            if record:
                return 200, self.render_extension(record), {}
        return 200, None, {}


# ---- the Connected Machine agent (lab-modelled) ------------------------------------------------------------------

def agent_route(method, segments):
    """``segments`` after ``arcagent``: ``subscriptions/{s}/resourceGroups/{rg}/machines/{m}[/tail]``."""
    lowered = [s.lower() for s in segments]
    if len(segments) < 6 or lowered[0] != "subscriptions" or lowered[2] != "resourcegroups" or lowered[4] != "machines":
        return None
    tail = lowered[6:]
    return {("PUT", ()): "ArcAgent_Connect", ("DELETE", ()): "ArcAgent_Disconnect",
            ("POST", ("heartbeat",)): "ArcAgent_Heartbeat",
            ("GET", ("extensions",)): "ArcAgent_GoalState"}.get((method, tuple(tail)))


class AgentAnswer(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.body = status, {"error": {"code": code, "message": message}}


def _machine_record(store, segments):
    machine_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.HybridCompute/machines/%s" % (
        segments[1], segments[3], segments[5])
    return machine_id, store.get(machine_id)


def _check_scope(lab, segments):
    store = lab.store
    sub = store.state["subscriptions"].get(segments[1].lower())
    if not sub:
        raise AgentAnswer(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % segments[1])
    rg = store.get("/subscriptions/%s/resourceGroups/%s" % (sub["subscriptionId"], segments[3]))
    if not rg:
        raise AgentAnswer(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % segments[3])
    return sub["subscriptionId"], rg["name"]


def _apply_handlers(record, handlers):
    if handlers is None:
        return
    if not isinstance(handlers, dict):
        raise AgentAnswer(400, "InvalidRequestContent", "extensionHandlers must be an object.")
    for key, value in handlers.items():
        if not isinstance(value, dict) or value.get("outcome") not in HANDLER_OUTCOMES:
            raise AgentAnswer(400, "InvalidRequestContent", "extensionHandlers['%s'].outcome must be one of %s."
                              % (key, ", ".join(HANDLER_OUTCOMES)))
        record.setdefault("handlers", {})[key.lower()] = {"outcome": value["outcome"], "message": value.get("message")}


AGENT_FIELDS = ("agentVersion", "osName", "osVersion", "osType", "osSku", "osEdition", "computerName", "dnsFqdn",
                "domainName", "ipAddress", "vmUuid", "clientPublicKey", "proxyUrl", "detectedProperties")


def agent_call(lab, operation, segments, headers, body):  # pylint: disable=too-many-branches
    """One agent call; returns ``(status, body)``; raises AgentAnswer for errors (ARM's wrapped error shape)."""
    store = lab.store
    problem = entra.check_bearer(store.state, headers.get("Authorization"), entra.ARM_AUDIENCE)
    if problem[0]:
        raise AgentAnswer(401, problem[0], problem[1])
    sub, rg = _check_scope(lab, segments)
    segments = ["subscriptions", sub, "resourceGroups", rg, "machines", segments[5]] + list(segments[6:])
    machine_id, record = _machine_record(store, segments)
    handlers = lab.handlers
    data = {}
    if body:
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError as exc:
            raise AgentAnswer(400, "InvalidRequestContent", "The request content is not JSON.") from exc
        if not isinstance(data, dict):
            raise AgentAnswer(400, "InvalidRequestContent", "The request content must be a JSON object.")
    now = lab_store.iso()
    if operation == "ArcAgent_Disconnect":
        if not record:
            return 204, None
        handlers.remove_machine(record)
        return 200, None
    if operation in ("ArcAgent_Heartbeat", "ArcAgent_GoalState") and not record:
        raise AgentAnswer(404, "ResourceNotFound", "The Resource '%s/%s' under resource group '%s' was not found."
                          % (MACHINE_TYPE, segments[5], rg))
    if operation == "ArcAgent_GoalState":
        handlers.settle_machine(record)
        items = sorted(store.children(record["id"], "arcExtension"), key=lambda e: e["name"].lower())
        return 200, {"value": [handlers.render_extension(e, goal_state=True) for e in items]}
    if operation == "ArcAgent_Heartbeat":
        status = data.get("status", "Connected")
        if status not in MACHINE_STATUSES:
            raise AgentAnswer(400, "InvalidRequestContent", "status must be one of %s." % ", ".join(MACHINE_STATUSES))
        _apply_handlers(record, data.get("extensionHandlers"))
        set_status(record, status)
        if status == "Connected":
            handlers.settle_machine(record)
            handlers.activate_workers(record)
        return 200, handlers.render_machine(record)
    # Connect.
    name = segments[5]
    if not MACHINE_NAME.match(name):
        raise AgentAnswer(400, "InvalidResourceName", "The machine name '%s' is invalid: use 1 to 54 letters, digits, "
                          "'-', '_' or '.'." % name)
    if "location" not in data:
        raise AgentAnswer(400, "LocationRequired", "The location property is required for this definition.")
    try:
        arm.check_location(data["location"], MACHINE_TYPE)
    except ArmError as exc:
        raise AgentAnswer(exc.status, exc.code, exc.message) from exc
    if record:
        if record.get("vmUuid") and data.get("vmUuid") and record["vmUuid"].lower() != str(data["vmUuid"]).lower():
            # Lab rule: one resource per physical machine.
            raise AgentAnswer(409, "Conflict", "Machine '%s' in resource group '%s' is already connected from another "
                              "machine (vmUuid %s)." % (name, rg, record["vmUuid"]))
        if _location(record["location"]) != _location(data["location"]):
            raise AgentAnswer(409, "Conflict", "Machine '%s' already exists in location '%s'." % (name, record["location"]))
    created = record is None
    if created:
        record = {"kind": "arcMachine", "id": machine_id, "name": name, "location": _location(data["location"]),
                  "vmId": lab_store.new_uuid(), "principalId": lab_store.new_uuid(), "created": now,
                  "status": "Connected", "lastStatusChange": now}
    for key in AGENT_FIELDS:
        if key in data:
            record[key] = data[key]
    if "tags" in data:
        record["tags"] = data["tags"] or {}
    record["modified"] = now
    _apply_handlers(record, data.get("extensionHandlers"))
    set_status(record, "Connected")
    store.put(machine_id, record)
    return (201 if created else 200), handlers.render_machine(record)


def set_status(record, status):
    if record.get("status") != status:
        record["status"], record["lastStatusChange"] = status, lab_store.iso()
