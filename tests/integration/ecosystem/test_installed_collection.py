"""The collection as users install it: tarball, `ansible-galaxy collection install`, playbook run by its FQCN.

Nothing here can reach the checkout: PYTHONPATH is dropped, ANSIBLE_COLLECTIONS_PATH names only the fresh install,
and the playbook runs from an empty folder. A small lab fleet (two simulated servers, two worker groups) is onboarded
through `ansible-playbook azure_automation.hybrid_worker.onboard`, and the result is read back from the labs.
"""
import json
import os
import subprocess

import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import AzureSide, WindowsLab

from .conftest import installed_env, run_tool, tool

GROUPS = ("hrw-east", "hrw-west")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    lab = WindowsLab.start(str(tmp_path_factory.mktemp("installed-lab")), hosts=2, groups=",".join(GROUPS), profile="2019",
                           extra=("--hybrid-registration-delay", "0.5", "--heartbeat-interval", "1"))
    try:
        yield lab
    finally:
        lab.stop()


def fleet_variables(lab_json):
    azure, installer = lab_json["azure"], lab_json["installers"]["mma_x64"]
    return {
        "automation_prerequisites_resource_group": azure["resource_group"],
        "automation_prerequisites_automation_account": azure["automation_account"],
        "automation_prerequisites_workspace_name": "law-installed-flow",
        "automation_prerequisites_location": azure["location"],
        "log_analytics_agent_installer_url": installer["url"],
        "log_analytics_agent_installer_checksum": installer["sha256"],
        "hybrid_runbook_worker_wait_timeout": 30,
        "hybrid_worker_heartbeat_delay": 1,
        "hybrid_worker_heartbeat_retries": 30,
    }


def test_only_the_installed_copy_is_visible(installed_collections):
    listed = run_tool([tool("ansible-galaxy"), "collection", "list", "azure_automation.hybrid_worker", "--format", "json"],
                      env=installed_env(installed_collections), cwd=str(installed_collections))
    paths = json.loads(listed.stdout)
    assert list(paths) == [str(installed_collections / "ansible_collections")], paths


def test_onboard_by_fqcn_from_the_installed_collection(fleet, installed_collections, tmp_path):
    lab_json = fleet.lab_json
    extra_vars = tmp_path / "fleet-vars.json"
    extra_vars.write_text(json.dumps(fleet_variables(lab_json)))
    env = installed_env(installed_collections, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
                        ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
                        **lab_json["azure"]["env"])
    # One host at a time: the Windows lab's installer cache is not safe yet for two hosts storing the same download
    # at once (tests/lab/windows/host.py store_blob shares one temporary file name).
    run = subprocess.run([tool("ansible-playbook"), "azure_automation.hybrid_worker.onboard", "-i", fleet.inventory,
                          "-e", "@%s" % extra_vars, "--forks", "1"],
                         capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False, timeout=300)
    assert run.returncode == 0, "onboard failed (rc %d):\n%s\n%s" % (run.returncode, run.stdout[-4000:], run.stderr[-2000:])
    result = json.loads(run.stdout[run.stdout.index("{"):])
    stats = result["stats"]
    assert sorted(stats) == ["win-001", "win-002"]
    assert all(s["failures"] == 0 and s["unreachable"] == 0 and s["changed"] > 0 for s in stats.values()), stats
    # Every play and task the run loaded comes from the installed copy.
    installed = str(installed_collections / "ansible_collections" / "azure_automation" / "hybrid_worker") + os.sep
    origins = [play["play"]["path"] for play in result["plays"]]
    origins += [task["task"]["path"] for play in result["plays"] for task in play["tasks"]]
    assert origins and all(path.startswith(installed) for path in origins), sorted(set(origins))
    assert any(path.startswith(installed + "playbooks/onboard.yml:") for path in origins)
    # The default worker type (extension) ran: its plays and, for these new hosts, the Azure side of the
    # hybrid_worker_extension role, all from the installed copy.
    assert any(path.startswith(installed + "playbooks/extension/onboard.yml:") for path in origins)
    assert any(path.startswith(installed + "roles/hybrid_worker_extension/tasks/worker_in_azure.yml:") for path in origins)

    azure = AzureSide(lab_json)
    expected = {}
    for host in stats:
        expected.setdefault(inventory_group(fleet, host), []).append(host.upper())
    assert sorted(expected) == sorted(GROUPS)
    for group, hosts in expected.items():
        assert sorted(w["workerName"].upper() for w in azure.workers(group)) == sorted(hosts), group


def inventory_group(fleet, host):
    """The worker group the lab inventory gives the host."""
    import yaml  # pylint: disable=import-outside-toplevel

    with open(fleet.inventory, encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    return inventory["all"]["children"]["windows"]["hosts"][host]["hybrid_runbook_worker_group"]
