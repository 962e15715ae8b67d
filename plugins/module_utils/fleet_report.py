# -*- coding: utf-8 -*-
# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end of an agent-based fleet run (hybrid_worker_fleet_summary): each host's outcome, what Azure shows, the
older worker records to delete and the summary lines. Plain values in, plain values out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

UNREACHABLE_DETAIL = "unreachable or stopped before finishing; a re-run completes it"


def outcome_of(result):
    """A host's outcome from its registered win_hybrid_worker_converge result (None: the host never ran it)."""
    if not result or result.get("unreachable"):
        return {"status": "unreachable", "changed": False}
    if "outcome" not in result:
        return {"status": "failed", "changed": False, "task": "Onboard the host",
                "message": result.get("msg") or "see the task output above"}
    return result["outcome"]


def listed_workers(groups):
    """{group name: [computer names in upper case]} from a worker listing (hybrid_worker_group_info's groups)."""
    return dict((group["name"], [str(worker.get("name")).upper() for worker in group.get("workers") or []])
                for group in groups or [])


def older_records(groups, computers):
    """Worker records to delete: all but the newest record of each of ``computers`` per group.

    A host whose registration was removed on the host registers anew under a new machine id; its old record stays
    in Azure until someone deletes it.
    """
    wanted = set(str(name).upper() for name in computers)
    older = []
    for group in groups or []:
        by_name = {}
        for worker in group.get("workers") or []:
            by_name.setdefault(str(worker.get("name")).upper(), []).append(worker)
        for name in sorted(by_name):
            records = by_name[name]
            if name in wanted and len(records) > 1:
                records = sorted(records, key=lambda w: w.get("registered_date_time") or "")
                older.extend({"group": group["name"], "id": w["id"], "name": w.get("name")} for w in records[:-1])
    return older


def build_report(hosts, check_mode, listed, silent, heartbeat_error, max_age_minutes):
    """{host: {group, status, changed, detail}} for every targeted host, in host order.

    ``hosts``: {host: {outcome, group, computer}}; ``listed``: listed_workers(); ``silent``: computers without a
    recent heartbeat; ``heartbeat_error``: the heartbeat query's failure message, if it failed.
    """
    silent = set(str(name).upper() for name in silent or [])
    report = {}
    for host in sorted(hosts):
        outcome, group, computer = hosts[host]["outcome"], hosts[host]["group"], hosts[host]["computer"]
        if outcome["status"] == "unreachable":
            entry = {"status": "unreachable", "changed": False, "detail": UNREACHABLE_DETAIL}
        elif outcome["status"] == "failed":
            entry = {"status": "failed", "changed": False,
                     "detail": 'failed in "%s": %s' % (outcome.get("task"), outcome.get("message"))}
        else:
            problems = []
            if not check_mode:
                if computer not in listed.get(group, []):
                    problems.append("not listed as a worker of group %s in Azure" % group)
                if heartbeat_error is not None:
                    problems.append("heartbeat query failed: %s" % heartbeat_error)
                elif computer in silent:
                    problems.append("no agent heartbeat in the last %s minutes" % max_age_minutes)
            entry = {"status": "unverified" if problems else "onboarded", "changed": bool(outcome.get("changed")),
                     "detail": "; ".join(problems)}
        entry["group"] = group
        report[host] = entry
    return report


def summary_lines(report, check_mode):
    """One line per worker group, then one line per host that is not onboarded."""
    lines = []
    verb = "would be onboarded" if check_mode else "onboarded"
    for group in sorted(set(entry["group"] for entry in report.values())):
        members = sorted(host for host, entry in report.items() if entry["group"] == group)
        onboarded = [host for host in members if report[host]["status"] == "onboarded"]
        changed = [host for host in members if report[host]["changed"]]
        text = "%s: %d/%d %s, %d %s" % (group, len(onboarded), len(members), verb, len(changed),
                                        "would change" if check_mode else "changed")
        if 0 < len(changed) <= 10:
            text += " (%s)" % ", ".join(changed)
        for status in ("failed", "unreachable", "unverified"):
            named = [host for host in members if report[host]["status"] == status]
            if named:
                text += ", %s: %s" % (status, ", ".join(named))
        lines.append(text)
    for host in sorted(report):
        if report[host]["status"] != "onboarded":
            lines.append("%s %s: %s" % (host, report[host]["status"], report[host]["detail"]))
    return lines
