# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify an extension-based fleet run in Azure and work out its summary, in one controller task.

When no host changed and the worker listing read before the host play (same run) already shows every onboarded
host's worker as seen, that listing is the verification: nothing touched the workers since. Otherwise the groups are
listed again (hybrid_worker_group_info, one read per group per attempt) until each onboarded host's worker has been
seen. The rules are in module_utils/extension_fleet.py.
"""

import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.extension_fleet import (
    build_report,
    host_outcome,
    index_workers,
    summary_lines,
    unseen_hosts,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.plugin_utils.azure_in_process import call_azure_module

GROUP_INFO = "azure_automation.hybrid_worker.hybrid_worker_group_info"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("hosts", "before", "resource_group", "automation_account", "retries", "delay",
                             "result_var", "azure_result_var"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # the module runs pipelined; nothing is copied
        args = self._task.args
        hosts = args.get("hosts") or []
        before = args.get("before") or {}
        if not isinstance(hosts, list) or not isinstance(before, dict):
            raise AnsibleActionFail("hosts must be a list of host names and before the worker index the playbook read")
        try:
            retries = int(args.get("retries", 10))
            delay = float(args.get("delay", 30))
        except (TypeError, ValueError) as exc:
            raise AnsibleActionFail("retries and delay must be numbers: %s" % exc) from exc
        check_mode = boolean(self._task.check_mode, strict=False)
        hostvars = task_vars["hostvars"]
        fleet = {}
        for host in hosts:
            variables = hostvars[host]
            fleet[host] = {
                "outcome": host_outcome(variables.get(args.get("result_var") or "hybrid_worker_converged"),
                                        variables.get(args.get("azure_result_var") or "hybrid_worker_azure_side")),
                "group": variables.get("hybrid_worker_extension_group") or variables.get("hybrid_runbook_worker_group") or "(no group)",
            }
        onboarded = dict((host, entry) for host, entry in fleet.items() if entry["outcome"]["status"] == "onboarded")
        changed = any(entry["outcome"].get("changed") for entry in fleet.values())
        read_again = bool(onboarded) and not check_mode and (changed or bool(unseen_hosts(onboarded, before)))

        azure, listing_error = before, None
        if read_again:
            account = {"resource_group": args.get("resource_group"), "automation_account": args.get("automation_account")}
            groups = sorted(set(entry["group"] for entry in onboarded.values()))
            # A new worker is seen once the extension on the host has reported in; retried until then.
            for attempt in range(retries + 1):
                listing = self._azure(GROUP_INFO, dict(account, name=groups), task_vars)
                if listing.get("failed"):
                    azure, listing_error = {}, listing.get("msg") or "hybrid_worker_group_info failed"
                    break
                azure = index_workers(listing.get("groups"))
                if not unseen_hosts(onboarded, azure) or attempt == retries:
                    break
                time.sleep(delay)
        report = build_report(fleet, check_mode, azure, listing_error)
        result.update(
            changed=False,
            read_again=read_again,
            lines=summary_lines(report, check_mode),
            onboarded=sorted(host for host, entry in report.items() if entry["status"] == "onboarded"),
            # Only the hosts that are not onboarded: a fleet's full report would flood the output.
            problems=dict((host, entry) for host, entry in report.items() if entry["status"] != "onboarded"),
        )
        return result

    def _azure(self, module, arguments, task_vars):
        """Run one of the collection's Azure modules on the controller, with the play's module_defaults; its result,
        failed or not (a failed listing leaves the hosts unverified, with its message)."""
        # In this process when that is the same as running the module (plugin_utils/azure_in_process.py).
        return call_azure_module(self, module, arguments, task_vars)
