# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure functions shared by the Azure modules: name rules, locations, resource ids, times, comparisons.

Nothing here talks to Azure, so modules can validate every argument before the first request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
import uuid

# Microsoft.Automation/common/v1/definitions.json: ResourceGroupNameParameter and AutomationAccountNameParameter.
RESOURCE_GROUP_PATTERN = re.compile(r"^[-\w._()]{1,90}$")
AUTOMATION_ACCOUNT_PATTERN = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9]{4,48}[A-Za-z0-9]$")
# operationalinsights/resource-manager/common/v1/types.json: WorkspaceNameParameter (4 to 63 characters).
WORKSPACE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$")
# The worker group swagger sets no pattern; these characters are refused in group names (ARM's reserved URL
# characters, plus '.' and '+', which the Automation service rejects in worker group names).
GROUP_FORBIDDEN = re.compile(r"[<>%&:\\?/#*.+]")
GUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
VM_RESOURCE_ID_PATTERN = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<resource_group>[^/]+)/providers/"
    r"(?P<provider>Microsoft\.Compute/virtualMachines|Microsoft\.HybridCompute/machines)/(?P<name>[^/]+)$",
    re.IGNORECASE,
)
# Computer names go into a KQL string literal; NetBIOS/DNS host names never need more than these characters.
COMPUTER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")

# Log Analytics pricing tiers (Workspaces.json WorkspaceSkuNameEnum) that can still be chosen for a workspace.
WORKSPACE_SKUS = ["Free", "Standard", "Premium", "PerNode", "PerGB2018", "Standalone", "CapacityReservation"]
RETENTION_RANGE = (30, 730)
FREE_TIER_RETENTION = 7

# Region names ARM accepts in `location` (az account list-locations for the public, US Government and China clouds).
KNOWN_LOCATIONS = frozenset("""
australiacentral australiacentral2 australiaeast australiasoutheast austriaeast belgiumcentral brazilsouth
brazilsoutheast canadacentral canadaeast centralindia centralus chilecentral eastasia eastus eastus2 francecentral
francesouth germanynorth germanywestcentral indonesiacentral israelcentral italynorth japaneast japanwest jioindiacentral
jioindiawest koreacentral koreasouth malaysiawest mexicocentral newzealandnorth northcentralus northeurope norwayeast
norwaywest polandcentral qatarcentral southafricanorth southafricawest southcentralus southeastasia southindia
spaincentral swedencentral swedensouth switzerlandnorth switzerlandwest uaecentral uaenorth uksouth ukwest
westcentralus westeurope westindia westus westus2 westus3
usgovarizona usgovtexas usgovvirginia usdodcentral usdodeast
chinaeast chinaeast2 chinaeast3 chinanorth chinanorth2 chinanorth3
""".split())


def normalize_location(location):
    """'West Europe' and 'westeurope' are the same region to ARM."""
    return re.sub(r"\s+", "", location or "").lower()


def validate_location(location):
    if normalize_location(location) not in KNOWN_LOCATIONS:
        return "location '%s' is not an Azure region (expected a name such as westeurope or eastus2)" % location
    return None


def validate_resource_group(name):
    if not name or not RESOURCE_GROUP_PATTERN.match(name) or name.endswith("."):
        return ("resource_group '%s' is not a valid resource group name (1-90 letters, digits, '-', '_', '.', '(', ')',"
                " not ending with '.')" % name)
    return None


def validate_automation_account(name, option="automation_account"):
    if not name or not AUTOMATION_ACCOUNT_PATTERN.match(name):
        return ("%s '%s' is not a valid Automation account name (6-50 letters, digits or '-',"
                " starting and ending with a letter or digit)" % (option, name))
    return None


def validate_workspace_name(name, option="workspace_name"):
    if not name or not WORKSPACE_PATTERN.match(name):
        return ("%s '%s' is not a valid Log Analytics workspace name (4-63 letters, digits or '-',"
                " starting and ending with a letter or digit)" % (option, name))
    return None


def validate_group_name(name, option="name"):
    if not name or len(name) > 128 or GROUP_FORBIDDEN.search(name) or name != name.strip():
        return ("%s '%s' is not a valid hybrid worker group name (1-128 characters, none of <>%%&:\\?/#*.+,"
                " no leading or trailing space)" % (option, name))
    return None


def validate_vm_resource_id(resource_id):
    if not resource_id or not VM_RESOURCE_ID_PATTERN.match(resource_id):
        return ("vm_resource_id '%s' is not the resource id of an Azure VM or Arc-enabled server"
                " (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/virtualMachines/<name>"
                " or .../Microsoft.HybridCompute/machines/<name>)" % resource_id)
    return None


def validate_worker_id(worker_id):
    if not worker_id or not GUID_PATTERN.match(worker_id):
        return "worker_id '%s' is not a GUID" % worker_id
    return None


def validate_computer_name(name):
    if not name or not COMPUTER_NAME_PATTERN.match(name):
        return "computer name '%s' may only contain letters, digits, '.', '_' and '-'" % name
    return None


def validate_at_least_one(value, option):
    if value < 1:
        return "%s must be at least 1, got %d" % (option, value)
    return None


# The longest look-back the heartbeat checks accept: 30 days.
MAX_HEARTBEAT_AGE_MINUTES = 60 * 24 * 30


def validate_heartbeat_max_age(value, option="max_age_minutes"):
    if not 1 <= value <= MAX_HEARTBEAT_AGE_MINUTES:
        return "%s must be between 1 and %d, got %d" % (option, MAX_HEARTBEAT_AGE_MINUTES, value)
    return None


def collect_errors(*errors):
    """The non-empty messages, joined into one sentence list (None when all passed)."""
    found = [e for e in errors if e]
    return "; ".join(found) if found else None


def worker_id_for_vm(vm_resource_id):
    """A stable worker id for a VM: the same VM always maps to the same GUID, whatever the id's letter case."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "azure-resource:" + vm_resource_id.strip().lower()))


def same_id(left, right):
    """ARM resource ids and names are case-insensitive."""
    return (left or "").strip().rstrip("/").lower() == (right or "").strip().rstrip("/").lower()


def canonical_choice(value, choices):
    """The spelling from ``choices`` of a value the service echoed in another case (SKU 'pergb2018')."""
    for choice in choices:
        if value is not None and choice.lower() == str(value).lower():
            return choice
    return value


def parse_time(value):
    """An ISO 8601 time from Azure (any number of fractional digits, 'Z' or offset) as an aware datetime, or None."""
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    text = str(value).strip().replace("Z", "+00:00").replace("z", "+00:00")
    match = re.match(r"^(.*?T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", text)
    if match:
        fraction = (match.group(2) or "")[:7].ljust(7, "0") if match.group(2) else ""
        text = match.group(1) + (fraction[:7] if fraction else "") + (match.group(3) or "")
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def age_minutes(value, now):
    """Minutes since ``value`` (None if the time is missing or unreadable)."""
    moment = parse_time(value)
    if moment is None:
        return None
    return round((now - moment).total_seconds() / 60.0, 1)


def is_stale(last_seen, now, threshold_minutes):
    """A worker that never reported, or not within the threshold, is stale."""
    age = age_minutes(last_seen, now)
    return age is None or age > threshold_minutes


def tags_changes(current, desired, purge):
    """The tags to send, or None when nothing changes. ``purge`` drops tags not in ``desired``."""
    if desired is None:
        return None
    current = dict(current or {})
    wanted = dict(desired) if purge else dict(current, **desired)
    return wanted if wanted != current else None
