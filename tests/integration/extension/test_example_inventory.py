"""The example inventory (inventory/) is ready for the default, extension-based flow: every Windows host has the Arc
onboarding variables, and the service principal secret comes from the example vault."""
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
INVENTORY = os.path.join(ROOT, "inventory")
ARC_VARIABLES = ("arc_agent_tenant_id", "arc_agent_subscription_id", "arc_agent_resource_group", "arc_agent_location",
                 "arc_agent_service_principal_id", "arc_agent_service_principal_secret", "arc_agent_installer_url",
                 "arc_agent_installer_checksum")


def test_example_inventory_onboards_extension_based_workers_with_the_secret_from_the_vault(tmp_path):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    env.update(ANSIBLE_CONFIG=os.path.join(INVENTORY, "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
    # debug runs on the controller: the hosts are not contacted; the vault is opened with the example password.
    template = "{{ dict(names | zip(names | map('extract', vars))) | combine({'type': hybrid_worker_type | default('extension')}) }}"
    proc = subprocess.run(["ansible", "windows", "-i", "hosts.yml", "-m", "ansible.builtin.debug",
                           "-a", "msg=%s" % template, "-e", json.dumps({"names": list(ARC_VARIABLES)})],
                          cwd=INVENTORY, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]
    assert len(results) == 7
    for host, result in results.items():
        values = result["msg"]
        assert values["type"] == "extension", host
        assert all(values[name] for name in ARC_VARIABLES), (host, values)
        assert values["arc_agent_service_principal_secret"] == "example-only-not-a-real-secret", host
    with open(os.path.join(INVENTORY, "group_vars", "windows", "vault.yml"), encoding="utf-8") as handle:
        assert handle.readline().startswith("$ANSIBLE_VAULT;")
