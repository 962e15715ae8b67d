# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host side of an extension-based Hybrid Runbook Worker in one task: win_connected_machine_agent once over
WinRM (it installs and connects the Arc agent when needed, cleans stale worker registry keys and reports the worker
service), then, on the controller and without a request, what Azure lacks for the host compared with the worker
listing the playbook read once for the fleet (module_utils/extension_fleet.py). A converged host costs one WinRM
module call and nothing else; the Azure work of the hosts that need it is left to the playbook's next play.

With from_variables, the service principal secret is left out of the first call: the module asks for it (result
secret_required) only when the agent must connect, and only then is the host's variable templated and the module run
again with it. A host whose agent is connected as asked never gets the secret, and a vaulted or looked-up secret is not
evaluated for it.

A failure does not fail the task: the host's outcome says which step failed and why, so that the fleet playbook can
finish the other hosts and report every failure in its summary. A host that cannot be reached still fails as
unreachable. Check mode and --diff reach the module as the task sets them.
"""

import functools

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.extension_fleet import (
    arc_agent_arguments,
    arc_inputs_message,
    azure_work,
    missing_arc_inputs,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.plugin_utils.host_variables import task_arguments

AGENT = "azure_automation.hybrid_worker.win_connected_machine_agent"
SECRET_VARIABLE = "arc_agent_service_principal_secret"
# Step names, as the summary of a failed host quotes them (those of the arc_agent role's tasks).
CHECK_STEP = "Check the Azure Arc inputs"
AGENT_STEP = "Install and connect the Azure Connected Machine agent"
# Result keys of the module that the task result keeps; everything else (invocation with its masked arguments) stays
# out of it.
KEPT = ("changed", "failed", "msg", "diff", "installed", "agent_version", "status", "resource_id", "resource_name",
        "subscription_id", "resource_group", "location", "tenant_id", "cloud", "reboot_required", "hybrid_worker")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("arc_agent", "group", "azure", "from_variables"))
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # the module runs pipelined; nothing is copied to the host
        args = task_arguments(self, task_vars, functools.partial(extension_arguments, task_vars))
        agent_args, group, azure = args.get("arc_agent"), args.get("group"), args.get("azure")
        if not isinstance(agent_args, dict):
            raise AnsibleActionFail("arc_agent must be a dict of win_connected_machine_agent arguments")
        if not isinstance(group, str) or not group:
            raise AnsibleActionFail("group must be the host's worker group (hybrid_runbook_worker_group)")
        if azure is not None and not isinstance(azure, dict):
            raise AnsibleActionFail("azure must be the worker index the playbook read ({workers: {machine id: [records]}})")
        outcome = dict(status="onboarded", group=group, changed=False, machine_id="")
        result.update(changed=False, outcome=outcome, azure_work=dict(needed=False), agent={})

        secret_later = self._secret_later(task_vars, agent_args)
        missing = [name for name in missing_arc_inputs(agent_args, prefix="")
                   if not (secret_later and name == SECRET_VARIABLE)]
        if missing:
            outcome.update(status="failed", task=CHECK_STEP, message=arc_inputs_message(missing))
            return result

        answer = self._execute_module(module_name=AGENT, module_args=agent_args, task_vars=task_vars)
        if secret_later and answer.get("failed") and answer.get("secret_required"):
            secret = self._templar.template(task_vars[SECRET_VARIABLE])
            if secret is None or secret == "":
                outcome.update(status="failed", task=CHECK_STEP, message=arc_inputs_message([SECRET_VARIABLE]))
                return result
            with_secret = dict(agent_args, service_principal_secret=secret)
            answer = self._execute_module(module_name=AGENT, module_args=with_secret, task_vars=task_vars)
        agent = dict((key, answer[key]) for key in KEPT if key in answer)
        result["agent"] = agent
        if self._task.diff and agent.get("diff"):
            result["diff"] = agent["diff"]
        if answer.get("failed"):
            outcome.update(status="failed", task=AGENT_STEP, message=answer.get("msg") or "the module failed without a message")
            return result
        changed = bool(answer.get("changed"))
        work = azure_work(agent, group, azure or {}, check_mode=boolean(self._task.check_mode, strict=False))
        outcome.update(changed=changed, machine_id=work["machine_id"].lower())
        result.update(changed=changed, azure_work=work)
        return result

    def _secret_later(self, task_vars, agent_args):
        """Whether the secret comes from the host's variable, templated only if the module asks for it: arc_agent came
        from the host's variables (a task without arc_agent has from_variables, else run() refused it already), and
        the variable is set (its raw value is looked at without templating or decrypting it)."""
        if "service_principal_secret" in agent_args or "arc_agent" in self._task.args:
            return False
        raw = task_vars.get(SECRET_VARIABLE)
        # An inline vault value is not a str and compares by decrypting: only None and a plain "" count as unset.
        return raw is not None and not (isinstance(raw, str) and raw == "")


def extension_arguments(task_vars, variable):
    """The action's arguments from a host's variables: the arc_agent role's (without the secret, see
    ActionModule._secret_later), the worker group and the Azure listing that the playbook's first play set on the
    controller."""
    found = {"arc_agent": arc_agent_arguments(variable, with_secret=False)}
    for name in ("hybrid_worker_extension_group", "hybrid_runbook_worker_group"):
        if name in task_vars:
            found["group"] = variable(name)
            break
    if isinstance(task_vars.get("hybrid_worker_extension_azure"), dict):
        # The listing as a fact (set_fact of the playbook's first play): data, no template to render, and templating a
        # fleet's listing again in every host task costs more than the host's own variables.
        found["azure"] = task_vars["hybrid_worker_extension_azure"]
    elif "hybrid_worker_extension_azure" in task_vars:
        found["azure"] = variable("hybrid_worker_extension_azure")
    else:
        found["azure"] = task_vars["hostvars"]["localhost"].get("hybrid_worker_extension_azure") or {}
    return found
