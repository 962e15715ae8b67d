"""Azure Resource Manager stand-in: resource groups, Microsoft.OperationalInsights, Microsoft.Automation and
Microsoft.OperationsManagement, as azure-mgmt-loganalytics 14.0.0 / azure-mgmt-automation 2.0.0 call them.

Sources: the 2024-10-23 Automation and 2025-07-01 OperationalInsights swaggers and their examples, the 2015-11-01-preview
OperationsManagement swagger, and reference azure-api.md sections 1.2-1.6 (status codes, LRO headers, error shapes).

Two error shapes, as real: the ARM front door and Microsoft.OperationalInsights / OperationsManagement answer
``{"error": {"code", "message"}}``; the Automation resource provider answers a flat ``{"code", "message"}``
(``Microsoft.Automation/common/v1/definitions.json`` ErrorResponse).
"""
import re
import time
import urllib.parse

from . import store as lab_store

NS_OI = "microsoft.operationalinsights"
NS_AA = "microsoft.automation"
NS_OM = "microsoft.operationsmanagement"
NS_RESOURCES = "microsoft.resources"
NS_HC = "microsoft.hybridcompute"

# One api-version per provider, the one the SDK pins (reference 0.2); a request with any other is refused like ARM
# refuses an api-version the provider does not register. Resource groups (no SDK in the project) accept the
# Microsoft.Resources versions listed here.
API_VERSIONS = {
    NS_OI: ("2025-07-01",),
    NS_AA: ("2024-10-23",),
    NS_OM: ("2015-11-01-preview",),
    # azure-mgmt-hybridcompute 10.0.0 pins 2026-07-15; the newest spec in the reference copy is 2026-09-01. The
    # provider registers both (hybridcompute.py).
    NS_HC: ("2026-07-15", "2026-09-01"),
    NS_RESOURCES: ("2019-10-01", "2020-06-01", "2021-04-01", "2022-09-01", "2023-07-01", "2024-03-01",
                   "2024-07-01", "2024-11-01", "2025-01-01", "2025-03-01", "2025-04-01"),
}

# Public Azure region names accepted by the lab (lower-case, no spaces; display names such as "West Europe" are
# normalised to these). Source: `az account list-locations` output names for the public cloud.
LOCATIONS = (
    "eastus", "eastus2", "westus", "westus2", "westus3", "centralus", "northcentralus", "southcentralus",
    "westcentralus", "canadacentral", "canadaeast", "brazilsouth", "northeurope", "westeurope", "uksouth", "ukwest",
    "francecentral", "germanywestcentral", "norwayeast", "swedencentral", "switzerlandnorth", "italynorth",
    "polandcentral", "spaincentral", "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral",
    "australiaeast", "australiasoutheast", "centralindia", "southindia", "uaenorth", "southafricanorth",
    "qatarcentral", "israelcentral", "mexicocentral",
)

WORKSPACE_SKUS = ("free", "standard", "premium", "pernode", "pergb2018", "standalone", "capacityreservation",
                  "lacluster")

# Intelligence packs of a workspace and their display names (example WorkspacesListIntelligencePacks.json).
INTELLIGENCE_PACKS = (
    ("CapacityPerformance", "Capacity and Performance"), ("AzureWebAppsAnalytics", "Azure Web Apps Analytics (Preview)"),
    ("Security", "Security and Audit"), ("Updates", "Update Management"), ("AntiMalware", "Antimalware Assessment"),
    ("LogManagement", "Log Management"), ("ChangeTracking", "Change Tracking"), ("SQLAssessment", "SQL Assessment"),
    ("ServiceDesk", "IT Service Management Connector(Preview)"), ("ADAssessment", "AD Assessment"),
    ("AlertManagement", "Alert Management"), ("AzureAutomation", "Azure Automation"), ("WireData", "Wire Data"),
    ("SiteRecovery", "Azure Site Recovery"), ("Backup", "Backup"), ("ServiceMap", "Service Map"),
    ("AzureActivity", "Activity Log Analytics"), ("AgentHealthAssessment", "Agent Health "),
    ("SecurityCenterFree", "Security Center Free - for Azure Resources only"),
)
# A new workspace has only Log Management on.
DEFAULT_ENABLED_PACKS = ("LogManagement",)

# Resource naming rules (learn.microsoft.com azure-resource-manager/management/resource-name-rules, and the
# Automation swagger's automationAccountName pattern).
RESOURCE_GROUP_NAME = re.compile(r"^[-\w._()]{1,90}$")
WORKSPACE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$")
ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9]{4,48}[A-Za-z0-9]$")
GROUP_NAME = re.compile(r"^[^<>*%&:\\?.+/]{1,128}$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ArmError(Exception):
    """An error answer; ``flat`` selects the Automation provider's shape."""

    def __init__(self, status, code, message, flat=False, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.flat, self.headers = status, code, message, flat, headers or {}

    def body(self):
        if self.flat:
            return {"code": self.code, "message": self.message}
        return {"error": {"code": self.code, "message": self.message}}


def normalise_location(value):
    return re.sub(r"\s+", "", str(value or "")).lower()


def check_location(value, resource_type):
    if normalise_location(value) not in LOCATIONS:
        raise ArmError(400, "LocationNotAvailableForResourceType",
                       "The provided location '%s' is not available for resource type '%s'. List of available regions "
                       "for the resource type is '%s'." % (value, resource_type, ",".join(LOCATIONS)))


def not_found(resource_type, name, rg, flat=False):
    if flat:
        raise ArmError(404, "NotFound", "%s '%s' not found." % (resource_type.rsplit("/", 1)[-1], name), flat=True)
    raise ArmError(404, "ResourceNotFound", "The Resource '%s/%s' under resource group '%s' was not found. For more "
                   "details please go to https://aka.ms/ARMResourceNotFoundFix" % (resource_type, name, rg))


def system_data(record, client_id):
    return {
        "createdBy": client_id, "createdByType": "Application", "createdAt": record["created"],
        "lastModifiedBy": client_id, "lastModifiedByType": "Application", "lastModifiedAt": record["modified"],
    }


class Request:
    """What a handler needs to know about one ARM call."""

    def __init__(self, lab, method, segments, query, body, json_body):
        self.lab, self.method, self.segments, self.query, self.body = lab, method, segments, query, body
        self.json = json_body
        self.api_version = query.get("api-version")
        self.names = {}

    @property
    def store(self):
        return self.lab.store

    @property
    def state(self):
        return self.lab.store.state


# ---------------------------------------------------------------------------------------------------------------------
# Routing: (method, namespace/type, pattern after the resource, operationId, is_write, handler name)
# "{x}" captures a name. Paths are compared case-insensitively, as ARM does.
# ---------------------------------------------------------------------------------------------------------------------
SUBSCRIPTION_ROUTES = [
    ("GET", (), "Subscriptions_Get", False, "subscription_get"),
    ("GET", ("resourcegroups",), "ResourceGroups_List", False, "rg_list"),
    ("GET", ("resourcegroups", "{rg}"), "ResourceGroups_Get", False, "rg_get"),
    ("HEAD", ("resourcegroups", "{rg}"), "ResourceGroups_CheckExistence", False, "rg_head"),
    ("PUT", ("resourcegroups", "{rg}"), "ResourceGroups_CreateOrUpdate", True, "rg_put"),
    ("PATCH", ("resourcegroups", "{rg}"), "ResourceGroups_Update", True, "rg_patch"),
    ("DELETE", ("resourcegroups", "{rg}"), "ResourceGroups_Delete", True, "rg_delete"),
    ("GET", ("operationresults", "{op}"), "ResourceGroups_OperationResult", False, "rg_operation_result"),
    ("GET", ("providers", NS_OI, "locations", "{loc}", "operationstatuses", "{op}"), "OperationStatuses_Get", False,
     "operation_status"),
    # Microsoft.HybridCompute long-running operations (hybridcompute.py): Azure-AsyncOperation and Location URLs.
    ("GET", ("providers", NS_HC, "locations", "{loc}", "operationstatus", "{op}"), "HybridCompute_OperationStatus",
     False, "hc_operation_status"),
    ("GET", ("providers", NS_HC, "locations", "{loc}", "operationresults", "{op}"), "HybridCompute_OperationResult",
     False, "hc_operation_result"),
]

RESOURCE_ROUTES = {
    (NS_OI, "workspaces"): [
        ("GET", (), "Workspaces_Get", False, "ws_get"),
        ("PUT", (), "Workspaces_CreateOrUpdate", True, "ws_put"),
        ("PATCH", (), "Workspaces_Update", True, "ws_patch"),
        ("DELETE", (), "Workspaces_Delete", True, "ws_delete"),
        ("GET", ("operationresults", "{op}"), "Workspaces_OperationResult", False, "ws_operation_result"),
        ("POST", ("sharedkeys",), "SharedKeys_GetSharedKeys", False, "ws_shared_keys"),
        ("POST", ("regeneratesharedkey",), "SharedKeys_Regenerate", True, "ws_regenerate_keys"),
        ("GET", ("intelligencepacks",), "IntelligencePacks_List", False, "packs_list"),
        ("POST", ("intelligencepacks", "{pack}", "enable"), "IntelligencePacks_Enable", True, "pack_enable"),
        ("POST", ("intelligencepacks", "{pack}", "disable"), "IntelligencePacks_Disable", True, "pack_disable"),
        ("GET", ("linkedservices",), "LinkedServices_ListByWorkspace", False, "ls_list"),
        ("GET", ("linkedservices", "{ls}"), "LinkedServices_Get", False, "ls_get"),
        ("PUT", ("linkedservices", "{ls}"), "LinkedServices_CreateOrUpdate", True, "ls_put"),
        ("DELETE", ("linkedservices", "{ls}"), "LinkedServices_Delete", True, "ls_delete"),
    ],
    (NS_AA, "automationaccounts"): [
        ("GET", (), "AutomationAccount_Get", False, "aa_get"),
        ("PUT", (), "AutomationAccount_CreateOrUpdate", True, "aa_put"),
        ("PATCH", (), "AutomationAccount_Update", True, "aa_patch"),
        ("DELETE", (), "AutomationAccount_Delete", True, "aa_delete"),
        ("GET", ("agentregistrationinformation",), "AgentRegistrationInformation_Get", False, "aa_registration"),
        ("POST", ("agentregistrationinformation", "regeneratekey"), "AgentRegistrationInformation_RegenerateKey",
         True, "aa_regenerate_key"),
        ("POST", ("listkeys",), "Keys_ListByAutomationAccount", False, "aa_list_keys"),
        ("GET", ("linkedworkspace",), "LinkedWorkspace_Get", False, "aa_linked_workspace"),
        ("GET", ("hybridrunbookworkergroups",), "HybridRunbookWorkerGroup_ListByAutomationAccount", False,
         "group_list"),
        ("GET", ("hybridrunbookworkergroups", "{group}"), "HybridRunbookWorkerGroup_Get", False, "group_get"),
        ("PUT", ("hybridrunbookworkergroups", "{group}"), "HybridRunbookWorkerGroup_Create", True, "group_put"),
        ("PATCH", ("hybridrunbookworkergroups", "{group}"), "HybridRunbookWorkerGroup_Update", True, "group_patch"),
        ("DELETE", ("hybridrunbookworkergroups", "{group}"), "HybridRunbookWorkerGroup_Delete", True, "group_delete"),
        ("GET", ("hybridrunbookworkergroups", "{group}", "hybridrunbookworkers"),
         "HybridRunbookWorkers_ListByHybridRunbookWorkerGroup", False, "worker_list"),
        ("GET", ("hybridrunbookworkergroups", "{group}", "hybridrunbookworkers", "{worker}"),
         "HybridRunbookWorkers_Get", False, "worker_get"),
        ("PUT", ("hybridrunbookworkergroups", "{group}", "hybridrunbookworkers", "{worker}"),
         "HybridRunbookWorkers_Create", True, "worker_put"),
        ("PATCH", ("hybridrunbookworkergroups", "{group}", "hybridrunbookworkers", "{worker}"),
         "HybridRunbookWorkers_Patch", True, "worker_patch"),
        ("DELETE", ("hybridrunbookworkergroups", "{group}", "hybridrunbookworkers", "{worker}"),
         "HybridRunbookWorkers_Delete", True, "worker_delete"),
        ("POST", ("hybridrunbookworkergroups", "{group}", "hybridrunbookworkers", "{worker}", "move"),
         "HybridRunbookWorkers_Move", True, "worker_move"),
    ],
    (NS_HC, "machines"): [
        ("GET", (), "Machines_Get", False, "machine_get"),
        ("DELETE", (), "Machines_Delete", True, "machine_delete"),
        ("GET", ("extensions",), "MachineExtensions_List", False, "extension_list"),
        ("GET", ("extensions", "{ext}"), "MachineExtensions_Get", False, "extension_get"),
        ("PUT", ("extensions", "{ext}"), "MachineExtensions_CreateOrUpdate", True, "extension_put"),
        ("DELETE", ("extensions", "{ext}"), "MachineExtensions_Delete", True, "extension_delete"),
    ],
    (NS_OM, "solutions"): [
        ("GET", (), "Solutions_Get", False, "solution_get"),
        ("PUT", (), "Solutions_CreateOrUpdate", True, "solution_put"),
        ("DELETE", (), "Solutions_Delete", True, "solution_delete"),
    ],
}


def _match(pattern, segments, names):
    if len(pattern) != len(segments):
        return False
    found = {}
    for expected, actual in zip(pattern, segments):
        if expected.startswith("{"):
            found[expected[1:-1]] = actual
        elif expected != actual.lower():
            return False
    names.update(found)
    return True


LIST_ROUTES = {
    # (namespace, type, by resource group?) -> operationId
    (NS_OI, "workspaces", True): "Workspaces_ListByResourceGroup",
    (NS_OI, "workspaces", False): "Workspaces_List",
    (NS_AA, "automationaccounts", True): "AutomationAccount_ListByResourceGroup",
    (NS_AA, "automationaccounts", False): "AutomationAccount_List",
    (NS_HC, "machines", True): "Machines_ListByResourceGroup",
    (NS_HC, "machines", False): "Machines_ListBySubscription",
}


def route(method, segments):
    """Return ``(operation, is_write, handler name, namespace, names)`` or None. ``segments`` start after ``/``."""
    if len(segments) < 2 or segments[0].lower() != "subscriptions":
        return None
    names = {"sub": segments[1]}
    rest = segments[2:]
    lowered = [s.lower() for s in rest]
    if method == "GET" and len(rest) == 5 and lowered[0] == "resourcegroups" and lowered[2] == "providers":
        operation = LIST_ROUTES.get((lowered[3], lowered[4], True))
        if operation:
            names.update(rg=rest[1], list_type=lowered[4])
            return operation, False, "resource_list", lowered[3], names
    if method == "GET" and len(rest) == 3 and lowered[0] == "providers":
        operation = LIST_ROUTES.get((lowered[1], lowered[2], False))
        if operation:
            names.update(list_type=lowered[2])
            return operation, False, "resource_list", lowered[1], names
    if len(rest) >= 6 and rest[0].lower() == "resourcegroups" and rest[2].lower() == "providers":
        names["rg"] = rest[1]
        key = (rest[3].lower(), rest[4].lower())
        names["name"] = rest[5]
        for r_method, pattern, operation, write, handler in RESOURCE_ROUTES.get(key, []):
            if r_method == method and _match(pattern, rest[6:], names):
                return operation, write, handler, key[0], names
        return None
    for r_method, pattern, operation, write, handler in SUBSCRIPTION_ROUTES:
        if r_method == method and _match(pattern, rest, names):
            namespace = pattern[1] if pattern and pattern[0] == "providers" else NS_RESOURCES
            return operation, write, handler, namespace, names
    return None


def check_api_version(namespace, api_version, resource_type):
    if not api_version:
        raise ArmError(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all requests.")
    if api_version not in API_VERSIONS[namespace]:
        if namespace == NS_RESOURCES:
            raise ArmError(400, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The supported versions "
                           "are '%s'." % (api_version, ",".join(API_VERSIONS[namespace])))
        raise ArmError(400, "NoRegisteredProviderFound", "No registered resource provider found for location 'global' "
                       "and API version '%s' for type '%s'. The supported api-versions are '%s'."
                       % (api_version, resource_type, ", ".join(API_VERSIONS[namespace])))


# ---------------------------------------------------------------------------------------------------------------------
# Handlers. Each returns (status, body or None, headers) and raises ArmError for error answers. The caller holds the
# store lock and saves the state after a write.
# ---------------------------------------------------------------------------------------------------------------------
class Handlers:
    def __init__(self, lab):
        self.lab = lab

    @property
    def store(self):
        return self.lab.store

    def url(self, path, **query):
        return self.lab.base_url + path + ("?" + urllib.parse.urlencode(query) if query else "")

    # ---- subscription and resource groups ------------------------------------------------------------------------
    def subscription(self, req):
        sub = self.store.state["subscriptions"].get(req.names["sub"].lower())
        if not sub:
            raise ArmError(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % req.names["sub"])
        req.names["sub"] = sub["subscriptionId"]
        return sub

    def rg_id(self, req):
        return "/subscriptions/%s/resourceGroups/%s" % (req.names["sub"], req.names["rg"])

    def resource_group(self, req):
        record = self.store.get(self.rg_id(req))
        if not record:
            raise ArmError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % req.names["rg"])
        req.names["rg"] = record["name"]
        return record

    def render_rg(self, record):
        return {"id": record["id"], "name": record["name"], "type": "Microsoft.Resources/resourceGroups",
                "location": record["location"], "tags": record.get("tags") or {},
                "properties": {"provisioningState": "Succeeded"}}

    def subscription_get(self, req):
        sub = self.subscription(req)
        return 200, {"id": "/subscriptions/" + sub["subscriptionId"], "subscriptionId": sub["subscriptionId"],
                     "tenantId": self.store.state["tenant_id"], "displayName": sub["displayName"], "state": "Enabled",
                     "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                              "spendingLimit": "Off"}, "authorizationSource": "RoleBased"}, {}

    def rg_list(self, req):
        self.subscription(req)
        groups = self.store.find("resourceGroup", subscriptionId=req.names["sub"])
        return 200, {"value": [self.render_rg(g) for g in sorted(groups, key=lambda g: g["name"].lower())]}, {}

    def rg_get(self, req):
        self.subscription(req)
        return 200, self.render_rg(self.resource_group(req)), {}

    def rg_head(self, req):
        self.subscription(req)
        return (204 if self.store.get(self.rg_id(req)) else 404), None, {}

    def rg_put(self, req):
        self.subscription(req)
        body = req.json or {}
        if not RESOURCE_GROUP_NAME.match(req.names["rg"]) or req.names["rg"].endswith("."):
            raise ArmError(400, "InvalidResourceGroup", "The provided resource group name '%s' has these invalid "
                           "characters: ..." % req.names["rg"])
        if "location" not in body:
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        check_location(body["location"], "resourceGroups")
        existing = self.store.get(self.rg_id(req))
        if existing:
            if normalise_location(existing["location"]) != normalise_location(body["location"]):
                raise ArmError(409, "InvalidResourceGroupLocation", "Invalid resource group location '%s'. The Resource "
                               "group already exists in location '%s'." % (body["location"], existing["location"]))
            existing["tags"] = body.get("tags") or {}
            return 200, self.render_rg(existing), {}
        record = {"kind": "resourceGroup", "id": self.rg_id(req), "name": req.names["rg"],
                  "subscriptionId": req.names["sub"], "location": normalise_location(body["location"]),
                  "tags": body.get("tags") or {}}
        self.store.put(record["id"], record)
        return 201, self.render_rg(record), {}

    def rg_patch(self, req):
        self.subscription(req)
        record = self.resource_group(req)
        if "tags" in (req.json or {}):
            record["tags"] = req.json["tags"] or {}
        return 200, self.render_rg(record), {}

    def rg_delete(self, req):
        self.subscription(req)
        record = self.resource_group(req)
        # Deletion of everything inside happens at once; the 202 + Location answer keeps the real call pattern.
        for workspace in self.store.children(record["id"], "workspace"):
            self.store.state["heartbeats"].pop(workspace["customerId"], None)
        self.store.delete_tree(record["id"])
        op = lab_store.new_uuid()
        self.store.state["operations"][op] = {"kind": "rg_delete", "done": True}
        location = self.url("/subscriptions/%s/operationresults/%s" % (req.names["sub"], op),
                            **{"api-version": req.api_version})
        return 202, None, {"Location": location, "Retry-After": str(self.store.settings["lro_retry_after"])}

    def rg_operation_result(self, req):
        self.subscription(req)
        if req.names["op"] not in self.store.state["operations"]:
            raise ArmError(404, "NotFound", "Operation '%s' was not found." % req.names["op"])
        return 200, None, {}

    def resource_list(self, req):
        """Workspaces or Automation accounts of a resource group or of the whole subscription."""
        self.subscription(req)
        prefix = "/subscriptions/%s/" % req.names["sub"]
        if "rg" in req.names:
            self.resource_group(req)
            prefix = self.rg_id(req) + "/"
        if req.names["list_type"] == "workspaces":
            found = [r for r in self.store.find("workspace") if r["id"].lower().startswith(prefix.lower())]
            for record in found:
                self.settle_by_time(record)
            found = sorted((r for r in (self.store.get(r["id"]) for r in found) if r), key=lambda r: r["id"].lower())
            return 200, {"value": [self.render_ws(r) for r in found]}, {}
        found = [r for r in self.store.find("automationAccount") if r["id"].lower().startswith(prefix.lower())]
        return 200, self.page(req, sorted(found, key=lambda r: r["id"].lower()), self.render_aa), {}

    # ---- workspaces ----------------------------------------------------------------------------------------------
    def ws_id(self, req):
        return self.rg_id(req) + "/providers/Microsoft.OperationalInsights/workspaces/" + req.names["name"]

    def workspace(self, req, allow_missing=False):
        self.subscription(req)
        self.resource_group(req)
        record = self.store.get(self.ws_id(req))
        if record:
            self.settle_by_time(record)
            record = self.store.get(self.ws_id(req))
        if not record and not allow_missing:
            not_found("Microsoft.OperationalInsights/workspaces", req.names["name"], req.names["rg"])
        return record

    def settle_by_time(self, record):
        """Finish a workspace operation whose time is up (callers that re-GET instead of polling see it end)."""
        op_id = record.get("operation")
        op = self.store.state["operations"].get(op_id) if op_id else None
        if op and not op["done"] and time.time() - op["started"] >= float(self.store.settings["lro_seconds"]):
            self.finish_operation(op)

    def finish_operation(self, op):
        op["done"] = True
        self.lab.dirty = True
        record = self.store.get(op["resource"])
        if not record:
            return
        record.pop("operation", None)
        if op["kind"] == "ws_create":
            record["provisioningState"] = "Failed" if op["fail"] else "Succeeded"
        elif op["kind"] == "ws_delete":
            if op["fail"]:
                record["provisioningState"] = "Failed"
            else:
                self.store.state["heartbeats"].pop(record["customerId"], None)
                self.store.delete_tree(record["id"])
                for solution in self.store.find("solution"):
                    if solution["properties"]["workspaceResourceId"].lower() == record["id"].lower():
                        solution["properties"]["provisioningState"] = "Failed"

    def render_ws(self, record):
        sub_prefix, sep, rest = record["id"].partition("/resourceGroups/")
        properties = {
            "customerId": record["customerId"],
            "provisioningState": record["provisioningState"],
            "sku": {"name": record["sku"].lower(), "lastSkuUpdate": record["created"]},
            "retentionInDays": record["retentionInDays"],
            "workspaceCapping": {"dailyQuotaGb": record.get("dailyQuotaGb", -1.0), "quotaNextResetTime": record["created"],
                                 "dataIngestionStatus": "RespectQuota"},
            "publicNetworkAccessForIngestion": record.get("publicNetworkAccessForIngestion", "Enabled"),
            "publicNetworkAccessForQuery": record.get("publicNetworkAccessForQuery", "Enabled"),
            "features": dict({"legacy": 0, "searchVersion": 1, "enableLogAccessUsingOnlyResourcePermissions": True},
                             **record.get("features", {})),
            "createdDate": record["created"],
            "modifiedDate": record["modified"],
        }
        return {
            # The service answers the id in lower case (examples WorkspacesGet.json, WorkspacesCreate.json).
            "id": sub_prefix + "/resourcegroups/" + rest.lower(),
            "name": record["name"],
            "type": "Microsoft.OperationalInsights/workspaces",
            "location": record["location"],
            "tags": record.get("tags") or {},
            "etag": '"%s"' % record["etag"],
            "properties": properties,
        }

    def start_operation(self, kind, record):
        fault = self.lab.store.pick_fault("arm", "Workspaces_LRO", ("lro_failed",))
        op_id = lab_store.new_uuid()
        self.store.state["operations"][op_id] = {"kind": kind, "resource": record["id"], "polls": 0,
                                                 "started": time.time(), "done": False, "fail": bool(fault)}
        record["operation"] = op_id
        return op_id

    def operation_location(self, record, op_id):
        return self.url(record["id"] + "/operationresults/" + op_id, **{"api-version": "2025-07-01"})

    def apply_workspace_properties(self, record, body, creating):
        properties = body.get("properties") or {}
        if not isinstance(properties, dict):
            raise ArmError(400, "InvalidParameter", "'properties' must be an object.")
        sku = (properties.get("sku") or {}).get("name")
        if sku is not None:
            if str(sku).lower() not in WORKSPACE_SKUS:
                raise ArmError(400, "InvalidParameter", "The SKU '%s' is not valid. Valid SKUs are: %s."
                               % (sku, ", ".join(WORKSPACE_SKUS)))
            record["sku"] = str(sku).lower()
        elif creating:
            record["sku"] = "pergb2018"
        retention = properties.get("retentionInDays")
        if retention is not None:
            if not isinstance(retention, int) or not 30 <= retention <= 730:
                raise ArmError(400, "InvalidParameter", "retentionInDays must be between 30 and 730 days for the '%s' "
                               "SKU, got %r." % (record["sku"], retention))
            record["retentionInDays"] = retention
        elif creating:
            record["retentionInDays"] = 30
        capping = properties.get("workspaceCapping") or {}
        if "dailyQuotaGb" in capping:
            record["dailyQuotaGb"] = capping["dailyQuotaGb"]
        for key in ("publicNetworkAccessForIngestion", "publicNetworkAccessForQuery"):
            if key in properties:
                if properties[key] not in ("Enabled", "Disabled", "SecuredByPerimeter"):
                    raise ArmError(400, "InvalidParameter", "%s must be Enabled, Disabled or SecuredByPerimeter." % key)
                record[key] = properties[key]
        if isinstance(properties.get("features"), dict):
            record.setdefault("features", {}).update(properties["features"])
        if "tags" in body:
            record["tags"] = body.get("tags") or {}

    def ws_put(self, req):
        self.subscription(req)
        self.resource_group(req)
        body = req.json
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
        if not WORKSPACE_NAME.match(req.names["name"]):
            raise ArmError(400, "InvalidWorkspaceName", "The workspace name '%s' is invalid: it must be 4 to 63 "
                           "characters of letters, digits and hyphens, starting and ending with a letter or digit."
                           % req.names["name"])
        if "location" not in body:
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        check_location(body["location"], "Microsoft.OperationalInsights/workspaces")
        record = self.workspace(req, allow_missing=True)
        now = lab_store.iso()
        if record:
            if record.get("operation"):
                raise ArmError(409, "Conflict", "The workspace '%s' has an operation in progress; retry when it has "
                               "finished." % record["name"])
            if normalise_location(record["location"]) != normalise_location(body["location"]):
                raise ArmError(400, "InvalidParameter", "The location of workspace '%s' cannot be changed from '%s' "
                               "to '%s'." % (record["name"], record["location"], body["location"]))
            self.apply_workspace_properties(record, body, creating=False)
            record["modified"], record["etag"] = now, lab_store.new_uuid()
            if record["provisioningState"] == "Failed":
                # Putting a failed workspace again provisions it again.
                record["provisioningState"] = "Succeeded"
            return 200, self.render_ws(record), {}
        record = {"kind": "workspace", "id": self.ws_id(req), "name": req.names["name"],
                  "location": normalise_location(body["location"]), "customerId": lab_store.new_uuid(),
                  "keys": {"primary": lab_store.random_key(), "secondary": lab_store.random_key()},
                  "packs": {name: name in DEFAULT_ENABLED_PACKS for name, ignored in INTELLIGENCE_PACKS},
                  "provisioningState": "Creating", "created": now, "modified": now, "etag": lab_store.new_uuid(),
                  "tags": {}}
        self.apply_workspace_properties(record, body, creating=True)
        self.store.put(record["id"], record)
        op_id = self.start_operation("ws_create", record)
        # A real create answers 201 + Location (no Azure-AsyncOperation) with provisioningState Creating (ref. 0.4).
        headers = {"Location": self.operation_location(record, op_id),
                   "Retry-After": str(self.store.settings["lro_retry_after"])}
        return 201, self.render_ws(record), headers

    def ws_get(self, req):
        return 200, self.render_ws(self.workspace(req)), {}

    def ws_patch(self, req):
        record = self.workspace(req)
        if record.get("operation"):
            raise ArmError(409, "Conflict", "The workspace '%s' has an operation in progress." % record["name"])
        body = req.json
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
        self.apply_workspace_properties(record, body, creating=False)
        record["modified"], record["etag"] = lab_store.iso(), lab_store.new_uuid()
        return 200, self.render_ws(record), {}

    def ws_delete(self, req):
        record = self.workspace(req, allow_missing=True)
        if not record:
            return 204, None, {}
        if record.get("operation"):
            raise ArmError(409, "Conflict", "The workspace '%s' has an operation in progress." % record["name"])
        record["provisioningState"] = "Deleting"
        op_id = self.start_operation("ws_delete", record)
        return 202, None, {"Location": self.operation_location(record, op_id),
                           "Retry-After": str(self.store.settings["lro_retry_after"])}

    def ws_operation_result(self, req):
        self.subscription(req)
        self.resource_group(req)
        op = self.store.state["operations"].get(req.names["op"])
        if not op or op.get("resource", "").lower() != self.ws_id(req).lower():
            raise ArmError(404, "NotFound", "Operation '%s' was not found." % req.names["op"])
        if not op["done"]:
            op["polls"] += 1
            if op["polls"] >= int(self.store.settings["lro_polls"]) or \
                    time.time() - op["started"] >= float(self.store.settings["lro_seconds"]):
                self.finish_operation(op)
        if not op["done"]:
            return 202, None, {"Location": self.url(self.ws_id(req) + "/operationresults/" + req.names["op"],
                                                    **{"api-version": req.api_version}),
                               "Retry-After": str(self.store.settings["lro_retry_after"])}
        if op["fail"]:
            raise ArmError(400, "LabInjectedFailure", "The workspace operation ended in state Failed (a fault injected "
                           "by the lab).")
        if op["kind"] == "ws_create":
            record = self.store.get(op["resource"])
            return 200, self.render_ws(record), {}
        return 200, None, {}

    def operation_status(self, req):
        self.subscription(req)
        op = self.store.state["operations"].get(req.names["op"])
        if not op:
            raise ArmError(404, "NotFound", "Operation '%s' was not found." % req.names["op"])
        status = "InProgress" if not op["done"] else ("Failed" if op.get("fail") else "Succeeded")
        status_id = "/subscriptions/%s/locations/%s/operationStatuses/%s" % (
            req.names["sub"], req.names["loc"], req.names["op"])
        return 200, {"id": status_id,
                     "name": req.names["op"], "status": status, "startTime": lab_store.iso(),
                     "endTime": lab_store.iso()}, {}

    def ws_shared_keys(self, req):
        record = self.workspace(req)
        return 200, {"primarySharedKey": record["keys"]["primary"],
                     "secondarySharedKey": record["keys"]["secondary"]}, {}

    def ws_regenerate_keys(self, req):
        record = self.workspace(req)
        # The swagger says "Regenerates the shared keys": the lab renews both.
        record["keys"] = {"primary": lab_store.random_key(), "secondary": lab_store.random_key()}
        return 200, {"primarySharedKey": record["keys"]["primary"],
                     "secondarySharedKey": record["keys"]["secondary"]}, {}

    def packs_list(self, req):
        record = self.workspace(req)
        # A bare JSON array, not {"value": [...]} (IntelligencePacks.json, example WorkspacesListIntelligencePacks).
        return 200, [{"name": name, "enabled": bool(record["packs"].get(name)), "displayName": display}
                     for name, display in INTELLIGENCE_PACKS], {}

    def _set_pack(self, req, enabled):
        record = self.workspace(req)
        names = {n.lower(): n for n, ignored in INTELLIGENCE_PACKS}
        name = names.get(req.names["pack"].lower())
        if not name:
            raise ArmError(404, "NotFound", "Intelligence pack '%s' was not found (the lab knows: %s)."
                           % (req.names["pack"], ", ".join(sorted(names.values()))))
        record["packs"][name] = enabled
        return 200, None, {}

    def pack_enable(self, req):
        return self._set_pack(req, True)

    def pack_disable(self, req):
        return self._set_pack(req, False)

    # ---- linked services -----------------------------------------------------------------------------------------
    def ls_id(self, req):
        return self.ws_id(req) + "/linkedServices/" + req.names["ls"]

    def live_linked_service(self, resource_id):
        record = self.store.get(resource_id)
        if record and record.get("deleting_until") and time.time() >= record["deleting_until"]:
            self.store.delete(resource_id)
            self.lab.dirty = True
            return None
        return record

    def render_ls(self, record):
        ws_name = record["workspace"]
        sub_prefix, sep, rest = record["id"].partition("/resourceGroups/")
        properties = {"provisioningState": record["provisioningState"]}
        for key in ("resourceId", "writeAccessResourceId"):
            if record.get(key):
                properties[key] = record[key]
        return {"id": sub_prefix + "/resourcegroups/" + rest.lower(), "name": "%s/%s" % (ws_name, record["name"]),
                "type": "Microsoft.OperationalInsights/workspaces/linkedServices", "tags": record.get("tags") or {},
                "properties": properties}

    def ls_list(self, req):
        record = self.workspace(req)
        items = [self.live_linked_service(ls["id"]) for ls in self.store.children(record["id"], "linkedService")]
        return 200, {"value": [self.render_ls(ls) for ls in items if ls]}, {}

    def ls_get(self, req):
        self.workspace(req)
        record = self.live_linked_service(self.ls_id(req))
        if not record:
            not_found("Microsoft.OperationalInsights/workspaces/linkedServices",
                      "%s/%s" % (req.names["name"], req.names["ls"]), req.names["rg"])
        return 200, self.render_ls(record), {}

    def ls_put(self, req):
        workspace = self.workspace(req)
        body = req.json
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise ArmError(400, "InvalidParameter", "The linked service 'properties' are required.")
        name = {"automation": "Automation", "cluster": "Cluster"}.get(req.names["ls"].lower())
        if not name:
            raise ArmError(400, "InvalidParameter", "Linked service name '%s' is not supported; use 'Automation' or "
                           "'Cluster'." % req.names["ls"])
        properties = body["properties"]
        if name == "Automation":
            account_id = properties.get("resourceId") or ""
            account = self.store.get(account_id)
            if not account or account["kind"] != "automationAccount":
                raise ArmError(400, "InvalidParameter", "The Automation account '%s' given as resourceId was not found."
                               % account_id)
            for other in self.store.find("linkedService", resourceIdLower=account_id.lower()):
                if other["id"].lower() != self.ls_id(req).lower() and not other.get("deleting_until"):
                    raise ArmError(409, "Conflict", "The Automation account '%s' is already linked to workspace '%s'."
                                   % (account["name"], other["workspace"]))
        elif not properties.get("writeAccessResourceId"):
            raise ArmError(400, "InvalidParameter", "A Cluster linked service needs writeAccessResourceId.")
        existing = self.live_linked_service(self.ls_id(req))
        record = {"kind": "linkedService", "id": workspace["id"] + "/linkedServices/" + name, "name": name,
                  "workspace": workspace["name"], "resourceId": properties.get("resourceId"),
                  "resourceIdLower": (properties.get("resourceId") or "").lower(),
                  "writeAccessResourceId": properties.get("writeAccessResourceId"),
                  "provisioningState": "Succeeded", "tags": body.get("tags") or {}}
        self.store.put(record["id"], record)
        return (200 if existing and not existing.get("deleting_until") else 201), self.render_ls(record), {}

    def ls_delete(self, req):
        self.workspace(req)
        record = self.live_linked_service(self.ls_id(req))
        if not record:
            return 204, None, {}
        # The service answers 200 at once while the link still exists for a while (Terraform's linked service
        # resource works around this by polling GET until 404; reference 1.2).
        if not record.get("deleting_until"):
            record["deleting_until"] = time.time() + float(self.store.settings["linked_service_linger_seconds"])
            record["provisioningState"] = "Deleting"
        return 200, self.render_ls(record), {}

    # ---- automation accounts -------------------------------------------------------------------------------------
    def aa_id(self, req):
        return self.rg_id(req) + "/providers/Microsoft.Automation/automationAccounts/" + req.names["name"]

    def account(self, req, allow_missing=False):
        self.subscription(req)
        self.resource_group(req)
        record = self.store.get(self.aa_id(req))
        if not record and not allow_missing:
            raise ArmError(404, "ResourceNotFound", "The Resource 'Microsoft.Automation/automationAccounts/%s' under "
                           "resource group '%s' was not found. For more details please go to "
                           "https://aka.ms/ARMResourceNotFoundFix" % (req.names["name"], req.names["rg"]))
        return record

    def registration_url(self, record):
        return "%s/agentsvc/accounts/%s" % (self.lab.base_url, record["accountId"])

    def render_aa(self, record):
        return {
            "id": record["id"], "name": record["name"], "type": "Microsoft.Automation/AutomationAccounts",
            "location": record["location"], "tags": record.get("tags") or {},
            "systemData": system_data(record, self.store.state["client_id"]),
            "properties": {
                "sku": {"name": record["sku"]}, "state": "Ok", "creationTime": record["created"],
                "lastModifiedTime": record["modified"], "lastModifiedBy": "",
                "publicNetworkAccess": record.get("publicNetworkAccess", True),
                "disableLocalAuth": record.get("disableLocalAuth", False),
                "encryption": {"keySource": "Microsoft.Automation", "identity": {}},
                # V2 workers: the job runtime data service of the account (not served by the lab).
                "automationHybridServiceUrl": "%s/jrds/automationAccounts/%s" % (self.lab.base_url, record["accountId"]),
                # Undocumented but present in real answers: the agent registration service (reference 1.3).
                "RegistrationUrl": self.registration_url(record),
            },
        }

    def aa_get(self, req):
        return 200, self.render_aa(self.account(req)), {}

    def _aa_properties(self, record, body):
        properties = body.get("properties") or {}
        sku = (properties.get("sku") or {}).get("name")
        if sku is not None:
            if str(sku).lower() not in ("free", "basic"):
                raise ArmError(400, "BadRequest", "Invalid sku name '%s'; valid names are Free and Basic." % sku, flat=True)
            record["sku"] = "Free" if str(sku).lower() == "free" else "Basic"
        for key in ("publicNetworkAccess", "disableLocalAuth"):
            if key in properties:
                record[key] = bool(properties[key])
        if "tags" in body:
            record["tags"] = body.get("tags") or {}

    def aa_put(self, req):
        self.subscription(req)
        self.resource_group(req)
        body = req.json
        if not isinstance(body, dict):
            raise ArmError(400, "BadRequest", "The request content was invalid and could not be deserialized.", flat=True)
        if not ACCOUNT_NAME.match(req.names["name"]):
            raise ArmError(400, "BadRequest", "Invalid Automation account name '%s': use 6 to 50 letters, digits and "
                           "hyphens, starting with a letter or digit and ending with one." % req.names["name"], flat=True)
        if "location" not in body:
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        check_location(body["location"], "Microsoft.Automation/automationAccounts")
        record = self.account(req, allow_missing=True)
        now = lab_store.iso()
        if record:
            self._aa_properties(record, body)
            record["modified"] = now
            return 200, self.render_aa(record), {}
        record = seed_account(self.store, self.aa_id(req), req.names["name"], body["location"])
        self._aa_properties(record, body)
        return 201, self.render_aa(record), {}

    def aa_patch(self, req):
        record = self.account(req)
        self._aa_properties(record, req.json or {})
        record["modified"] = lab_store.iso()
        return 200, self.render_aa(record), {}

    def aa_delete(self, req):
        record = self.account(req, allow_missing=True)
        if not record:
            return 204, None, {}
        self.store.delete_tree(record["id"])
        return 200, None, {}

    def render_registration(self, record):
        endpoint = self.registration_url(record)
        keys = record["keys"]
        meta = ("instance of MSFT_WebDownloadManager as $MSFT_WebDownloadManager1ref\r\n{\r\n ResourceID = "
                "\"[ConfigurationRepositoryWeb]AzureAutomationDSC\";\r\n RegistrationKey = \"%s\";\r\n ServerURL = "
                "\"%s\";\r\n};\r\n" % (keys["primary"], endpoint))
        return {"id": record["id"] + "/agentRegistrationInformation/" + endpoint,
                "keys": {"primary": keys["primary"], "secondary": keys["secondary"]},
                "endpoint": endpoint, "dscMetaConfiguration": meta}

    def aa_registration(self, req):
        return 200, self.render_registration(self.account(req)), {}

    def aa_regenerate_key(self, req):
        record = self.account(req)
        key_name = (req.json or {}).get("keyName")
        if key_name not in ("primary", "secondary"):
            raise ArmError(400, "BadRequest", "keyName must be 'primary' or 'secondary'.", flat=True)
        record["keys"][key_name] = lab_store.random_key()
        return 200, self.render_registration(record), {}

    def aa_list_keys(self, req):
        record = self.account(req)
        return 200, {"keys": [
            {"KeyName": "Primary", "Permissions": "Full", "Value": record["keys"]["primary"]},
            {"KeyName": "Secondary", "Permissions": "Full", "Value": record["keys"]["secondary"]},
        ]}, {}

    def aa_linked_workspace(self, req):
        record = self.account(req)
        for link in self.store.find("linkedService", resourceIdLower=record["id"].lower()):
            if self.live_linked_service(link["id"]):
                return 200, {"id": link["id"].rsplit("/linkedServices/", 1)[0]}, {}
        raise ArmError(404, "NotFound", "The Automation account '%s' is not linked to a workspace." % record["name"],
                       flat=True)

    # ---- hybrid runbook worker groups ----------------------------------------------------------------------------
    def group_id(self, req):
        return self.aa_id(req) + "/hybridRunbookWorkerGroups/" + req.names["group"]

    def group(self, req):
        self.account(req)
        record = self.store.get(self.group_id(req))
        if not record:
            raise ArmError(404, "NotFound", "Hybrid Runbook Worker group '%s' not found." % req.names["group"], flat=True)
        return record

    def render_group(self, record, account):
        properties = {"groupType": record["groupType"]}
        if record.get("credential"):
            properties["credential"] = {"name": record["credential"]}
        return {"id": record["id"], "name": record["name"],
                "type": "Microsoft.Automation/AutomationAccounts/HybridRunbookWorkerGroups",
                "location": account["location"], "properties": properties,
                "systemData": system_data(record, self.store.state["client_id"])}

    def _credential(self, body):
        credential = ((body or {}).get("properties") or {}).get("credential")
        if credential is None:
            return None
        if not isinstance(credential, dict) or not credential.get("name"):
            raise ArmError(400, "BadRequest", "properties.credential must be an object with a name.", flat=True)
        return credential["name"]

    def page(self, req, items, render):
        size = max(1, int(self.store.settings["page_size"]))
        try:
            start = int(req.query.get("$skiptoken") or 0)
        except ValueError as exc:
            raise ArmError(400, "BadRequest", "Invalid $skiptoken.", flat=True) from exc
        body = {"value": [render(i) for i in items[start:start + size]]}
        if start + size < len(items):
            query = {"api-version": req.api_version, "$skiptoken": str(start + size)}
            if req.query.get("$filter"):
                query["$filter"] = req.query["$filter"]
            body["nextLink"] = self.lab.base_url + "/" + "/".join(urllib.parse.quote(s) for s in req.segments) + "?" + \
                urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        return body

    def filter_items(self, req, items, fields):
        """The ``$filter`` forms the lab understands: ``<field> eq '<value>'`` clauses joined by ``and``."""
        text = req.query.get("$filter")
        if not text:
            return items
        for clause in re.split(r"\s+and\s+", text.strip()):
            match = re.match(r"^([A-Za-z/]+)\s+eq\s+'([^']*)'$", clause.strip())
            if not match or match.group(1) not in fields:
                raise ArmError(400, "BadRequest", "The $filter '%s' is not supported by the lab (it understands "
                               "\"<field> eq '<value>'\" joined by 'and', fields: %s)." % (text, ", ".join(fields)),
                               flat=True)
            getter = fields[match.group(1)]
            items = [i for i in items if str(getter(i)).lower() == match.group(2).lower()]
        return items

    def group_list(self, req):
        account = self.account(req)
        items = sorted(self.store.children(account["id"], "workerGroup"), key=lambda g: g["name"].lower())
        items = self.filter_items(req, items, {"name": lambda g: g["name"],
                                               "properties/groupType": lambda g: g["groupType"]})
        return 200, self.page(req, items, lambda g: self.render_group(g, account)), {}

    def group_get(self, req):
        record = self.group(req)
        return 200, self.render_group(record, self.account(req)), {}

    def group_put(self, req):
        account = self.account(req)
        if not GROUP_NAME.match(req.names["group"]):
            raise ArmError(400, "BadRequest", "Invalid Hybrid Runbook Worker group name '%s'." % req.names["group"],
                           flat=True)
        credential = self._credential(req.json)
        record = self.store.get(self.group_id(req))
        now = lab_store.iso()
        if record:
            record["credential"], record["modified"] = credential, now
            return 200, self.render_group(record, account), {}
        record = new_group(self.store, account, req.names["group"], credential)
        return 201, self.render_group(record, account), {}

    def group_patch(self, req):
        record = self.group(req)
        record["credential"] = self._credential(req.json)
        record["modified"] = lab_store.iso()
        return 200, self.render_group(record, self.account(req)), {}

    def group_delete(self, req):
        record = self.group(req)
        workers = self.store.children(record["id"], "worker")
        if workers:
            # Lab rule (documented in the lab README): workers go first, as the Automation docs tell users to.
            raise ArmError(400, "BadRequest", "Hybrid Runbook Worker group '%s' still has %d worker(s); remove them "
                           "first." % (record["name"], len(workers)), flat=True)
        self.store.delete(record["id"])
        # 200 only: the SDK raises on a 204 here (reference 1.3).
        return 200, None, {}

    # ---- hybrid runbook workers ----------------------------------------------------------------------------------
    def worker_id(self, req):
        return self.group_id(req) + "/hybridRunbookWorkers/" + req.names["worker"]

    def render_worker(self, record, account):
        return {"id": record["id"], "name": record["name"],
                "type": "Microsoft.Automation/AutomationAccounts/HybridRunbookWorkerGroups/HybridRunbookWorkers",
                "location": account["location"],
                "properties": {"ip": record.get("ip") or "", "registeredDateTime": record["registeredDateTime"],
                               "lastSeenDateTime": record["lastSeenDateTime"],
                               "vmResourceId": record.get("vmResourceId") or "",
                               "workerName": record["workerName"], "workerType": record["workerType"]},
                "systemData": system_data(record, self.store.state["client_id"])}

    def worker_list(self, req):
        group = self.group(req)
        account = self.account(req)
        items = sorted(self.store.children(group["id"], "worker"), key=lambda w: w["name"].lower())
        items = self.filter_items(req, items, {"name": lambda w: w["name"],
                                               "properties/workerName": lambda w: w["workerName"],
                                               "properties/workerType": lambda w: w["workerType"]})
        return 200, self.page(req, items, lambda w: self.render_worker(w, account)), {}

    def worker(self, req):
        self.group(req)
        record = self.store.get(self.worker_id(req))
        if not record:
            raise ArmError(404, "NotFound", "Hybrid Runbook Worker '%s' not found." % req.names["worker"], flat=True)
        return record

    def worker_get(self, req):
        record = self.worker(req)
        return 200, self.render_worker(record, self.account(req)), {}

    def _vm_resource_id(self, body):
        value = ((body or {}).get("properties") or {}).get("vmResourceId")
        if value is not None and not re.match(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                                              r"(Microsoft\.Compute/virtualMachines|Microsoft\.HybridCompute/machines)/"
                                              r"[^/]+$", value, re.IGNORECASE):
            raise ArmError(400, "BadRequest", "vmResourceId '%s' is not an Azure VM or Arc machine resource id." % value,
                           flat=True)
        return value

    def worker_put(self, req):
        group = self.group(req)
        account = self.account(req)
        if not GUID.match(req.names["worker"]):
            raise ArmError(400, "BadRequest", "The Hybrid Runbook Worker id '%s' must be a GUID." % req.names["worker"],
                           flat=True)
        vm_id = self._vm_resource_id(req.json)
        for other in self.store.find("worker", accountId=account["accountId"]):
            if other["name"].lower() == req.names["worker"].lower() and other["id"].lower() != self.worker_id(req).lower():
                raise ArmError(409, "Conflict", "Hybrid Runbook Worker '%s' already exists in group '%s'."
                               % (other["name"], other["group"]), flat=True)
        record = self.store.get(self.worker_id(req))
        if record:
            if vm_id and (record.get("vmResourceId") or "").lower() != vm_id.lower():
                raise ArmError(400, "BadRequest", "The vmResourceId of Hybrid Runbook Worker '%s' cannot be changed."
                               % record["name"], flat=True)
            return 200, self.render_worker(record, account), {}
        if not vm_id:
            raise ArmError(400, "BadRequest", "properties.vmResourceId is required to create a Hybrid Runbook Worker.",
                           flat=True)
        now = lab_store.iso()
        record = {"kind": "worker", "id": group["id"] + "/hybridRunbookWorkers/" + req.names["worker"],
                  "name": req.names["worker"], "group": group["name"], "accountId": account["accountId"],
                  "workerType": "HybridV2", "workerName": vm_id.rsplit("/", 1)[-1], "ip": "", "vmResourceId": vm_id,
                  "registeredDateTime": now, "lastSeenDateTime": now, "created": now, "modified": now}
        self.store.put(record["id"], record)
        return 201, self.render_worker(record, account), {}

    def worker_patch(self, req):
        record = self.worker(req)
        vm_id = self._vm_resource_id(req.json)
        if vm_id and (record.get("vmResourceId") or "").lower() != vm_id.lower():
            raise ArmError(400, "BadRequest", "The vmResourceId of Hybrid Runbook Worker '%s' cannot be changed."
                           % record["name"], flat=True)
        return 200, self.render_worker(record, self.account(req)), {}

    def worker_delete(self, req):
        self.group(req)
        record = self.store.get(self.worker_id(req))
        if not record:
            return 204, None, {}
        self.store.delete(record["id"])
        return 200, None, {}

    def worker_move(self, req):
        record = self.worker(req)
        target_name = (req.json or {}).get("hybridRunbookWorkerGroupName")
        if not target_name:
            raise ArmError(400, "BadRequest", "hybridRunbookWorkerGroupName is required.", flat=True)
        account = self.account(req)
        target = self.store.get(account["id"] + "/hybridRunbookWorkerGroups/" + target_name)
        if not target:
            raise ArmError(404, "NotFound", "Hybrid Runbook Worker group '%s' not found." % target_name, flat=True)
        self.store.delete(record["id"])
        record["id"] = target["id"] + "/hybridRunbookWorkers/" + record["name"]
        record["group"], record["modified"] = target["name"], lab_store.iso()
        self.store.put(record["id"], record)
        return 200, None, {}

    # ---- OperationsManagement solutions --------------------------------------------------------------------------
    def solution_id(self, req):
        return self.rg_id(req) + "/providers/Microsoft.OperationsManagement/solutions/" + req.names["name"]

    def render_solution(self, record):
        return {"id": record["id"], "name": record["name"], "type": "Microsoft.OperationsManagement/solutions",
                "location": record["location"], "tags": record.get("tags") or {}, "plan": record["plan"],
                "properties": record["properties"]}

    def solution_get(self, req):
        self.subscription(req)
        self.resource_group(req)
        record = self.store.get(self.solution_id(req))
        if not record:
            not_found("Microsoft.OperationsManagement/solutions", req.names["name"], req.names["rg"])
        return 200, self.render_solution(record), {}

    def solution_put(self, req):
        self.subscription(req)
        self.resource_group(req)
        body = req.json
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise ArmError(400, "InvalidRequestContent", "The solution 'properties' are required.")
        if "location" not in body:
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        check_location(body["location"], "Microsoft.OperationsManagement/solutions")
        plan = body.get("plan") or {}
        workspace_id = body["properties"].get("workspaceResourceId") or ""
        workspace = self.store.get(workspace_id)
        if not workspace or workspace["kind"] != "workspace":
            raise ArmError(400, "InvalidParameter", "The workspace '%s' given as workspaceResourceId was not found."
                           % workspace_id)
        # Gallery solutions are named "<Pack>(<workspace>)" with plan product "OMSGallery/<Pack>" and publisher
        # Microsoft, and live in the workspace's resource group (reference 1.4).
        match = re.match(r"^([A-Za-z0-9]+)\((.+)\)$", req.names["name"])
        packs = {n.lower(): n for n, ignored in INTELLIGENCE_PACKS}
        if not match or match.group(2).lower() != workspace["name"].lower() or match.group(1).lower() not in packs:
            raise ArmError(400, "InvalidParameter", "Solution name '%s' must be '<solution>(%s)' naming a known "
                           "solution." % (req.names["name"], workspace["name"]))
        pack = packs[match.group(1).lower()]
        if plan.get("product", "").lower() != ("OMSGallery/" + pack).lower() or plan.get("publisher") != "Microsoft":
            raise ArmError(400, "InvalidParameter", "The plan of solution '%s' must have publisher 'Microsoft' and "
                           "product 'OMSGallery/%s'." % (req.names["name"], pack))
        if workspace["id"].lower().split("/providers/")[0] != self.rg_id(req).lower():
            raise ArmError(400, "InvalidParameter", "The solution must be in the resource group of its workspace.")
        check = body["properties"]
        existing = self.store.get(self.solution_id(req))
        properties = {"workspaceResourceId": workspace_id, "provisioningState": "Succeeded"}
        for key in ("containedResources", "referencedResources"):
            if key in check:
                properties[key] = check[key]
        record = {"kind": "solution", "id": self.solution_id(req), "name": req.names["name"],
                  "location": body["location"], "tags": body.get("tags") or {}, "pack": pack,
                  "plan": {"name": plan.get("name") or req.names["name"], "publisher": plan.get("publisher"),
                           "product": plan.get("product"), "promotionCode": plan.get("promotionCode") or ""},
                  "properties": properties}
        self.store.put(record["id"], record)
        workspace["packs"][pack] = True
        return (200 if existing else 201), self.render_solution(record), {}

    def solution_delete(self, req):
        self.subscription(req)
        self.resource_group(req)
        record = self.store.delete(self.solution_id(req))
        if record:
            workspace = self.store.get(record["properties"]["workspaceResourceId"])
            if workspace and workspace["kind"] == "workspace":
                workspace["packs"][record["pack"]] = False
        return 200, None, {}


def seed_account(store, resource_id, name, location):
    now = lab_store.iso()
    record = {"kind": "automationAccount", "id": resource_id, "name": name, "location": location,
              "accountId": lab_store.new_uuid(), "sku": "Basic", "tags": {},
              "keys": {"primary": lab_store.random_key(), "secondary": lab_store.random_key()},
              "created": now, "modified": now}
    store.put(resource_id, record)
    return record


def new_group(store, account, name, credential=None):
    now = lab_store.iso()
    record = {"kind": "workerGroup", "id": account["id"] + "/hybridRunbookWorkerGroups/" + name, "name": name,
              "accountId": account["accountId"], "groupType": "User", "credential": credential,
              "created": now, "modified": now}
    store.put(record["id"], record)
    return record
