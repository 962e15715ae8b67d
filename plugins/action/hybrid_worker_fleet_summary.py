# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify an agent-based fleet run in Azure and summarise it, in one controller task.

When no host changed, the worker listing and heartbeats read before the host play (same run) are the verification:
nothing touched the workers since. Otherwise, or when a host's heartbeat was missing then, the groups are listed
again and the heartbeats are waited for (hybrid_worker_group_info, log_analytics_heartbeat_info). Older records of
re-registered hosts are deleted (hybrid_worker). The rules are in module_utils/fleet_report.py.
"""

import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.fleet_report import (
    build_report,
    listed_workers,
    older_records,
    outcome_of,
    summary_lines,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.plugin_utils.azure_in_process import call_azure_module

PREFIX = "azure_automation.hybrid_worker."


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("hosts", "result_var", "before", "resource_group", "automation_account",
                             "max_age_minutes", "heartbeat_retries", "heartbeat_delay"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # the modules run pipelined; nothing is copied
        args = self._task.args
        hosts = args.get("hosts") or []
        before = args.get("before") or {}
        if not isinstance(hosts, list) or not isinstance(before, dict):
            raise AnsibleActionFail("hosts must be a list of host names and before the hybrid_worker_prerequisites result")
        try:
            max_age = int(args.get("max_age_minutes", 30))
            retries = int(args.get("heartbeat_retries", 10))
            delay = float(args.get("heartbeat_delay", 30))
        except (TypeError, ValueError) as exc:
            raise AnsibleActionFail("max_age_minutes, heartbeat_retries and heartbeat_delay must be numbers: %s" % exc) from exc
        check_mode = boolean(self._task.check_mode, strict=False)
        hostvars = task_vars["hostvars"]
        fleet = {}
        for host in hosts:
            variables = hostvars[host]
            fleet[host] = {
                "outcome": outcome_of(variables.get(args.get("result_var") or "hybrid_worker_converged")),
                "group": variables.get("hybrid_runbook_worker_group") or "(no group)",
                "computer": str(variables.get("hybrid_worker_computer_name") or variables.get("inventory_hostname_short")).upper(),
            }
        onboarded = dict((host, entry) for host, entry in fleet.items() if entry["outcome"]["status"] == "onboarded")
        computers = [entry["computer"] for entry in onboarded.values()]
        silent_before = [str(name).upper() for name in before.get("heartbeat_missing") or []]
        read_again = any(entry["outcome"].get("changed") for entry in fleet.values()) or \
            any(computer in silent_before for computer in computers)

        groups, silent, heartbeat_error = before.get("groups") or [], silent_before, None
        account = {"resource_group": args.get("resource_group"), "automation_account": args.get("automation_account")}
        if read_again and onboarded:
            listing = self._azure("hybrid_worker_group_info", dict(
                account, name=sorted(set(entry["group"] for entry in onboarded.values()))), task_vars)
            groups = listing["groups"]
            customer_id = (before.get("workspace") or {}).get("customer_id")
            if not check_mode and customer_id:
                # The agent sends its first heartbeat within a minute or so of connecting: retried until then.
                for attempt in range(retries + 1):
                    beats = self._azure("log_analytics_heartbeat_info", dict(
                        workspace_id=customer_id, computers=computers, max_age_minutes=max_age), task_vars, may_fail=True)
                    if beats.get("failed"):
                        heartbeat_error, silent = beats.get("msg") or "", []
                    else:
                        heartbeat_error, silent = None, beats.get("missing") or []
                    if not silent or attempt == retries:
                        break
                    time.sleep(delay)
        result["read_again"] = bool(read_again and onboarded)

        deleted = []
        for record in older_records(groups, computers):
            self._azure("hybrid_worker", dict(account, group=record["group"], worker_id=record["id"], state="absent"), task_vars)
            deleted.append(record)
        report = build_report(fleet, check_mode, listed_workers(groups), silent, heartbeat_error, max_age)
        result.update(
            # Which account the hosts were verified against: a run against the wrong one shows here.
            automation_account="%s/%s" % (account["resource_group"], account["automation_account"]),
            changed=bool(deleted),
            deleted_records=deleted,
            msg=summary_lines(report, check_mode),
            # Only the hosts that are not onboarded: a fleet's full report would flood the output.
            problems=dict((host, entry) for host, entry in report.items() if entry["status"] != "onboarded"),
            _ansible_verbose_always=True,
        )
        return result

    def _azure(self, module, arguments, task_vars, may_fail=False):
        """Run one of the collection's Azure modules on the controller, with the play's module_defaults."""
        name = PREFIX + module
        # In this process when that is the same as running the module (plugin_utils/azure_in_process.py).
        answer = call_azure_module(self, name, arguments, task_vars)
        if answer.get("failed") and not may_fail:
            raise AnsibleActionFail(answer.get("msg") or "%s failed" % module, result=answer)
        return answer
