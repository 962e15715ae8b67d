# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: hybrid_workers
short_description: Hybrid Runbook Workers of an Azure Automation account as inventory hosts
version_added: 0.1.0
description:
  - Adds one host per Hybrid Runbook Worker that Azure knows in an Automation account, agent-based (V1) and
    extension-based (V2) alike, and one group per worker group.
  - Host variables tell what Azure knows about the worker (see the list below), so that this source can run next to
    a static inventory to find servers that Azure has and the inventory lacks, and the reverse.
  - "Host variables, named C(azure_hybrid_worker_*) so that they never override the inventory's own
    C(hybrid_runbook_worker_*) settings: C(azure_hybrid_worker_name) (as Azure spells it), C(azure_hybrid_worker_id),
    C(azure_hybrid_worker_ip), C(azure_hybrid_worker_type) (V(V1) or V(V2)), C(azure_hybrid_worker_group),
    C(azure_hybrid_worker_group_type), C(azure_hybrid_worker_groups) (every group the host is in),
    C(azure_hybrid_worker_registered), C(azure_hybrid_worker_last_seen), C(azure_hybrid_worker_vm_resource_id),
    C(azure_hybrid_worker_stale)."
  - The plugin sets no connection variables; use O(compose) (for example C(ansible_host=azure_hybrid_worker_ip))
    when the hosts are reached through this source alone.
  - Reads the account once, the list of worker groups once, and the workers once per group, whatever the number of
    workers. With O(cache) on, a later run within O(cache_timeout) makes no Azure request at all.
  - The configuration file name must end with C(.hybrid_workers.yml) or C(.hybrid_workers.yaml).
options:
  plugin:
    description: The name of this plugin; marks the file as a configuration of it.
    type: str
    required: true
    choices: [azure_automation.hybrid_worker.hybrid_workers]
  resource_group:
    description: The resource group of the Automation account.
    type: str
    required: true
  automation_account:
    description: The Automation account whose workers become hosts.
    type: str
    required: true
  worker_groups:
    description:
      - Only the workers of these groups (names compare case-insensitively, as in Azure). All groups when unset.
      - A name that is not a group of the account is reported as a warning.
    type: list
    elements: str
  include_system_groups:
    description:
      - Also list the workers of system worker groups (the ones Update Management creates), not only user groups.
    type: bool
    default: false
  group_prefix:
    description:
      - Prefix of the inventory group made for each worker group. The rest of the group name is the worker group's
        name in lower case, each character other than a letter, digit or C(_) replaced with C(_).
    type: str
    default: hybrid_worker_group_
  hostname_case:
    description:
      - The letter case of host names. Windows computer names are case-insensitive and Azure keeps the case the
        worker reported, so V(lower) matches the usual spelling of static inventories.
    type: str
    choices: [lower, upper, preserve]
    default: lower
  hostname_suffix:
    description:
      - A DNS suffix (such as C(.contoso.com)) added to worker names that have no dot, so that host names match an
        inventory that lists servers by fully qualified name. Agent-based workers register with the computer name.
    type: str
    default: ""
  stale_after_days:
    description:
      - A worker whose last heartbeat is older than this (or that never reported) gets
        C(azure_hybrid_worker_stale=true).
      - Azure removes V1 workers that have not reported for 30 days.
    type: float
    default: 1
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
  - azure_automation.hybrid_worker.azure.modules
  - azure_automation.hybrid_worker.azure_inventory
notes:
  - Each option can also be set through the environment variables listed with it; the configuration file wins.
seealso:
  - module: azure_automation.hybrid_worker.hybrid_worker_group_info
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
# workers.hybrid_workers.yml: every worker of the account, credentials from the AZURE_* environment variables
plugin: azure_automation.hybrid_worker.hybrid_workers
resource_group: rg-automation
automation_account: aa-hybrid-workers

---
# stale.hybrid_workers.yml: one group of stale workers, connection address from Azure, cached for ten minutes
plugin: azure_automation.hybrid_worker.hybrid_workers
resource_group: rg-automation
automation_account: aa-hybrid-workers
stale_after_days: 2
groups:
  stale_hybrid_workers: azure_hybrid_worker_stale
keyed_groups:
  - key: azure_hybrid_worker_type
    prefix: worker_type
compose:
  ansible_host: azure_hybrid_worker_ip
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 600

# Compare with a static inventory: `ansible-inventory -i hosts.yml -i workers.hybrid_workers.yml --graph`
# shows hosts that only one of them knows; hosts without azure_hybrid_worker_id are not workers in Azure.
"""

import datetime
import re

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    AZURE_IMPORT_ERROR,
    AZURE_REQUIREMENTS,
    AzureAuthError,
    azure_failure_message,
    resolve_auth,
    resolve_endpoints,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    is_stale,
    utc_now,
    validate_automation_account,
    validate_group_name,
    validate_resource_group,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.hybrid_workers import (
    list_groups,
    list_workers,
    require_account,
    worker_view,
)

try:
    from azure.identity import AzureCliCredential, ClientSecretCredential, ManagedIdentityCredential
    from azure.mgmt.automation import AutomationClient
except ImportError:
    pass  # reported through AZURE_IMPORT_ERROR when the plugin runs

CONFIG_SUFFIXES = (".hybrid_workers.yml", ".hybrid_workers.yaml")
AUTH_OPTIONS = ("auth_source", "subscription_id", "client_id", "secret", "tenant", "profile", "cloud_environment",
                "authority_host", "resource_manager_url", "ca_bundle", "max_retries")
# What the cache keeps per worker: facts from Azure only. The stale flag depends on the time of reading, so it is
# worked out again from the cached last heartbeat on every run.
CACHED_WORKER_KEYS = ("id", "name", "type", "ip", "registered_date_time", "last_seen_date_time", "vm_resource_id")
UNSAFE_GROUP_CHARACTERS = re.compile(r"[^a-z0-9_]")


def validate_config(options):
    errors = [validate_resource_group(options.get("resource_group")), validate_automation_account(options.get("automation_account"))]
    for name in options.get("worker_groups") or []:
        errors.append(validate_group_name(name, option="worker_groups"))
    if options.get("stale_after_days") is None or options["stale_after_days"] <= 0:
        errors.append("stale_after_days must be more than 0, got %s" % options.get("stale_after_days"))
    return collect_errors(*errors)


def inventory_group_name(prefix, worker_group):
    """An Ansible group name for a worker group: prefix + name in lower case, unsafe characters as ``_``."""
    name = (prefix or "") + UNSAFE_GROUP_CHARACTERS.sub("_", worker_group.lower())
    return "_" + name if name[:1].isdigit() else name


def host_name(worker_name, case, suffix=""):
    if suffix and "." not in worker_name:
        worker_name += suffix if suffix.startswith(".") else "." + suffix
    if case == "lower":
        return worker_name.lower()
    if case == "upper":
        return worker_name.upper()
    return worker_name


def _as_text(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def cacheable_worker(view):
    return dict((key, _as_text(view.get(key))) for key in CACHED_WORKER_KEYS)


def select_groups(groups, wanted, include_system):
    """(groups to read, wanted names that are not groups); group names compare case-insensitively, as in ARM."""
    def group_type(group):
        return ((group.get("properties") or {}).get("groupType") or "User").lower()

    candidates = [g for g in groups if include_system or group_type(g) != "system"]
    missing = []
    if wanted is not None:
        wanted_names = set(name.lower() for name in wanted)
        present = set((g.get("name") or "").lower() for g in candidates)
        missing = [name for name in wanted if name.lower() not in present]
        candidates = [g for g in candidates if (g.get("name") or "").lower() in wanted_names]
    # System groups first, so that a machine that is also a user worker keeps its user group's variables.
    ordered = sorted(candidates, key=lambda g: (group_type(g) != "system", (g.get("name") or "").lower()))
    return ordered, missing


def host_variables(worker, group, now, stale_after_days):
    return {
        "azure_hybrid_worker_name": worker["name"],
        "azure_hybrid_worker_id": worker["id"],
        "azure_hybrid_worker_ip": worker["ip"],
        "azure_hybrid_worker_type": worker["type"],
        "azure_hybrid_worker_group": group["name"],
        "azure_hybrid_worker_group_type": group["group_type"],
        "azure_hybrid_worker_registered": worker["registered_date_time"],
        "azure_hybrid_worker_last_seen": worker["last_seen_date_time"],
        "azure_hybrid_worker_vm_resource_id": worker["vm_resource_id"],
        "azure_hybrid_worker_stale": is_stale(worker["last_seen_date_time"], now, stale_after_days * 24 * 60),
    }


class InventoryError(AnsibleError):
    pass


class _ErrorSink:
    """Stands in for the module object the shared Azure helpers report failures to: raises instead of exiting, with
    the modules' wording (a failed token request names Entra ID and the cause)."""

    def __init__(self, settings=None, endpoints=None):
        self.settings, self.endpoints = settings, endpoints

    @staticmethod
    def fail_json(msg, **kwargs):
        raise InventoryError(msg)

    def fail_azure(self, exc, msg):
        raise InventoryError(azure_failure_message(exc, msg, self.settings, self.endpoints))


def build_credential(settings, endpoints, transport_options):
    if settings["kind"] == "client_secret":
        return ClientSecretCredential(
            settings["tenant"], settings["client_id"], settings["secret"],
            authority=endpoints["authority_host"],
            disable_instance_discovery=endpoints["disable_instance_discovery"],
            **transport_options)
    if settings["kind"] == "msi":
        return ManagedIdentityCredential(client_id=settings["client_id"], **transport_options)
    return AzureCliCredential(tenant_id=settings["tenant"])


def automation_client(auth_options):
    """An AutomationClient for the plugin's authentication options (same rules as the collection's modules), and the
    error sink that reports its failures."""
    if AZURE_IMPORT_ERROR:
        raise InventoryError("The hybrid_workers inventory needs the Python packages %s" % AZURE_REQUIREMENTS)
    try:
        settings = resolve_auth(auth_options)
    except AzureAuthError as exc:
        raise InventoryError("Azure authentication settings are incomplete: %s" % exc)
    endpoints = resolve_endpoints(auth_options, settings["cloud_environment"])
    transport_options = {"connection_verify": auth_options["ca_bundle"]} if auth_options.get("ca_bundle") else {}
    credential = build_credential(settings, endpoints, transport_options)
    client = AutomationClient(
        credential, settings["subscription_id"],
        base_url=endpoints["resource_manager_url"],
        credential_scopes=[endpoints["resource_manager_scope"]],
        retry_total=auth_options.get("max_retries"),
        **transport_options)
    return client, _ErrorSink(settings, endpoints)


def read_workers(client, sink, resource_group, account, wanted_groups, include_system):
    """What Azure knows: ({"groups": [{name, group_type, workers: [...]}]}, missing group names)."""
    require_account(sink, client, resource_group, account)
    groups, missing = select_groups(list_groups(sink, client, resource_group, account), wanted_groups, include_system)
    now = utc_now()
    result = []
    for group in groups:
        properties = group.get("properties") or {}
        workers = [cacheable_worker(worker_view(w, now, 0)) for w in list_workers(sink, client, resource_group, account, group["name"])]
        result.append({"name": group["name"], "group_type": properties.get("groupType") or "User",
                       "workers": sorted(workers, key=lambda w: (w["name"] or "").lower())})
    return {"groups": result, "missing_groups": missing}


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "azure_automation.hybrid_worker.hybrid_workers"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(CONFIG_SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        options = dict((name, self.get_option(name)) for name in
                       ("resource_group", "automation_account", "worker_groups", "stale_after_days"))
        error = validate_config(options)
        if error:
            raise AnsibleParserError("Invalid hybrid_workers inventory configuration %s: %s" % (path, error))

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if data is None:
            data = self._read_from_azure(options)
        if update_cache:
            self._cache[cache_key] = data
        self._populate(data)

    def _read_from_azure(self, options):
        auth_options = dict((name, self.get_option(name)) for name in AUTH_OPTIONS)
        try:
            client, sink = automation_client(auth_options)
            return read_workers(client, sink, options["resource_group"], options["automation_account"], options["worker_groups"],
                                self.get_option("include_system_groups"))
        except InventoryError as exc:
            raise AnsibleParserError("hybrid_workers inventory: %s" % exc)

    def _populate(self, data):
        for name in data.get("missing_groups") or []:
            self.display.warning("hybrid_workers inventory: worker group '%s' is not in Automation account '%s'"
                                 % (name, self.get_option("automation_account")))
        now = utc_now()
        prefix = self.get_option("group_prefix")
        case, suffix = self.get_option("hostname_case"), self.get_option("hostname_suffix")
        hosts = {}
        for group in data["groups"]:
            inventory_group = self.inventory.add_group(inventory_group_name(prefix, group["name"]))
            for worker in group["workers"]:
                if not worker.get("name"):
                    continue
                host = self.inventory.add_host(host_name(worker["name"], case, suffix), group=inventory_group)
                # Later groups are user groups (see select_groups): their worker's facts win, all group names stay.
                groups_of_host = hosts.get(host, {}).get("azure_hybrid_worker_groups", []) + [group["name"]]
                hosts[host] = host_variables(worker, group, now, self.get_option("stale_after_days"))
                hosts[host]["azure_hybrid_worker_groups"] = groups_of_host
        strict = self.get_option("strict")
        for host, variables in hosts.items():
            for key, value in variables.items():
                self.inventory.set_variable(host, key, value)
            all_variables = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option("compose"), all_variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), all_variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), all_variables, host, strict=strict)
