"""Bad input is refused before any request to Azure and before any host changes, with a message saying what to fix.

Two levels, both on one lab whose hosts are never onboarded (so a host that changed would show it):
- module level: every module case is a task of one ansible-playbook run (``ignore_errors`` so each is judged on its
  own); the Azure lab's request counters and the hosts' state must not move during that whole run;
- playbook level: ``onboard.yml`` with one bad input per run, for the inputs an operator gives the playbook itself
  (inventory, extra variables); nothing may reach Azure or the hosts.
"""
import json
import os

import pytest

from reliability_lab import ReliabilityLab, first_failure, fleet_lab

GUID = "4b1c7a4e-52f5-4d8b-9a43-6f1e8f3c2d10"
KEY = "c2VjcmV0LWtleS1mb3ItYS1sYWItY2FzZS0xMjM0NTY3ODkwMTIzNDU2Nzg5MA=="
RG = "rg-hybrid-worker-lab"
AA = "aa-hybrid-worker-lab"

# case id -> (module, arguments, fragments the message must contain)
AZURE_MODULE_CASES = {
    "workspace name too short": ("log_analytics_workspace", {"name": "ab", "resource_group": RG, "location": "westeurope"},
                                 ["ab"]),
    "workspace name with underscore": ("log_analytics_workspace",
                                       {"name": "law_hybrid", "resource_group": RG, "location": "westeurope"},
                                       ["law_hybrid"]),
    "workspace name ending in a hyphen": ("log_analytics_workspace",
                                          {"name": "law-hybrid-", "resource_group": RG, "location": "westeurope"},
                                          ["law-hybrid-"]),
    "unknown location": ("log_analytics_workspace", {"name": "law-ok", "resource_group": RG, "location": "mars-central"},
                         ["mars-central"]),
    "unknown workspace SKU": ("log_analytics_workspace",
                              {"name": "law-ok", "resource_group": RG, "location": "westeurope", "sku": "Gold"},
                              ["Gold"]),
    "retention below range": ("log_analytics_workspace", {"name": "law-ok", "resource_group": RG,
                                                          "location": "westeurope", "retention_in_days": 5},
                              ["retention_in_days", "5"]),
    "retention above range": ("log_analytics_workspace", {"name": "law-ok", "resource_group": RG,
                                                          "location": "westeurope", "retention_in_days": 1000},
                              ["retention_in_days", "1000"]),
    "retention not a number": ("log_analytics_workspace", {"name": "law-ok", "resource_group": RG,
                                                           "location": "westeurope", "retention_in_days": "a month"},
                               ["retention_in_days"]),
    "resource group name with a space": ("log_analytics_workspace",
                                         {"name": "law-ok", "resource_group": "rg bad", "location": "westeurope"},
                                         ["rg bad"]),
    "workspace state unknown": ("log_analytics_workspace",
                                {"name": "law-ok", "resource_group": RG, "state": "enabled"}, ["state", "enabled"]),
    "group name with a slash": ("hybrid_worker_group", {"name": "east/west", "resource_group": RG,
                                                        "automation_account": AA}, ["east/west"]),
    "group name with a question mark": ("hybrid_worker_group", {"name": "east?", "resource_group": RG,
                                                                "automation_account": AA}, ["east?"]),
    "group name of 129 characters": ("hybrid_worker_group", {"name": "g" * 129, "resource_group": RG,
                                                             "automation_account": AA}, ["g" * 20]),
    "automation account name too short": ("hybrid_worker_group", {"name": "east", "resource_group": RG,
                                                                  "automation_account": "aa"}, ["aa"]),
    "prune days not a number": ("hybrid_worker_group", {"name": "east", "resource_group": RG, "automation_account": AA,
                                                        "prune_last_seen_days": "soon"}, ["prune_last_seen_days"]),
    "worker id not a GUID": ("hybrid_worker", {"group": "east", "worker_id": "worker-1", "resource_group": RG,
                                               "automation_account": AA}, ["worker-1"]),
    "VM resource id malformed": ("hybrid_worker", {"group": "east", "vm_resource_id": "/subscriptions/x/vm1",
                                                   "resource_group": RG, "automation_account": AA},
                                 ["/subscriptions/x/vm1"]),
    "registration info of an account name starting with a hyphen": (
        "automation_registration_info", {"resource_group": RG, "automation_account": "-aa-hybrid"}, ["-aa-hybrid"]),
    "heartbeat query with workspace id and name": (
        "log_analytics_heartbeat_info", {"workspace_id": GUID, "workspace_name": "law-ok", "resource_group": RG,
                                         "computers": ["WIN-001"]}, ["workspace_id", "workspace_name"]),
    "heartbeat workspace id not a GUID": ("log_analytics_heartbeat_info",
                                          {"workspace_id": "law-hybrid", "computers": ["WIN-001"]}, ["law-hybrid"]),
    "linked service with an invalid account name": (
        "log_analytics_linked_service", {"workspace_name": "law-ok", "resource_group": RG,
                                         "automation_account": "a_b"}, ["a_b"]),
}

# Windows modules: run on a host; the host's state must not change.
WINDOWS_MODULE_CASES = {
    "registration URL not a URL": ("win_hybrid_runbook_worker", {"group_name": "east", "url": "agentsvc.example",
                                                                 "key": KEY, "wait_timeout": 1}, ["agentsvc.example"]),
    "registration URL over http": ("win_hybrid_runbook_worker",
                                   {"group_name": "east", "url": "http://127.0.0.1/agentsvc/accounts/" + GUID,
                                    "key": KEY, "wait_timeout": 1}, ["http://127.0.0.1"]),
    "registration key not base64": ("win_hybrid_runbook_worker",
                                    {"group_name": "east", "url": "https://127.0.0.1/agentsvc/accounts/" + GUID,
                                     "key": "not a key!", "wait_timeout": 1},
                                    ["key is not an Automation account registration key", "Base64"]),
    "worker group name Azure refuses (on the host)": (
        "win_hybrid_runbook_worker", {"group_name": "east:west", "url": "https://127.0.0.1/agentsvc/accounts/" + GUID,
                                      "key": KEY, "wait_timeout": 1}, ["east:west"]),
    "installer URL without checksum": ("win_log_analytics_agent",
                                       {"installer_url": "https://127.0.0.1/installers/MMASetup-AMD64.exe",
                                        "workspaces": [{"id": GUID, "key": KEY}]}, ["installer_checksum"]),
    "workspace id not a GUID (agent)": ("win_log_analytics_agent",
                                        {"installer_url": "https://127.0.0.1/installers/MMASetup-AMD64.exe",
                                         "installer_checksum": "0" * 64, "workspaces": [{"id": "law-1", "key": KEY}]},
                                        ["law-1"]),
    "workspace key not base64 (agent)": ("win_log_analytics_agent",
                                         {"installer_url": "https://127.0.0.1/installers/MMASetup-AMD64.exe",
                                          "installer_checksum": "0" * 64, "workspaces": [{"id": GUID, "key": "x y"}]},
                                         ["the key of workspace '%s'" % GUID, "Base64"]),
    "installer URL and path together": ("win_log_analytics_agent",
                                        {"installer_url": "https://127.0.0.1/installers/MMASetup-AMD64.exe",
                                         "installer_path": "C:\\Temp\\MMASetup-AMD64.exe", "installer_checksum": "0" * 64,
                                         "workspaces": [{"id": GUID, "key": KEY}]},
                                        ["installer_url", "installer_path"]),
    "agent state unknown": ("win_log_analytics_agent", {"state": "installed", "workspaces": []}, ["state", "installed"]),
}


class BadInputLab:
    def __init__(self, lab):
        self.lab = lab
        self.module_run = None
        self.module_results = {}
        self.azure_requests = None
        self.host_commands = None
        self.hosts_changed = None


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    lab = ReliabilityLab.start(str(tmp_path_factory.mktemp("badinput")), ["2019", "2019"], pump=False)
    try:
        yield BadInputLab(lab)
    finally:
        lab.stop()


def task(index, module, arguments):
    return {"name": "case %d" % index, "azure_automation.hybrid_worker." + module: arguments,
            "register": "case_%d" % index, "ignore_errors": True}


@pytest.fixture(scope="module")
def module_results(bad):
    """Every module case in one ansible-playbook run; the lab counters and host state are read around it."""
    lab = bad.lab
    azure_cases = list(AZURE_MODULE_CASES.items())
    windows_cases = list(WINDOWS_MODULE_CASES.items())
    results_file = os.path.join(lab.dir, "bad-input-results-{{ inventory_hostname }}.json")
    collect = {"name": "collect", "ansible.builtin.copy": {"dest": results_file, "content": "{{ results | to_json }}"},
               "delegate_to": "localhost"}
    plays = [
        {"name": "Azure modules", "hosts": "localhost", "connection": "local", "gather_facts": False,
         "tasks": [task(i, module, args) for i, (_id, (module, args, _fragments)) in enumerate(azure_cases)]
         + [dict(collect, vars={"results": dict(("case_%d" % i, "{{ case_%d }}" % i) for i in range(len(azure_cases)))})]},
        {"name": "Windows modules", "hosts": "win-001", "gather_facts": False,
         "tasks": [task(i, module, args) for i, (_id, (module, args, _fragments)) in enumerate(windows_cases)]
         + [dict(collect, vars={"results": dict(("case_%d" % i, "{{ case_%d }}" % i) for i in range(len(windows_cases)))})]},
    ]
    path = os.path.join(lab.dir, "bad-input.yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(plays, handle)
    hosts_before = lab.host_states()
    lab.stats(reset=True)
    run = lab.run(path, "-e", "ansible_python_interpreter=" + _python())
    stats = lab.stats()
    bad.module_run = run
    bad.azure_requests = stats["azure"]["requests_total"]
    bad.host_commands = stats["windows"]["module_calls_per_host"]
    bad.hosts_changed = sorted(name for name, data in lab.host_states().items() if hosts_before.get(name) != data)
    results = {}
    for name, cases in (("localhost", azure_cases), ("win-001", windows_cases)):
        with open(os.path.join(lab.dir, "bad-input-results-%s.json" % name), encoding="utf-8") as handle:
            found = json.load(handle)
        for index, (case_id, _spec) in enumerate(cases):
            results[case_id] = found["case_%d" % index]
    bad.module_results = results
    return bad


def _python():
    import sys  # pylint: disable=import-outside-toplevel
    return sys.executable


# Cases whose guarantee does not hold yet, with the bug (the test still runs and must fail: strict).
KNOWN_BUGS = {}


def with_known_bugs(case_ids):
    return [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[c])) if c in KNOWN_BUGS else c
            for c in case_ids]


@pytest.mark.parametrize("case_id", with_known_bugs(list(AZURE_MODULE_CASES) + list(WINDOWS_MODULE_CASES)))
def test_module_refuses_bad_input_before_any_request(module_results, case, case_id):
    module, arguments, fragments = dict(AZURE_MODULE_CASES, **WINDOWS_MODULE_CASES)[case_id]
    result = module_results.module_results[case_id]
    case("bad_inputs", case_id, level="module", module=module, message=result.get("msg"),
         order=list(AZURE_MODULE_CASES).index(case_id) if case_id in AZURE_MODULE_CASES
         else 100 + list(WINDOWS_MODULE_CASES).index(case_id))
    assert result.get("failed") is True, (case_id, result)
    for fragment in fragments:
        assert fragment in result["msg"], (case_id, fragment, result["msg"])
    # A refused secret is not echoed back (Ansible would mask it, leaving the asterisks in the message).
    secrets = [w["key"] for w in arguments.get("workspaces", [])] + ([arguments["key"]] if "key" in arguments else [])
    assert not [s for s in secrets if s in result["msg"]] and "********" not in result["msg"], result["msg"]
    # The whole batch made no request to Azure (no token either) and changed no host.
    assert module_results.azure_requests == 0
    assert module_results.hosts_changed == []


# Playbook level: case id -> (extra arguments for onboard.yml, host variables, drop the group of this host,
# fragments of the message).
PLAYBOOK_CASES = {
    "hybrid_worker_type unknown (playbook)": (["-e", "automation_prerequisites_hybrid_worker_type=extension"], {}, None,
                                              ["automation_prerequisites_hybrid_worker_type 'extension' is not supported"]),
    "workspace name breaking ARM rules (playbook)": (["-e", "automation_prerequisites_workspace_name=law_hybrid"], {},
                                                     None, ["law_hybrid"]),
    "unknown location (playbook)": (["-e", "automation_prerequisites_location=mars-central"], {}, None, ["mars-central"]),
    "retention out of range (playbook)": (["-e", "automation_prerequisites_workspace_retention_in_days=5"], {}, None,
                                          ["retention_in_days"]),
    "retention of the wrong type (playbook)": (["-e", "automation_prerequisites_workspace_retention_in_days=month"], {},
                                               None, ["automation_prerequisites_workspace_retention_in_days"]),
    "inventory host without a group (playbook)": ([], {}, "win-002", ["win-002", "hybrid_runbook_worker_group"]),
    "group name Azure refuses (playbook)": ([], {"win-001": {"hybrid_runbook_worker_group": "east/west"}}, None,
                                            ["east/west"]),
    "installer URL without checksum (playbook)": (["-e", "log_analytics_agent_installer_checksum="], {}, None,
                                                  ["installer_checksum"]),
}


def inventory_without_group(lab, host):
    """A copy of the lab's inventory where ``host`` has no hybrid_runbook_worker_group, as a user could forget it."""
    with open(os.path.join(lab.dir, "inventory.yml"), encoding="utf-8") as handle:
        text = fleet_lab.inventory_with_group(handle.read(), host, None)
    path = os.path.join(lab.dir, "inventory-no-group.yml")
    # It holds the hosts' passwords, like the inventory it copies: private to its owner.
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


@pytest.mark.parametrize("case_id", with_known_bugs(list(PLAYBOOK_CASES)))
def test_onboard_refuses_bad_input_before_any_request(bad, case, case_id):
    lab = bad.lab
    args, host_vars, drop_group, fragments = PLAYBOOK_CASES[case_id]
    case("bad_inputs", case_id, level="playbook", order=200 + list(PLAYBOOK_CASES).index(case_id))
    lab.set_host_vars(host_vars)
    inventory = inventory_without_group(lab, drop_group) if drop_group else None
    hosts_before = lab.host_states()
    lab.stats(reset=True)
    try:
        run = lab.run("onboard", *args, inventory=inventory)
    finally:
        lab.set_host_vars({})
    stats = lab.stats()
    message = first_failure(run)
    case.note(message=message)
    assert run.rc != 0, run.describe()
    for fragment in fragments:
        assert fragment in (message or ""), (fragment, message)
    assert stats["azure"]["requests_total"] == 0, stats["azure"]["arm"]["by_operation"]
    assert stats["windows"]["commands_total"] == 0, stats["windows"]["commands_per_host"]
    assert lab.host_states() == hosts_before
