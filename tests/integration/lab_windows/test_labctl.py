"""labctl's Windows commands outside a running fleet: no fleet for `--hosts 0`, state readable after `down`; the
inventory it writes is all the default onboarding needs."""
import json
import os
import stat
import subprocess
import sys
import time

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import LABCTL, WindowsLab

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")


def labctl(lab_dir, *args, check=True):
    proc = subprocess.run([sys.executable, LABCTL, args[0], "--dir", lab_dir] + list(args[1:]), capture_output=True,
                          text=True, check=False, timeout=120)
    assert not check or proc.returncode == 0, proc.stderr
    return proc


def test_up_without_hosts_starts_no_fleet(tmp_path):
    lab_dir = str(tmp_path)
    try:
        labctl(lab_dir, "up")
        status = json.loads(labctl(lab_dir, "status").stdout)["windows"]
        assert status["running"] is False and status["hosts"] == 0
        assert not os.path.exists(os.path.join(lab_dir, "inventory.yml"))
        assert "windows" not in json.loads(open(os.path.join(lab_dir, "lab.json"), encoding="utf-8").read())
        assert json.loads(labctl(lab_dir, "stats").stdout)["windows"]["commands_total"] == 0
    finally:
        labctl(lab_dir, "down", check=False)


def test_state_survives_down_and_faults_apply_on_restart(tmp_path):
    lab = WindowsLab.start(str(tmp_path), hosts=2)
    try:
        lab.drift("win-001", "remove-psmodule", "PowerShellGet")
        lab.stop()
        assert lab.host("win-001")["summary"]["psmodules"] == ["PackageManagement 1.0.0.1"]
        lab.fault("win-002", "unreachable")  # recorded while the fleet is down
        lab.labctl("up", "--hosts", "2")
        result = lab.run_play([{"ansible.windows.win_ping": {}}])
        assert result.ok("win-001") and result.result("win-002")["unreachable"] is True
        assert labctl(str(tmp_path), "host", "win-009", check=False).returncode != 0
        bad = labctl(str(tmp_path), "fault", "win-001", "no-such-fault", check=False)
        assert bad.returncode != 0 and "unknown fault 'no-such-fault'" in bad.stderr
    finally:
        lab.stop()


def test_inventory_alone_onboards_the_fleet_as_extension_based_workers(tmp_path):
    """`ansible-playbook -i DIR/inventory.yml` with azure.env exported is all the fleet playbooks need: the default
    worker type (extension) onboards the lab's hosts through Azure Arc."""
    import yaml  # pylint: disable=import-outside-toplevel

    lab_dir = str(tmp_path)
    lab = WindowsLab.start(lab_dir, hosts=2, groups="east", extra=("--heartbeat-interval", "1"))
    try:
        lab_json = lab.lab_json
        azure, installers = lab_json["azure"], lab_json["installers"]
        with open(lab.inventory, encoding="utf-8") as handle:
            inventory = yaml.safe_load(handle)
        assert inventory["all"]["vars"] == {
            "automation_prerequisites_resource_group": azure["resource_group"],
            "automation_prerequisites_automation_account": azure["automation_account"],
            "automation_prerequisites_workspace_name": "law-hybrid-workers",
            "automation_prerequisites_location": azure["location"],
            "log_analytics_agent_installer_url": installers["mma_x64"]["url"],
            "log_analytics_agent_installer_checksum": installers["mma_x64"]["sha256"],
            "arc_agent_installer_url": installers["arc_agent"]["url"],
            "arc_agent_installer_checksum": installers["arc_agent"]["sha256"],
            "arc_agent_tenant_id": azure["env"]["AZURE_TENANT"],
            "arc_agent_subscription_id": azure["subscription_id"],
            "arc_agent_resource_group": azure["resource_group"],
            "arc_agent_location": azure["location"],
            "arc_agent_service_principal_id": azure["env"]["AZURE_CLIENT_ID"],
            "arc_agent_service_principal_secret": "{{ lookup('ansible.builtin.env', 'AZURE_SECRET') }}",
        }
        # The secret itself stays in lab.json (and the exported azure.env); the inventory holds the hosts' passwords:
        # private to its owner, like lab.json.
        with open(lab.inventory, encoding="utf-8") as handle:
            assert azure["env"]["AZURE_SECRET"] not in handle.read()
        assert stat.S_IMODE(os.stat(lab.inventory).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.join(lab_dir, "lab.json")).st_mode) == 0o600

        env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("AZURE_", "ANSIBLE_")))
        env.update(azure["env"], ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=os.path.join(lab_dir, "ansible-tmp"), ANSIBLE_HOME=os.path.join(lab_dir, "ansible-home"),
                   PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
        proc = subprocess.run(["ansible-playbook", "-i", lab.inventory, "azure_automation.hybrid_worker.onboard"],
                              env=env, cwd=lab_dir, capture_output=True, text=True, check=False, timeout=300)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        assert '"east: 2/2 onboarded (extension-based), 2 changed (win-001, win-002)"' in proc.stdout, proc.stdout[-4000:]
        deadline = time.monotonic() + 30
        for name in ("win-001", "win-002"):
            summary = lab.host(name)["summary"]
            assert summary["arc_agent"]["status"] == "Connected", summary
            # Azure sees the worker once its extension is provisioned; the lab host installs the extension (and starts
            # the worker service) at its next report, a heartbeat interval later.
            while summary["hybrid_worker_v2"]["service"] != "Running":
                assert time.monotonic() < deadline, summary
                time.sleep(0.5)
                summary = lab.host(name)["summary"]
            # Nothing of the agent-based kind was installed.
            assert summary["hrw"]["registered_group"] is None, summary
        assert azure["env"]["AZURE_SECRET"] not in proc.stdout + proc.stderr
    finally:
        lab.stop()
