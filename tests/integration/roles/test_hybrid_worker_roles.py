"""The three roles against the lab: the real ansible-playbook, winrm connection and Azure SDKs, simulated hosts.

One lab (Azure + a small fleet) serves the whole file; each test uses its own hosts so the order of tests does not
matter except where a test says it continues another host's story. Profiles per host are listed in HOSTS.
"""
import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import WindowsLab, ansible_env

GROUPS = ("hrw-east", "hrw-west")
# host -> profile (labctl assigns profiles in this order); groups alternate hrw-east / hrw-west.
HOSTS = {
    "win-001": "2019",                              # converge, re-run, diff, move, absent
    "win-002": "2019",                              # check mode on a bare host
    "win-003": "2016",                              # .NET 4.6.2 without strong crypto: TLS fix needed
    "win-004": "2019+dotnet45",
    "win-005": "2019+tls12-disabled",
    "win-006": "2019+agent-old",
    "win-007": "2022+agent-other-workspace",
    "win-008": "2019+legacy-registry",
    "win-009": "2019+leftover-registration",
    "win-010": "2019+system-worker",
    "win-011": "2012r2",
    "win-012": "2019",                              # installer and registration faults, one per host
    "win-013": "2019",
    "win-014": "2019",
    "win-015": "2019",
    "win-016": "2019",
    "win-017": "2019",
    "win-018": "2019+ps4",
    "win-019": "2019",                              # unreachable
    "win-020": "2019",                              # wrong credentials
    "win-021": "2019",                              # drift corrected by a re-run
    "win-022": "2019",                              # -vvv output scanned for secrets
    "win-023": "2019",                              # the agent service keeps answering "already registered"
    "win-024": "2019",                              # slow host: only slower
}
HOST_GROUPS = {name: GROUPS[index % len(GROUPS)] for index, name in enumerate(HOSTS)}
WORKSPACE = "law-hybrid-workers"
AGENT_TASK = "Install and configure the Log Analytics agent"
WORKER_TASK = "Register the host as a Hybrid Runbook Worker"
PROBE_TASK = "Read the host's agent, worker and PowerShell module state"
PSMODULE_TASKS = ("List the PowerShell modules installed on the host",
                  "Install the PowerShell modules runbooks need that are missing")

POWERSHELL_MODULES = [{"name": "Az.Accounts", "version": "2.19.0"}, {"name": "Az.Automation"}]

ONBOARD = [
    {
        "name": "Azure side, once",
        "hosts": "localhost",
        "gather_facts": False,
        "roles": [{"role": "azure_automation.hybrid_worker.automation_prerequisites",
                   "vars": {"automation_prerequisites_worker_hosts": "{{ query('inventory_hostnames', targets) }}"}}],
    },
    {
        "name": "Windows side",
        "hosts": "{{ targets }}",
        "gather_facts": False,
        "roles": ["azure_automation.hybrid_worker.log_analytics_agent",
                  "azure_automation.hybrid_worker.hybrid_runbook_worker"],
    },
]
# The Windows play alone, for tests about host behaviour: the secrets the first play would hand over come as
# variables (read once per lab), which saves the controller-side module runs of the Azure play.
WINDOWS_ONLY = ONBOARD[1:]
GROUP_INFO = [{
    "name": "Read the worker groups",
    "hosts": "localhost",
    "gather_facts": False,
    "tasks": [{"name": "groups", "azure_automation.hybrid_worker.hybrid_worker_group_info": {
        "resource_group": "{{ automation_prerequisites_resource_group }}",
        "automation_account": "{{ automation_prerequisites_automation_account }}"}}],
}]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab_dir = str(tmp_path_factory.mktemp("roles-lab"))
    fleet = WindowsLab.start(lab_dir, hosts=len(HOSTS), groups=",".join(GROUPS), profile=",".join(HOSTS.values()),
                             extra=("--hybrid-registration-delay", "0.5"))
    try:
        yield RoleLab(fleet)
    finally:
        fleet.stop()


class RoleLab:
    """The lab plus the playbooks, variables and result helpers these tests share."""

    def __init__(self, fleet):
        self.fleet = fleet
        info = fleet.lab_json
        azure, installer = info["azure"], info["installers"]["mma_x64"]
        self.env = dict(azure["env"])
        self.installer = installer
        self.vars = {
            "automation_prerequisites_resource_group": azure["resource_group"],
            "automation_prerequisites_automation_account": azure["automation_account"],
            "automation_prerequisites_workspace_name": WORKSPACE,
            "automation_prerequisites_location": azure["location"],
            "log_analytics_agent_installer_url": installer["url"],
            "log_analytics_agent_installer_checksum": installer["sha256"],
            "hybrid_runbook_worker_wait_timeout": 20,
            "hybrid_runbook_worker_powershell_modules": POWERSHELL_MODULES,
        }
        self.onboard_path = self._write("onboard.yml", ONBOARD)
        self.windows_path = self._write("windows.yml", WINDOWS_ONLY)
        self.azure_path = self._write("azure.yml", ONBOARD[:1])
        self.group_info_path = self._write("group-info.yml", GROUP_INFO)
        self._handover = None
        self._secrets = None

    def _write(self, name, data):
        path = os.path.join(self.fleet.dir, name)
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(data, handle)
        return path

    def inventory_with(self, name, host_vars):
        """A copy of the lab inventory with extra variables for some hosts."""
        with open(self.fleet.inventory, encoding="utf-8") as handle:
            inventory = yaml.safe_load(handle)
        hosts = inventory["all"]["children"]["windows"]["hosts"]
        for host, values in host_vars.items():
            hosts[host].update(values)
        return self._write(name, inventory)

    def onboard(self, targets, check=False, diff=False, inventory=None, **variables):
        """The whole onboarding: the Azure play (automation_prerequisites) then the Windows roles."""
        extra = dict(self.vars, targets=targets, **variables)
        return self.fleet.run_playbook(self.onboard_path, check=check, diff=diff, extra_vars=extra, env=self.env,
                                       inventory=inventory, forks=10)

    def converge_windows(self, targets, check=False, diff=False, inventory=None, **variables):
        """Only the Windows roles, with what automation_prerequisites hands over given as variables."""
        extra = dict(self.vars, targets=targets, **self.handover())
        extra.update(variables)
        return self.fleet.run_playbook(self.windows_path, check=check, diff=diff, extra_vars=extra, env=self.env,
                                       inventory=inventory, forks=10)

    def handover(self):
        """The facts automation_prerequisites sets on the hosts (runs its play first if the Azure side is missing)."""
        if self._handover is None:
            read = self._read_azure()
            if read is None:
                azure = self.fleet.run_playbook(self.azure_path, extra_vars=dict(self.vars, targets="windows"),
                                                env=self.env)
                assert azure.returncode == 0, azure.stderr
                read = self._read_azure()
            keys, registration, workspace = read
            self._handover = {
                "automation_prerequisites_workspace_id": workspace["customer_id"],
                "automation_prerequisites_workspace_key": keys["primary_shared_key"],
                "automation_prerequisites_registration_url": registration["registration_url"],
                "automation_prerequisites_registration_key": registration["primary_key"],
            }
            self._secrets = [keys["primary_shared_key"], keys["secondary_shared_key"], registration["primary_key"],
                             registration["secondary_key"]]
        return self._handover

    def _read_azure(self):
        run = self.fleet.run_play([
            {"name": "workspace", "azure_automation.hybrid_worker.log_analytics_workspace": {
                "name": WORKSPACE, "resource_group": self.vars["automation_prerequisites_resource_group"],
                "return_shared_keys": True}},
            {"name": "registration", "azure_automation.hybrid_worker.automation_registration_info": {
                "resource_group": self.vars["automation_prerequisites_resource_group"],
                "automation_account": self.vars["automation_prerequisites_automation_account"]}},
        ], hosts="localhost", env=self.env, check=True)
        workspace = task_result(run, "workspace", "localhost")
        if not workspace or workspace.get("failed") or not workspace.get("shared_keys"):
            return None
        return workspace["shared_keys"], task_result(run, "registration", "localhost"), workspace["workspace"]

    def secrets(self):
        """The workspace and registration keys, to prove they never show up."""
        self.handover()
        return self._secrets

    def azure_workers(self):
        """{group: [worker names]} as the Azure lab holds them, read through the collection's info module."""
        run = self.fleet.run_playbook(self.group_info_path, extra_vars=self.vars, env=self.env)
        result = task_result(run, "groups", "localhost")
        assert result and not result.get("failed"), result
        return {g["name"]: sorted(w["name"] for w in g["workers"]) for g in result["groups"]}

    def host(self, name):
        return self.fleet.host(name)


def task_name(task):
    """A task's own name, without the ``role : `` prefix the callback adds."""
    return task["task"]["name"].rsplit(" : ", 1)[-1]


def task_results(run, name):
    """{host: result} of every task called ``name`` (last one wins), across plays."""
    found = {}
    for play in run.data["plays"]:
        for task in play["tasks"]:
            if task_name(task) == name:
                found.update(task["hosts"])
    return found


def task_result(run, name, host):
    return task_results(run, name).get(host)


def changed_tasks(run, host):
    names = []
    for play in run.data["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get(host)
            if result and result.get("changed"):
                names.append(task_name(task))
    return names


def summary(state):
    return state["summary"]


def user_groups(state):
    return [(w["account_id"], w["group"]) for w in summary(state)["hrw"]["user_workers"]]


def user_group_names(state):
    return [w["group"] for w in summary(state)["hrw"]["user_workers"]]


def test_bare_host_converges_and_a_rerun_changes_nothing(lab):
    first = lab.onboard("win-001")
    assert first.returncode == 0, first.stderr
    assert set(changed_tasks(first, "win-001")) == {AGENT_TASK, WORKER_TASK, PSMODULE_TASKS[1]}
    state = lab.host("win-001")
    assert summary(state)["mma"]["DisplayVersion"] == lab.installer["version"]
    assert summary(state)["health_service"] == "Running"
    assert summary(state)["hrw"]["layout"] == "current"
    worker = task_result(first, WORKER_TASK, "win-001")
    assert worker["registered"] is True and worker["group"] == "hrw-east" and worker["previous_group"] is None
    assert user_groups(state) == [(worker["account_id"], "hrw-east")]
    agent = task_result(first, AGENT_TASK, "win-001")
    assert agent["version"] == lab.installer["version"]
    assert [w["connected"] for w in agent["workspaces"]] == [True]
    assert "win-001".upper() in lab.azure_workers()["hrw-east"]
    assert {(m["name"], m["version"]) for m in lab.host("win-001")["psmodules"]} >= {("Az.Accounts", "2.19.0")}
    assert [m["name"] for m in lab.host("win-001")["psmodules"]].count("Az.Automation") == 1

    # Converged: every task unchanged, one module call each for the agent and the worker, no Azure write.
    lab.fleet.labctl("stats", "--reset")
    again = lab.onboard("win-001")
    assert again.returncode == 0, again.stderr
    assert changed_tasks(again, "win-001") == [] and changed_tasks(again, "localhost") == []
    stats = json.loads(lab.fleet.labctl("stats").stdout)
    calls = stats["windows"]["module_calls_per_host"]["win-001"]
    # One read-only call finds everything right, so neither the agent nor the worker module runs.
    assert calls == {"azure_automation.hybrid_worker.win_hybrid_worker_info": 1}
    assert stats["azure"]["arm"]["writes"] == 0
    probe = task_result(again, PROBE_TASK, "win-001")
    assert probe["hybrid_registration"]["path"].endswith("\\HybridRegistration\\HybridRegistration.psd1")

    # No key reached a command line the host recorded.
    secrets = lab.secrets()
    command_lines = json.dumps(lab.host("win-001")["processes"])
    assert "setup.exe" in command_lines
    assert not [s for s in secrets if s in command_lines]


def test_check_mode_on_a_bare_host_reports_changes_and_changes_nothing(lab):
    lab.handover()  # the Azure side must exist for check mode to read the keys
    before = lab.host("win-002")
    lab.fleet.labctl("stats", "--reset")
    run = lab.onboard("win-002", check=True)
    assert run.returncode == 0, run.stderr
    azure = json.loads(lab.fleet.labctl("stats").stdout)["azure"]
    assert azure["arm"]["writes"] == 0 and azure["agentsvc"]["register"] == 0
    assert task_result(run, AGENT_TASK, "win-002")["changed"] is True
    worker = task_result(run, WORKER_TASK, "win-002")
    assert worker["changed"] is True and worker["group"] == "hrw-west"
    after = lab.host("win-002")
    for key in ("registry", "services", "files", "agent", "processes", "psmodules"):
        assert after[key] == before[key], key


def test_diff_shows_workspaces_and_groups_without_keys(lab):
    lab.converge_windows("win-011")
    inventory = lab.inventory_with("inventory-diff.yml", {"win-011": {"hybrid_runbook_worker_group": "hrw-diff"}})
    run = lab.converge_windows("win-011", diff=True, inventory=inventory, log_analytics_agent_remove_unlisted_workspaces=True)
    assert run.returncode == 0, run.stderr
    worker = task_result(run, WORKER_TASK, "win-011")
    assert worker["diff"]["before"]["group"] == "hrw-east" and worker["diff"]["after"]["group"] == "hrw-diff"
    fresh = lab.converge_windows("win-002", diff=True, check=True)
    agent = task_result(fresh, AGENT_TASK, "win-002")
    assert agent["diff"]["before"]["workspaces"] == []
    assert len(agent["diff"]["after"]["workspaces"]) == 1
    output = json.dumps(run.data) + run.stderr + json.dumps(fresh.data) + fresh.stderr
    assert not [s for s in lab.secrets() if s in output]


def test_a_group_change_in_the_inventory_moves_the_worker_and_absent_removes_it(lab):
    lab.converge_windows("win-001")
    inventory = lab.inventory_with("inventory-move.yml", {"win-001": {"hybrid_runbook_worker_group": "hrw-west"}})
    run = lab.converge_windows("win-001", inventory=inventory)
    assert run.returncode == 0, run.stderr
    worker = task_result(run, WORKER_TASK, "win-001")
    assert (worker["changed"], worker["group"], worker["previous_group"]) == (True, "hrw-west", "hrw-east")
    assert user_group_names(lab.host("win-001")) == ["hrw-west"]
    workers = lab.azure_workers()
    assert "WIN-001" in workers["hrw-west"] and "WIN-001" not in workers.get("hrw-east", [])

    gone = lab.converge_windows("win-001", inventory=inventory, hybrid_runbook_worker_state="absent")
    assert gone.returncode == 0, gone.stderr
    worker = task_result(gone, WORKER_TASK, "win-001")
    assert (worker["changed"], worker["registered"], worker["previous_group"]) == (True, False, "hrw-west")
    assert user_groups(lab.host("win-001")) == []
    assert "WIN-001" not in lab.azure_workers()["hrw-west"]
    again = lab.converge_windows("win-001", inventory=inventory, hybrid_runbook_worker_state="absent")
    assert task_result(again, WORKER_TASK, "win-001")["changed"] is False


PREREQUISITE_FAILURES = {
    "win-003": "TLS 1.2 (SCHANNEL TLS 1.2 client enabled, and SchUseStrongCrypto=1 for .NET before 4.7; set "
               "fix_tls_settings to true to configure them)",
    "win-004": ".NET Framework 4.6.2 or later (release 394802, found 378389)",
    "win-005": "TLS 1.2 (SCHANNEL TLS 1.2 client enabled",
}
# Windows PowerShell 4.0: Ansible's own bootstrap refuses the host before the module runs.
TOO_OLD_POWERSHELL = {"win-018": "Ansible requires PowerShell v5.1"}


def test_missing_prerequisites_fail_naming_what_is_missing_and_the_tls_fix_works(lab):
    targets = ",".join(list(PREREQUISITE_FAILURES) + list(TOO_OLD_POWERSHELL))
    run = lab.converge_windows(targets)
    for host, expected in TOO_OLD_POWERSHELL.items():
        # The first module to reach the host is the read-only probe; Ansible refuses to run it there.
        result = task_result(run, PROBE_TASK, host)
        assert result["failed"] is True and expected in result["msg"]
    for host, expected in PREREQUISITE_FAILURES.items():
        result = task_result(run, AGENT_TASK, host)
        assert result["failed"] is True
        assert result["msg"].startswith("The host does not meet the Log Analytics agent prerequisites, missing: ")
        assert expected in result["msg"]
        assert summary(lab.host(host))["mma"] is None
    fixed = lab.converge_windows("win-003,win-005", log_analytics_agent_fix_tls_settings=True)
    assert fixed.returncode == 0, fixed.stderr
    for host in ("win-003", "win-005"):
        result = task_result(fixed, AGENT_TASK, host)
        assert result["reboot_required"] is True and result["prerequisites"]["tls12_enabled"] is True
        assert summary(lab.host(host))["hrw"]["user_workers"]


def test_profiles_with_an_existing_agent_or_registration(lab):
    inventory = lab.inventory_with("inventory-profiles.yml", {
        "win-006": {"log_analytics_agent_minimum_version": "10.20.18029.0"},
        "win-007": {"log_analytics_agent_remove_unlisted_workspaces": True},
    })
    run = lab.converge_windows("win-006,win-007,win-008,win-009,win-010", inventory=inventory)
    assert run.returncode == 0, run.stderr

    upgraded = task_result(run, AGENT_TASK, "win-006")
    assert upgraded["version"] == "10.20.18029.0"
    assert summary(lab.host("win-006"))["mma"]["DisplayVersion"] == "10.20.18029.0"

    other = lab.host("win-007")
    assert len(summary(other)["workspaces"]) == 1
    assert summary(other)["workspaces"] == [w["id"] for w in task_result(run, AGENT_TASK, "win-007")["workspaces"]]

    legacy = task_result(run, WORKER_TASK, "win-008")
    assert legacy["previous_group"] == "legacy-group" and legacy["group"] == "hrw-west"
    assert summary(lab.host("win-008"))["hrw"]["legacy_group"] is None

    leftover = task_result(run, WORKER_TASK, "win-009")
    assert leftover["previous_group"] == "old-group" and leftover["group"] == "hrw-east"
    assert any("only the key of account" in w for w in leftover.get("warnings", []))

    system = lab.host("win-010")
    assert summary(system)["hrw"]["system_workers"], "the system worker must survive"
    assert user_group_names(system) == ["hrw-west"]

    again = lab.converge_windows("win-006,win-007,win-008,win-009,win-010", inventory=inventory)
    for host in ("win-006", "win-007", "win-008", "win-009", "win-010"):
        assert changed_tasks(again, host) == [], host


FAULTS = {
    # host: (fault, value, task, message fragment)
    "win-012": ("download-failure", None, AGENT_TASK,
                "Failed to download the Log Analytics agent installer from 'https://"),
    "win-013": ("checksum-mismatch", None, AGENT_TASK, "not the expected installer_checksum"),
    "win-014": ("installer-exit", "1603", AGENT_TASK,
                "The Log Analytics agent setup failed with exit code 1603; its logs are in "),
    "win-015": ("registration", "401", WORKER_TASK, "the registration key is wrong or was regenerated"),
    "win-016": ("registration", "403", WORKER_TASK, "the machine clock may be more than 15 minutes off"),
    "win-023": ("registration", "409", WORKER_TASK,
                "Add-HybridRunbookWorker failed to register this machine in group 'hrw-east': Machine is already "
                "registered; see the Microsoft-SMA and Operations Manager event logs on the host."),
    "win-017": ("hybrid-registration-never", None, WORKER_TASK,
                "The HybridRegistration module did not arrive in C:\\Program Files\\Microsoft Monitoring Agent\\Agent\\"
                "AzureAutomation within 1 seconds. Likely causes: the workspace does not have the AzureAutomation "
                "solution enabled, or the agent is not connected to it (attached workspaces: "),
}


UNREACHABLE = {
    "win-019": ("unreachable", None),
    "win-020": ("wrong-credentials", None),
}


def test_faults_give_the_documented_message(lab):
    injected = dict({h: f[:2] for h, f in FAULTS.items()}, **UNREACHABLE)
    injected["win-024"] = ("slow", "100")
    for host, (fault, value) in injected.items():
        lab.fleet.fault(host, fault, value)
    try:
        run = lab.converge_windows(",".join(injected), hybrid_runbook_worker_wait_timeout=1)
    finally:
        for host in injected:
            lab.fleet.fault(host, "clear")
    slow = lab.host("win-024")
    assert user_group_names(slow) == [HOST_GROUPS["win-024"]], task_result(run, WORKER_TASK, "win-024")
    for host in UNREACHABLE:
        result = task_result(run, PROBE_TASK, host)
        assert result.get("unreachable") is True, (host, result)
        assert summary(lab.host(host))["mma"] is None
    for host, (fault, _value, task, fragment) in FAULTS.items():
        result = task_result(run, task, host)
        assert result["failed"] is True, (fault, result)
        assert fragment in result["msg"], (fault, result["msg"])
        state = lab.host(host)
        if task == AGENT_TASK:
            assert summary(state)["mma"] is None, fault
        else:
            assert summary(state)["mma"] is not None and user_groups(state) == [], fault


def test_unsupported_worker_type_is_refused_before_any_change(lab):
    before = lab.host("win-002")
    run = lab.onboard("win-002", automation_prerequisites_hybrid_worker_type="extension",
                      hybrid_runbook_worker_type="extension")
    assert run.returncode != 0
    result = task_result(run, "Refuse worker types this role does not prepare", "localhost")
    assert result["failed"] is True
    assert "automation_prerequisites_hybrid_worker_type 'extension' is not supported" in result["msg"]
    # The extension-based mode exists: the message points to it rather than promising it.
    assert "set hybrid_worker_type to 'extension'" in result["msg"] and "coming" not in result["msg"]
    after = lab.host("win-002")
    assert after["registry"] == before["registry"] and after["processes"] == before["processes"]


def test_a_rerun_corrects_drift(lab):
    assert lab.converge_windows("win-021").returncode == 0
    lab.fleet.drift("win-021", "unregister")  # restarts HealthService, so it goes before stop-service
    lab.fleet.drift("win-021", "stop-service")
    lab.fleet.drift("win-021", "remove-psmodule", "Az.Accounts")
    fix = lab.converge_windows("win-021")
    assert fix.returncode == 0, fix.stderr
    assert set(changed_tasks(fix, "win-021")) == {AGENT_TASK, WORKER_TASK, PSMODULE_TASKS[1]}
    installs = task_results(fix, PSMODULE_TASKS[1])["win-021"]["results"]
    assert [r["item"]["name"] for r in installs if not r.get("skipped")] == ["Az.Accounts"]
    state = lab.host("win-021")
    assert summary(state)["health_service"] == "Running"
    assert user_group_names(state) == [HOST_GROUPS["win-021"]]
    assert changed_tasks(lab.converge_windows("win-021"), "win-021") == []


def test_verbose_output_of_a_full_onboarding_holds_no_secret(lab):
    extra = dict(lab.vars, targets="win-022")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "--diff", "-i",
               lab.fleet.inventory, lab.onboard_path, "-e", json.dumps(extra)]
    env = ansible_env(lab.env)
    env.pop("ANSIBLE_STDOUT_CALLBACK")
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=300,
                          cwd=lab.fleet.dir)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "win-022" in proc.stdout and "changed=3" in proc.stdout
    output = proc.stdout + proc.stderr
    assert not [s for s in lab.secrets() if s in output]
    # Nor in the lab's logs (its state files hold the keys like the real stores do, so they are not scanned).
    logs = [os.path.join(folder, name) for folder, _dirs, files in os.walk(lab.fleet.dir) for name in files
            if name.endswith((".log", ".jsonl"))]
    assert logs
    for path in logs:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        assert not [s for s in lab.secrets() if s in text], path


def test_azure_reads_follow_groups_not_hosts(lab):
    lab.handover()  # the Azure side exists
    reads = {}
    for targets in ("win-001,win-002", "windows"):
        lab.fleet.labctl("stats", "--reset")
        run = lab.fleet.run_playbook(lab.azure_path, extra_vars=dict(lab.vars, targets=targets), env=lab.env)
        assert run.returncode == 0, run.stderr
        arm = json.loads(lab.fleet.labctl("stats").stdout)["azure"]["arm"]
        assert arm["writes"] == 0
        reads[targets] = arm["reads"]
    # Two hosts in two groups cost as many reads as the whole fleet in the same two groups.
    assert reads["win-001,win-002"] == reads["windows"]


def test_missing_handover_inputs_fail_with_a_clear_message(lab):
    before = lab.host("win-002")
    run = lab.converge_windows("win-002", hybrid_runbook_worker_registration_key="",
                               log_analytics_agent_workspaces=[{"id": "", "key": ""}])
    agent = task_result(run, "Check that every workspace has an id and a key", "win-002")
    assert agent["failed"] is True
    assert agent["msg"].startswith("log_analytics_agent_workspaces needs an id and a key for every workspace")
    assert lab.host("win-002")["processes"] == before["processes"]
    run = lab.converge_windows("win-002", hybrid_runbook_worker_registration_key="",
                               log_analytics_agent_state="absent")
    worker = task_result(run, "Check the registration inputs", "win-002")
    assert worker["failed"] is True and "the registration URL and key" in worker["msg"]
    assert lab.secrets()[2] not in json.dumps(run.data)
