# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring a Windows host to its agent-based Hybrid Runbook Worker state with one read and only the modules needed.

One win_hybrid_worker_info call reads the host; the comparison (module_utils/host_drift.py) picks the concerns that
differ, and only their modules run, on this host: win_log_analytics_agent, win_hybrid_runbook_worker (also to
register again a worker Azure no longer lists), community.windows.win_psmodule per missing PowerShell module. A
converged host therefore costs one WinRM module call. Check mode and --diff reach the modules as the task sets them.

A module that fails does not fail the task: the host's outcome says which step failed and why, so that the fleet
playbook can finish the other hosts and report every failure in its summary. A host that cannot be reached still
fails as unreachable.
"""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.host_drift import (
    converge_plan,
    module_arguments,
    onboarding_arguments,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.plugin_utils.host_variables import task_arguments

PREFIX = "azure_automation.hybrid_worker."
PROBE = PREFIX + "win_hybrid_worker_info"
AGENT = PREFIX + "win_log_analytics_agent"
WORKER = PREFIX + "win_hybrid_runbook_worker"
PSMODULE = "community.windows.win_psmodule"
# Step names, as the summary of a failed host quotes them.
STEPS = {PROBE: "Read the host's state", AGENT: "Log Analytics agent", WORKER: "Hybrid Runbook Worker",
         PSMODULE: "PowerShell module"}
# Result keys of the modules that the outcome keeps; everything else (invocation with its masked arguments, raw
# output) stays out of the task result.
KEPT = ("changed", "failed", "msg", "diff", "previous_group", "registered", "group", "version", "reboot_required")


def missing_workspace_secret(agent_args):
    """True when the agent is wanted but a workspace lacks its id or key (nothing to attach it with)."""
    if not agent_args or (agent_args.get("state") or "present") != "present":
        return False
    return any(not (workspace or {}).get("id") or not (workspace or {}).get("key") for workspace in agent_args.get("workspaces") or [])


def sub_result(result):
    return dict((key, result[key]) for key in KEPT if key in result)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("agent", "worker", "powershell_modules", "azure_workers", "computer_name", "report_only", "from_variables"))
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # the modules run pipelined; nothing is copied to the host
        args = task_arguments(self, task_vars, onboarding_arguments)
        agent_args, worker_args = args.get("agent"), args.get("worker")
        modules = args.get("powershell_modules") or []
        for name, value, kind in (("agent", agent_args, dict), ("worker", worker_args, dict), ("powershell_modules", modules, list)):
            if value is not None and not isinstance(value, kind):
                raise AnsibleActionFail("%s must be a %s, got %s" % (name, kind.__name__, type(value).__name__))
        if not isinstance(args.get("report_only", False), bool):
            raise AnsibleActionFail("report_only must be a boolean")
        group = (worker_args or {}).get("group_name")
        outcome = dict(status="onboarded", group=group, changed=False, previous_group=None)
        result.update(changed=False, outcome=outcome, drift=[], concerns=[], steps=[])

        if not args.get("report_only") and missing_workspace_secret(agent_args):
            outcome.update(status="failed", task=STEPS[AGENT], message=(
                "the agent's workspaces need an id and a key each; the automation_prerequisites role hands them over "
                "(in check mode only once the workspace exists), or set log_analytics_agent_workspaces"))
            return self._finish(result)

        probe = self._run(PROBE, {"powershell_modules": [m.get("name") for m in modules]}, task_vars, result)
        if probe is None:
            return self._finish(result)
        try:
            plan = converge_plan(probe, agent_args, worker_args, modules, args.get("azure_workers"), args.get("computer_name"))
        except ValueError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        result.update(drift=plan["drift"], concerns=plan["concerns"] + (["reregister"] if plan["reregister"] else []))
        registrations = probe.get("worker_registrations") or []
        outcome["registered_group"] = registrations[0].get("group") if len(registrations) == 1 else None
        if args.get("report_only"):
            return self._finish(result)

        if plan["agent"] and self._run(AGENT, module_arguments(agent_args), task_vars, result) is None:
            return self._finish(result)
        if plan["worker"]:
            worker = self._run(WORKER, module_arguments(worker_args), task_vars, result)
            if worker is None:
                return self._finish(result)
            outcome["previous_group"] = worker.get("previous_group")
        elif plan["reregister"]:
            # The host keeps a registration Azure forgot, so the worker module has nothing to do: remove the host's
            # registration and register it again, two calls on this host only.
            leave = dict(module_arguments(worker_args), state="absent")
            leave.pop("group_name", None)
            if self._run(WORKER, leave, task_vars, result) is None or \
                    self._run(WORKER, module_arguments(worker_args), task_vars, result) is None:
                return self._finish(result)
        for module in plan["powershell_modules"]:
            arguments = module_arguments({"name": module.get("name"), "required_version": module.get("version"),
                                          "repository": module.get("repository"), "state": "present"})
            if self._run(PSMODULE, arguments, task_vars, result) is None:
                return self._finish(result)
        return self._finish(result)

    def _run(self, module, arguments, task_vars, result):
        """Run one module on the host; its result, or None after recording the failure in the outcome."""
        answer = self._execute_module(module_name=module, module_args=arguments, task_vars=task_vars)
        kept = sub_result(answer)
        kept["module"] = module
        result["steps"].append(kept)
        if answer.get("failed"):
            message = answer.get("msg") or "the module failed without a message"
            result["outcome"].update(status="failed", changed=False, task=STEPS[module], message=message)
            return None
        if answer.get("changed"):
            result["changed"] = True
            result["outcome"]["changed"] = True
        return answer

    def _finish(self, result):
        if self._task.diff:
            diffs = [step["diff"] for step in result["steps"] if step.get("diff")]
            if diffs:
                result["diff"] = diffs
        return result
