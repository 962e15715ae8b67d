# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Machines that can carry the Hybrid Worker extension, and that extension's desired state.

Pure functions (no Azure calls) shared by ``arc_machine_info`` and ``arc_machine_extension``. Machines are told apart
by their resource id: ``MACHINE_PROVIDERS`` maps the provider part of the id to what differs between Azure Arc
machines (``Microsoft.HybridCompute/machines``) and Azure VMs (``Microsoft.Compute/virtualMachines``): the SDK client
and operation group, and whether the collection supports it yet. Only Arc is supported today; an Azure VM id is
refused with a sentence saying so, so adding VMs later means filling in their row, not changing the option names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The extension of extension-based (V2) Hybrid Runbook Workers (reference windows-host.md 5.1).
HYBRID_WORKER_PUBLISHER = "Microsoft.Azure.Automation.HybridWorker"
HYBRID_WORKER_TYPES = {"windows": "HybridWorkerForWindows", "linux": "HybridWorkerForLinux"}
DEFAULT_EXTENSION_NAME = "HybridWorkerExtension"
DEFAULT_TYPE_HANDLER_VERSION = "1.1"

MACHINE_PROVIDERS = {
    "microsoft.hybridcompute/machines": dict(kind="arc", label="Arc-enabled server", supported=True),
    "microsoft.compute/virtualmachines": dict(kind="azure_vm", label="Azure VM", supported=False),
}
MACHINE_ID_PATTERN = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<resource_group>[^/]+)/providers/"
    r"(?P<provider>[^/]+/[^/]+)/(?P<name>[^/]+)/?$", re.IGNORECASE)
# machineName of the Microsoft.HybridCompute swagger (2026-09-01).
ARC_MACHINE_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9-_.]{1,54}$")
# "host:port" or a URL with a port (the extension's ProxySettings.ProxyServer).
PROXY_SERVER_PATTERN = re.compile(r"^(https?://)?[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}/?$")
IN_PROGRESS_STATES = ("creating", "updating", "deleting")


def parse_machine_id(machine_id):
    """``dict(kind, label, supported, subscription_id, resource_group, name)`` for a machine resource id, or None."""
    match = MACHINE_ID_PATTERN.match(machine_id or "")
    if not match:
        return None
    provider = MACHINE_PROVIDERS.get(match.group("provider").lower())
    if provider is None:
        return None
    return dict(provider, subscription_id=match.group("subscription"), resource_group=match.group("resource_group"),
                name=match.group("name"))


def validate_machine_id(machine_id):
    parsed = parse_machine_id(machine_id)
    if parsed is None:
        return ("machine_id '%s' is not the resource id of an Arc-enabled server"
                " (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.HybridCompute/machines/<name>)" % machine_id)
    if not parsed["supported"]:
        return ("machine_id '%s' is an %s; this module supports Arc-enabled servers (Microsoft.HybridCompute/machines)"
                " only so far" % (machine_id, parsed["label"]))
    return validate_machine_name(parsed["name"], "machine_id")


def validate_machine_name(name, option="machine_name"):
    if not name or not ARC_MACHINE_NAME_PATTERN.match(name):
        return "%s '%s' is not a valid Arc machine name (1-54 letters, digits, '-', '_' or '.')" % (option, name)
    return None


def validate_proxy_server(value):
    if value and not PROXY_SERVER_PATTERN.match(value):
        return "proxy_server '%s' must be host:port (for example 10.0.0.10:8080 or http://proxy.contoso.com:3128)" % value
    return None


def major_version(version):
    """'1.1.13' -> '1'; None for an empty version."""
    text = str(version or "").strip()
    return text.split(".", 1)[0] if text else None


def desired_settings(hybrid_service_url, proxy_server=None, proxy_user=None):
    """The extension's public settings (reference windows-host.md 5.1: AutomationAccountURL, ProxySettings)."""
    settings = {"AutomationAccountURL": hybrid_service_url}
    if proxy_server:
        proxy = {"ProxyServer": proxy_server}
        if proxy_user:
            proxy["UserName"] = proxy_user
        settings["ProxySettings"] = proxy
    return settings


def desired_extension(params, hybrid_service_url, location):
    """The REST body of the extension (without protected settings)."""
    return {
        "location": location,
        "properties": {
            "publisher": HYBRID_WORKER_PUBLISHER,
            "type": HYBRID_WORKER_TYPES[params["os_type"]],
            "typeHandlerVersion": params["type_handler_version"],
            "autoUpgradeMinorVersion": params["auto_upgrade_minor_version"],
            "enableAutomaticUpgrade": params["enable_automatic_upgrade"],
            "settings": desired_settings(hybrid_service_url, params.get("proxy_server"), params.get("proxy_user")),
        },
    }


def _same_url(left, right):
    return str(left or "").strip().rstrip("/").lower() == str(right or "").strip().rstrip("/").lower()


def _same_settings(current, desired):
    current, desired = dict(current or {}), dict(desired or {})
    if not _same_url(current.pop("AutomationAccountURL", None), desired.pop("AutomationAccountURL", None)):
        return False
    return current == desired


def extension_differences(current, desired):
    """Names of the properties that differ (protected settings are never compared: the service never returns them).

    ``current`` and ``desired`` are REST dicts. The type handler version is compared by major version: the service
    answers the full installed version ("1.1.13") and upgrades minors itself.
    """
    have, want = current.get("properties") or {}, desired["properties"]
    differences = []
    if str(have.get("publisher") or "").lower() != want["publisher"].lower():
        differences.append("publisher")
    if str(have.get("type") or "").lower() != want["type"].lower():
        differences.append("type")
    if major_version(have.get("typeHandlerVersion")) != major_version(want["typeHandlerVersion"]):
        differences.append("typeHandlerVersion")
    for key in ("autoUpgradeMinorVersion", "enableAutomaticUpgrade"):
        if bool(have.get(key)) != bool(want[key]):
            differences.append(key)
    if not _same_settings(have.get("settings"), want["settings"]):
        differences.append("settings")
    if str(have.get("provisioningState") or "").lower() == "failed":
        differences.append("provisioningState")
    return differences


def extension_view(extension, machine_id=None):
    """The module's view of an extension REST dict (public settings only)."""
    if not extension:
        return {}
    properties = extension.get("properties") or {}
    status = (properties.get("instanceView") or {}).get("status") or {}
    return dict(
        id=extension.get("id"),
        name=extension.get("name"),
        machine_id=machine_id or (extension.get("id") or "").rsplit("/extensions/", 1)[0] or None,
        location=extension.get("location"),
        publisher=properties.get("publisher"),
        type=properties.get("type"),
        type_handler_version=properties.get("typeHandlerVersion"),
        auto_upgrade_minor_version=properties.get("autoUpgradeMinorVersion"),
        enable_automatic_upgrade=properties.get("enableAutomaticUpgrade"),
        settings=properties.get("settings") or {},
        provisioning_state=properties.get("provisioningState"),
        status=dict(code=status.get("code"), level=status.get("level"), display_status=status.get("displayStatus"),
                    message=status.get("message"), time=status.get("time")),
    )


def diff_view(view):
    keys = ("publisher", "type", "type_handler_version", "auto_upgrade_minor_version", "enable_automatic_upgrade",
            "settings", "provisioning_state")
    return dict((key, view.get(key)) for key in keys) if view else {}


def machine_view(machine, extensions=None):
    """The module's view of a machine REST dict."""
    properties = machine.get("properties") or {}
    parsed = parse_machine_id(machine.get("id")) or {}
    view = dict(
        id=machine.get("id"),
        name=machine.get("name"),
        resource_group=parsed.get("resource_group"),
        location=machine.get("location"),
        tags=machine.get("tags") or {},
        status=properties.get("status"),
        last_status_change=properties.get("lastStatusChange"),
        provisioning_state=properties.get("provisioningState"),
        agent_version=properties.get("agentVersion"),
        os_name=properties.get("osName"),
        os_type=properties.get("osType"),
        os_version=properties.get("osVersion"),
        os_sku=properties.get("osSku"),
        computer_name=(properties.get("osProfile") or {}).get("computerName"),
        dns_fqdn=properties.get("dnsFqdn"),
        domain_name=properties.get("domainName"),
        vm_id=properties.get("vmId"),
        vm_uuid=properties.get("vmUuid"),
        identity_principal_id=(machine.get("identity") or {}).get("principalId"),
    )
    if extensions is not None:
        view["extensions"] = [extension_view(e, machine.get("id")) for e in extensions]
    return view


def is_in_progress(extension):
    return str(((extension or {}).get("properties") or {}).get("provisioningState") or "").lower() in IN_PROGRESS_STATES
