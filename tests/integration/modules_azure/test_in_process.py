"""The Azure modules in the controller's process and as modules: the same results, errors and secrecy, no write in
check mode.

One inventory holds two local hosts that differ only in the interpreter path: the Python of ansible-playbook (the
module's main() runs in the worker process) and another name of it in the same folder (a different path, so the module
runs as a module). A third host's task is delegated to the implicit localhost.
"""
import json
import os
import re
import subprocess
import sys

from ansible_collections.azure_automation.hybrid_worker.tests.integration.modules_azure.conftest import COLLECTIONS, PLAYBOOKS, leaked_secrets
from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import testing as lab_testing

WRONG_SECRET = "in-process-wrong-secret-3f9c1d7e"
MODULES = ("automation_registration_info", "hybrid_worker", "hybrid_worker_group", "hybrid_worker_group_info",
           "hybrid_worker_prerequisites")


ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def controller_python():
    """The interpreter of ansible-playbook (its sys.executable), from its first line."""
    with open(ANSIBLE_PLAYBOOK, encoding="utf-8") as handle:
        return handle.readline()[2:].strip()


def other_name_of(python):
    """Another path of ``python`` in the same folder (a virtualenv has python, python3, python3.N)."""
    folder = os.path.dirname(python)
    for name in ("python3", "python", "python%d.%d" % sys.version_info[:2]):
        path = os.path.join(folder, name)
        if path != python and os.path.realpath(path) == os.path.realpath(python):
            return path
    raise AssertionError("no other name of %s in its folder" % python)


def test_in_process_and_module_results_are_the_same(azure_lab, tmp_path):
    from azure.mgmt.loganalytics import LogAnalyticsManagementClient  # pylint: disable=import-outside-toplevel
    client = LogAnalyticsManagementClient(lab_testing.credential(azure_lab.lab), azure_lab.subscription_id,
                                          **lab_testing.client_kwargs(azure_lab.lab))
    workspace = "law-it-in-process"
    client.workspaces.begin_create_or_update(azure_lab.resource_group, workspace, {"location": azure_lab.location}).result()

    in_process_python = controller_python()
    other_python = other_name_of(in_process_python)
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[pair]\nin_process ansible_connection=local ansible_python_interpreter=%s\n"
                         "as_module ansible_connection=local ansible_python_interpreter=%s\n"
                         "[elsewhere]\nremote ansible_connection=ssh ansible_host=192.0.2.10\n" % (in_process_python, other_python),
                         encoding="utf-8")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("AZURE_"))
    env.update(azure_lab.env)
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_PIPELINING="1", ANSIBLE_FORKS="5",
               PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
    variables = dict(lab_dir=azure_lab.dir, labctl=lab_testing.LABCTL, lab_python=sys.executable, resource_group=azure_lab.resource_group,
                     automation_account=azure_lab.automation_account, location=azure_lab.location, workspace=workspace,
                     wrong_secret=WRONG_SECRET)
    secrets_before = azure_lab.secrets()
    writes_before = azure_lab.control.stats()["arm"]["writes"]

    command = [ANSIBLE_PLAYBOOK, "-vvv", "-i", str(inventory),
               "-e", json.dumps(variables), os.path.join(PLAYBOOKS, "in_process.yml")]
    proc = subprocess.run(command, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    azure_lab.control.clear_faults()

    assert proc.returncode == 0, output[-8000:]
    # The client secret, workspace and registration keys, tokens and the wrong secret given as an argument: in neither way.
    assert leaked_secrets(azure_lab, output, secrets_before | {WRONG_SECRET}) == []
    # Check mode and reads only: no ARM write in either way.
    assert azure_lab.control.stats()["arm"]["writes"] == writes_before
    for module in MODULES:
        name = "azure_automation.hybrid_worker." + module
        assert "Running %s in the controller's process" % name in output
        assert "Running %s as a module: the module would run under %s" % (name, other_python) in output
    # Only the as_module host ran modules: the delegated task ran in the process too.
    assert len(re.findall(r"Using module file \S*/azure_automation/hybrid_worker/plugins/modules/", output)) == output.count("as a module:")
