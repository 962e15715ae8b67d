#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: arc_machine_extension
short_description: Install or remove the Hybrid Worker extension on an Azure Arc-enabled server
version_added: 0.1.0
description:
  - Makes sure the Hybrid Worker extension (publisher C(Microsoft.Azure.Automation.HybridWorker), type
    C(HybridWorkerForWindows) or C(HybridWorkerForLinux)) of an Arc-enabled server points at an Automation account, or
    that the extension is absent. This is what turns the server into an extension-based Hybrid Runbook Worker.
  - Add the worker record first (M(azure_automation.hybrid_worker.hybrid_worker) with the machine's resource id as
    C(vm_resource_id)); the extension then registers the server as a worker of that record's group.
  - The extension's C(AutomationAccountURL) setting is the account's C(automationHybridServiceUrl), read from
    O(automation_account) or given as O(automation_hybrid_service_url).
  - Waits for the long-running operation and fails with the extension's own status message when it ends
    C(Failed).
  - A converged run makes two reads (machine, extension) and, with O(automation_account), a third (the account); no
    writes. A first install also lists the machine's extensions, to refuse a second Hybrid Worker extension under
    another name.
options:
  machine_id:
    description:
      - The resource id of the Arc-enabled server (C(.../providers/Microsoft.HybridCompute/machines/<name>)), for
        example the resource id an Arc agent reports after connecting.
      - Azure VM ids (C(Microsoft.Compute/virtualMachines)) are refused for now.
      - Mutually exclusive with O(machine_name).
    type: str
  machine_name:
    description: The Arc machine's resource name, with O(machine_resource_group).
    type: str
  machine_resource_group:
    description: The resource group of O(machine_name). Defaults to O(resource_group).
    type: str
  name:
    description: The extension's resource name.
    type: str
    default: HybridWorkerExtension
  resource_group:
    description:
      - The resource group of the Automation account (and of the machine when O(machine_resource_group) is not set).
    type: str
  automation_account:
    description:
      - The Automation account whose C(automationHybridServiceUrl) the extension gets.
      - Required with O(state=present) unless O(automation_hybrid_service_url) is set.
    type: str
  automation_hybrid_service_url:
    description:
      - The account's C(automationHybridServiceUrl), to save reading the account (for example from
        M(azure_automation.hybrid_worker.automation_registration_info)).
    type: str
  os_type:
    description:
      - Which extension type to install, V(windows) (C(HybridWorkerForWindows)) or V(linux) (C(HybridWorkerForLinux)).
      - Defaults to the machine's operating system type as Azure Arc reports it.
    type: str
    choices: [windows, linux]
  type_handler_version:
    description:
      - The extension version to install (major.minor). An installed extension of the same major version counts as
        converged, since the service reports the full installed version and upgrades minor versions itself.
    type: str
    default: "1.1"
  auto_upgrade_minor_version:
    description: Let the extension take newer minor versions when it is (re)deployed.
    type: bool
    default: true
  enable_automatic_upgrade:
    description: Let the platform upgrade the extension when a newer version is published.
    type: bool
    default: true
  proxy_server:
    description: The proxy the worker uses, C(host:port) (extension setting C(ProxySettings.ProxyServer)).
    type: str
  proxy_user:
    description: The proxy user name (C(ProxySettings.UserName)). Needs O(proxy_server).
    type: str
  proxy_password:
    description:
      - The proxy password, sent as the protected setting C(ProxyPassword). Needs O(proxy_server).
      - Azure never returns protected settings, so they cannot be compared; see O(update_password).
    type: str
  update_password:
    description:
      - V(on_create) sends O(proxy_password) only when the extension is (re)deployed for another reason.
      - V(always) redeploys the extension on every run to set the password (the task then always reports a change).
    type: str
    choices: [always, on_create]
    default: on_create
  location:
    description: The extension's region. Defaults to the machine's.
    type: str
  state:
    description: Whether the extension should be installed.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - azure_automation.hybrid_worker.azure.modules
attributes:
  check_mode:
    support: full
    description: Reports whether the extension would be installed, changed or removed without doing it.
  diff_mode:
    support: full
    description: Shows the extension's public settings and version before and after; never protected settings.
notes:
  - The machine's agent must be C(Connected) for a change; the module fails early otherwise.
  - An extension whose provisioning state is C(Failed) is deployed again.
  - If an extension removed from Azure left the worker's registry keys on the host, a reinstall can stay in
    C(Transitioning); clean the host first (the C(wait_timeout) option bounds the wait).
seealso:
  - module: azure_automation.hybrid_worker.hybrid_worker
  - module: azure_automation.hybrid_worker.arc_machine_info
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Add the Arc-enabled server to a worker group
  azure_automation.hybrid_worker.hybrid_worker:
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
    group: windows-workers
    vm_resource_id: "{{ arc_machine_id }}"

- name: Install the Hybrid Worker extension
  azure_automation.hybrid_worker.arc_machine_extension:
    machine_id: "{{ arc_machine_id }}"
    resource_group: rg-automation
    automation_account: aa-hybrid-workers

- name: Through a proxy
  azure_automation.hybrid_worker.arc_machine_extension:
    machine_name: web01
    machine_resource_group: rg-servers
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
    proxy_server: 10.0.0.10:8080
    proxy_user: svc-proxy
    proxy_password: "{{ vault_proxy_password }}"

- name: Remove it
  azure_automation.hybrid_worker.arc_machine_extension:
    machine_id: "{{ arc_machine_id }}"
    state: absent
"""

RETURN = r"""
extension:
  description: The extension after the change (or as it would be, in check mode). Empty when it is absent.
  returned: always
  type: dict
  contains:
    id:
      description: The extension's resource id.
      type: str
      returned: when the extension exists
    name:
      description: The extension's resource name.
      type: str
      returned: when the extension exists
      sample: HybridWorkerExtension
    machine_id:
      description: The machine's resource id.
      type: str
      returned: when the extension exists
    location:
      description: The extension's region.
      type: str
      returned: when the extension exists
    publisher:
      description: The extension publisher.
      type: str
      returned: when the extension exists
      sample: Microsoft.Azure.Automation.HybridWorker
    type:
      description: The extension type.
      type: str
      returned: when the extension exists
      sample: HybridWorkerForWindows
    type_handler_version:
      description: The installed version (the requested one in check mode).
      type: str
      returned: when the extension exists
      sample: 1.1.13
    auto_upgrade_minor_version:
      description: Whether newer minor versions are taken on redeployment.
      type: bool
      returned: when the extension exists
    enable_automatic_upgrade:
      description: Whether the platform upgrades the extension.
      type: bool
      returned: when the extension exists
    settings:
      description: The public settings (C(AutomationAccountURL), C(ProxySettings)). Protected settings are never returned.
      type: dict
      returned: when the extension exists
    provisioning_state:
      description: The provisioning state (C(Succeeded) after a change; C(null) in check mode for a new one).
      type: str
      returned: when the extension exists
    status:
      description: The extension's instance view status (C(code), C(level), C(display_status), C(message), C(time)).
      type: dict
      returned: when the extension exists
changes:
  description: The properties that differed and made the module deploy the extension.
  returned: with O(state=present)
  type: list
  elements: str
  sample: [settings]
automation_hybrid_service_url:
  description: The C(AutomationAccountURL) the extension points at.
  returned: with O(state=present)
  type: str
"""

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    AzureError,
    AzureModule,
    as_rest_dict,
    azure_call,
    get_or_none,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    normalize_location,
    validate_automation_account,
    validate_location,
    validate_resource_group,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.arc_machines import (
    DEFAULT_EXTENSION_NAME,
    DEFAULT_TYPE_HANDLER_VERSION,
    desired_extension,
    diff_view,
    extension_differences,
    extension_view,
    is_in_progress,
    parse_machine_id,
    validate_machine_id,
    validate_machine_name,
    validate_proxy_server,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.hybrid_workers import require_account

EXTENSION_NAME_FORBIDDEN = ("/", "\\", "?", "#", "%", "&", ":", "<", ">", "*")


def validate_params(params):
    errors = []
    if params.get("machine_id") and params.get("machine_name"):
        errors.append("machine_id and machine_name are mutually exclusive")
    elif params.get("machine_id"):
        errors.append(validate_machine_id(params["machine_id"]))
    elif params.get("machine_name"):
        errors.append(validate_machine_name(params["machine_name"]))
        if not (params.get("machine_resource_group") or params.get("resource_group")):
            errors.append("machine_name needs machine_resource_group or resource_group")
    else:
        errors.append("one of machine_id or machine_name is required")
    for option in ("machine_resource_group", "resource_group"):
        if params.get(option):
            error = validate_resource_group(params[option])
            errors.append(error.replace("resource_group '", option + " '", 1) if error else None)
    name = params.get("name") or ""
    if not name or len(name) > 64 or any(c in name for c in EXTENSION_NAME_FORBIDDEN):
        errors.append("name '%s' is not a valid extension name (1-64 characters, none of %s)" % (name, "".join(EXTENSION_NAME_FORBIDDEN)))
    if params.get("location"):
        errors.append(validate_location(params["location"]))
    if params["state"] == "present":
        if params.get("automation_account"):
            errors.append(validate_automation_account(params["automation_account"]))
            if not params.get("resource_group"):
                errors.append("automation_account needs resource_group")
        elif not params.get("automation_hybrid_service_url"):
            errors.append("state=present needs automation_account or automation_hybrid_service_url")
        url = params.get("automation_hybrid_service_url")
        if url and not url.lower().startswith("https://"):
            errors.append("automation_hybrid_service_url '%s' must be an https:// URL" % url)
        errors.append(validate_proxy_server(params.get("proxy_server")))
        if (params.get("proxy_user") or params.get("proxy_password")) and not params.get("proxy_server"):
            errors.append("proxy_user and proxy_password need proxy_server")
        version = params.get("type_handler_version") or ""
        if not version or not all(part.isdigit() for part in version.split(".")) or len(version.split(".")) > 4:
            errors.append("type_handler_version '%s' must be a version such as 1.1" % version)
    return collect_errors(*errors)


def machine_location(params):
    """(subscription id or None, resource group, machine name) from the parameters."""
    if params.get("machine_id"):
        parsed = parse_machine_id(params["machine_id"])
        return parsed["subscription_id"], parsed["resource_group"], parsed["name"]
    return None, params.get("machine_resource_group") or params["resource_group"], params["machine_name"]


def wait_lro(module, poller, what):
    """Wait for a poller within wait_timeout; fail with the service's code and message."""
    try:
        poller.wait(timeout=module.params["wait_timeout"])
        if not poller.done():
            module.fail_json(msg="Timed out after %ss waiting to %s (the extension is still %s)" % (
                module.params["wait_timeout"], what, poller.status()))
        return as_rest_dict(poller.result())
    except AzureError as exc:
        module.fail_azure(exc, "Failed to %s" % what)
    return None


def hybrid_service_url(module, params):
    if params.get("automation_hybrid_service_url"):
        return params["automation_hybrid_service_url"]
    account = require_account(module, module.client("automation"), params["resource_group"], params["automation_account"])
    url = (account.get("properties") or {}).get("automationHybridServiceUrl")
    if not url:
        module.fail_json(msg="Automation account '%s' has no automationHybridServiceUrl" % params["automation_account"])
    return url


def same_handler_elsewhere(module, client, rg, machine_name, desired):
    """The name of another extension of the same publisher and type on the machine (read only when installing)."""
    extensions = azure_call(module, lambda: [as_rest_dict(e) for e in client.machine_extensions.list(rg, machine_name)],
                            "list the extensions of Arc machine '%s'" % machine_name)
    for extension in extensions:
        properties = extension.get("properties") or {}
        if str(properties.get("publisher") or "").lower() == desired["properties"]["publisher"].lower() and \
                str(properties.get("type") or "").lower() == desired["properties"]["type"].lower():
            return extension.get("name")
    return None


def ensure_present(module, client, params, rg, machine_name, machine, current):
    url = hybrid_service_url(module, params)
    machine_props = machine.get("properties") or {}
    os_type = params.get("os_type") or str(machine_props.get("osType") or "windows").lower()
    if os_type not in ("windows", "linux"):
        module.fail_json(msg="Arc machine '%s' reports osType '%s'; set os_type to windows or linux" % (machine_name, os_type))
    location = normalize_location(params.get("location") or machine.get("location"))
    desired = desired_extension(dict(params, os_type=os_type), url, location)
    result = dict(automation_hybrid_service_url=url)
    if current is not None:
        differences = extension_differences(current, desired)
        if "publisher" in differences or "type" in differences:
            have = current.get("properties") or {}
            module.fail_json(msg="Extension '%s' of Arc machine '%s' is %s/%s, not %s/%s; remove it first (state=absent)" % (
                params["name"], machine_name, have.get("publisher"), have.get("type"),
                desired["properties"]["publisher"], desired["properties"]["type"]))
        if params.get("proxy_password") and params["update_password"] == "always":
            differences.append("protectedSettings")
    else:
        differences = ["extension"]
        twin = same_handler_elsewhere(module, client, rg, machine_name, desired)
        if twin:
            module.fail_json(msg="Arc machine '%s' already has the %s extension under the name '%s'; set name to '%s' (a machine can have"
                             " one extension per type)" % (machine_name, desired["properties"]["type"], twin, twin))
    result["changes"] = differences
    before = extension_view(current, machine.get("id")) if current else {}
    if not differences:
        return False, before, before, result
    if machine_props.get("status") != "Connected":
        module.fail_json(msg="Arc machine '%s' is %s; its agent must be Connected to install or change extension '%s'" % (
            machine_name, machine_props.get("status"), params["name"]))
    after = extension_view(dict(desired, id=machine.get("id") + "/extensions/" + params["name"], name=params["name"],
                                properties=dict(desired["properties"], provisioningState=None)), machine.get("id"))
    if module.check_mode:
        return True, before, after, result
    body = {"location": desired["location"], "properties": dict(desired["properties"])}
    if params.get("proxy_password"):
        body["properties"]["protectedSettings"] = {"ProxyPassword": params["proxy_password"]}
    what = "install extension '%s' on Arc machine '%s'" % (params["name"], machine_name)
    try:
        poller = client.machine_extensions.begin_create_or_update(rg, machine_name, params["name"], body)
    except AzureError as exc:
        module.fail_azure(exc, "Failed to %s" % what)
    installed = wait_lro(module, poller, what)
    view = extension_view(installed, machine.get("id"))
    if str(view.get("provisioning_state") or "").lower() != "succeeded":
        module.fail_json(msg="Failed to %s: it ended in provisioning state %s: %s" % (
            what, view.get("provisioning_state"), (view.get("status") or {}).get("message")), extension=view)
    return True, before, view, result


def ensure_absent(module, client, rg, machine_name, machine_id, current, name):
    if current is None:
        return False, {}, {}, {}
    before = extension_view(current, machine_id)
    if not module.check_mode:
        what = "remove extension '%s' from Arc machine '%s'" % (name, machine_name)
        try:
            poller = client.machine_extensions.begin_delete(rg, machine_name, name)
        except AzureError as exc:
            module.fail_azure(exc, "Failed to %s" % what)
        wait_lro(module, poller, what)
    return True, before, {}, {}


def main():
    module = AzureModule(
        argument_spec=dict(
            machine_id=dict(type="str"),
            machine_name=dict(type="str"),
            machine_resource_group=dict(type="str"),
            name=dict(type="str", default=DEFAULT_EXTENSION_NAME),
            resource_group=dict(type="str"),
            automation_account=dict(type="str"),
            automation_hybrid_service_url=dict(type="str"),
            os_type=dict(type="str", choices=["windows", "linux"]),
            type_handler_version=dict(type="str", default=DEFAULT_TYPE_HANDLER_VERSION),
            auto_upgrade_minor_version=dict(type="bool", default=True),
            enable_automatic_upgrade=dict(type="bool", default=True),
            proxy_server=dict(type="str"),
            proxy_user=dict(type="str"),
            proxy_password=dict(type="str", no_log=True),
            update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
            location=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    error = validate_params(params)
    if error:
        module.fail_json(msg="Invalid arguments for Arc machine extension: %s" % error)
    subscription, rg, machine_name = machine_location(params)
    if subscription and subscription.lower() != str(module.subscription_id).lower():
        module.fail_json(msg="machine_id is in subscription '%s' but the module works in subscription '%s' (set subscription_id)"
                         % (subscription, module.subscription_id))
    client = module.client("hybridcompute")
    machine = get_or_none(module, lambda: client.machines.get(rg, machine_name), "Arc machine '%s'" % machine_name)
    if machine is None:
        if params["state"] == "absent":
            module.exit_json(changed=False, extension={})
        module.fail_json(msg="Arc machine '%s' was not found in resource group '%s'" % (machine_name, rg))
    current = get_or_none(module, lambda: client.machine_extensions.get(rg, machine_name, params["name"]),
                          "extension '%s' of Arc machine '%s'" % (params["name"], machine_name))
    if current is not None and is_in_progress(current):
        module.fail_json(msg="Extension '%s' of Arc machine '%s' has an operation in progress (provisioning state %s); run again when it "
                         "has finished" % (params["name"], machine_name, (current.get("properties") or {}).get("provisioningState")))
    if params["state"] == "present":
        changed, before, after, extra = ensure_present(module, client, params, rg, machine_name, machine, current)
    else:
        changed, before, after, extra = ensure_absent(module, client, rg, machine_name, machine.get("id"), current, params["name"])
    result = dict(changed=changed, extension=after, **extra)
    if module.diff_mode:
        result["diff"] = dict(before=diff_view(before), after=diff_view(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
