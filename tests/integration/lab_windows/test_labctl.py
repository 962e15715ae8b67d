"""labctl's Windows commands outside a running fleet: no fleet for `--hosts 0`, state readable after `down`."""
import json
import os
import subprocess
import sys

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import LABCTL, WindowsLab


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


def test_inventory_carries_the_fleet_wide_azure_names_and_installer(tmp_path):
    """`ansible-playbook -i DIR/inventory.yml` with azure.env exported is all the fleet playbooks need."""
    import yaml  # pylint: disable=import-outside-toplevel

    lab = WindowsLab.start(str(tmp_path), hosts=1)
    try:
        with open(os.path.join(str(tmp_path), "lab.json"), encoding="utf-8") as handle:
            lab_json = json.load(handle)
        with open(os.path.join(str(tmp_path), "inventory.yml"), encoding="utf-8") as handle:
            inventory = yaml.safe_load(handle)
        assert inventory["all"]["vars"] == {
            "automation_prerequisites_resource_group": lab_json["azure"]["resource_group"],
            "automation_prerequisites_automation_account": lab_json["azure"]["automation_account"],
            "automation_prerequisites_workspace_name": "law-hybrid-workers",
            "automation_prerequisites_location": lab_json["azure"]["location"],
            "log_analytics_agent_installer_url": lab_json["installers"]["mma_x64"]["url"],
            "log_analytics_agent_installer_checksum": lab_json["installers"]["mma_x64"]["sha256"],
        }
        assert inventory["all"]["children"]["windows"]["hosts"]["win-001"]["ansible_port"]
    finally:
        lab.stop()
