# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a whole fleet's inventory on the controller, once, before anything changes.

One task instead of one per host: reads each targeted host's variables, sorts the hosts by hybrid_worker_type and,
for agent-based onboarding, refuses a host without a worker group, a group name Azure refuses, or an agent installer
download without a checksum; for extension-based onboarding, a host without a worker group, a group name Azure
refuses, or without the Azure Arc inputs the arc_agent role needs. The rules are in module_utils/fleet_checks.py.
"""

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.extension_fleet import ARC_INPUTS
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.fleet_checks import (
    NOTHING_CHANGED,
    agent_onboarding_problems,
    agent_retirement_warning,
    extension_onboarding_problems,
    hosts_by_type,
)


def _value(variables, name):
    value = variables.get(name)
    return value if value not in ("", None) else None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("hosts", "default_type", "agent_onboarding", "extension_onboarding"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        hosts = args.get("hosts")
        if not isinstance(hosts, list) or not all(isinstance(host, str) for host in hosts):
            raise AnsibleActionFail("hosts must be a list of inventory host names")
        try:
            onboarding = boolean(args.get("agent_onboarding", False), strict=True)
            extension_onboarding = boolean(args.get("extension_onboarding", False), strict=True)
        except TypeError as exc:
            raise AnsibleActionFail("agent_onboarding and extension_onboarding must be booleans: %s" % exc) from exc
        hostvars = task_vars["hostvars"]
        variables = dict((host, hostvars[host]) for host in hosts)

        types, message = hosts_by_type(dict((host, _value(variables[host], "hybrid_worker_type")) for host in hosts),
                                       args.get("default_type") or "extension")
        result.update(changed=False, types=types)
        if message:
            result.update(failed=True, msg=message)
            return result
        retired = agent_retirement_warning(types["agent"])
        if retired:
            result.setdefault("warnings", []).append(retired)
        problems = []
        if onboarding and types["agent"]:
            inputs = {}
            for host in types["agent"]:
                vars_of_host = variables[host]
                validate = _value(vars_of_host, "log_analytics_agent_validate_installer_checksum")
                inputs[host] = dict(
                    group=vars_of_host.get("hybrid_runbook_worker_group"),
                    installer_path=_value(vars_of_host, "log_analytics_agent_installer_path"),
                    installer_checksum=_value(vars_of_host, "log_analytics_agent_installer_checksum"),
                    validate_installer_checksum=None if validate is None else boolean(validate, strict=False))
            problems.extend(agent_onboarding_problems(inputs))
        if extension_onboarding and types["extension"]:
            inputs = {}
            for host in types["extension"]:
                vars_of_host = variables[host]
                inputs[host] = dict(
                    group=_value(vars_of_host, "hybrid_worker_extension_group") or vars_of_host.get("hybrid_runbook_worker_group"),
                    missing=[name for name in ARC_INPUTS if _value(vars_of_host, name) is None])
            problems.extend(extension_onboarding_problems(inputs))
        if problems:
            result.update(failed=True, msg=" ".join(problems + [NOTHING_CHANGED]), problems=problems)
        return result
