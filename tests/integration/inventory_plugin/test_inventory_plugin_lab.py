"""The hybrid_workers inventory plugin through ansible-inventory, against the Azure lab.

The lab gets V1 workers registered through the agent service (as a server's registration cmdlet would) and a V2
worker through ARM; one V1 worker is then made stale by moving its last heartbeat 10 days back in the lab's saved
state while the lab is stopped (the lab has no clock to move forward).
"""
import datetime
import json
import os
import subprocess
import sys
import uuid

import pytest
import requests

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import signing, testing

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ANSIBLE_INVENTORY = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
PLUGIN = "azure_automation.hybrid_worker.hybrid_workers"
V2_MACHINE = "/subscriptions/{sub}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/machines/APP01"
# Worker group -> V1 machine names registered through the agent service.
V1_WORKERS = {"Web Servers": ["WEB01", "WEB02"], "batch-workers": ["OLD01"]}
STALE_MACHINE = "OLD01"


def register_v1(registration, group, machine, ip):
    body = json.dumps({"RunbookWorkerGroup": group, "MachineName": machine, "IpAddress": ip, "Thumbprint": "00" * 20,
                       "Issuer": "CN=" + machine, "Subject": "CN=" + machine, "OperatingSystem": 2,
                       "SMBIOSAssetTag": "", "VirtualMachineId": ""}).encode("utf-8")
    url = "%s/HybridV2(MachineId='%s')" % (registration["endpoint"].rstrip("/"), uuid.uuid4())
    headers = dict(signing.shared_headers(registration["keys"]["primary"], body), **{"Content-Type": "application/json"})
    answer = requests.put(url, data=body, headers=headers, verify=registration["ca_bundle"], timeout=30)
    assert answer.status_code == 200, answer.text


def backdate_last_seen(lab_dir, machine, days):
    """Stop the lab, move one worker's last heartbeat back in its saved state, start it again."""
    testing.labctl(lab_dir, "down")
    path = os.path.join(lab_dir, "azure", "state.json")
    with open(path, encoding="utf-8") as handle:
        state = json.load(handle)
    (record,) = [r for r in state["resources"].values() if r.get("kind") == "worker" and r.get("workerName") == machine]
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    record["lastSeenDateTime"] = moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    testing.labctl(lab_dir, "up")
    return testing.read_lab_json(lab_dir)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A lab of its own (its state is edited), with 3 user groups holding 3 V1 workers and 1 V2 worker."""
    lab_dir = str(tmp_path_factory.mktemp("inventory-lab"))
    with testing.running_lab(lab_dir) as lab_json:
        from azure.mgmt.automation import AutomationClient  # pylint: disable=import-outside-toplevel

        azure = lab_json["azure"]
        client = AutomationClient(testing.credential(lab_json), azure["subscription_id"], **testing.client_kwargs(lab_json))
        rg, account = azure["resource_group"], azure["automation_account"]
        info = client.agent_registration_information.get(rg, account).as_dict()
        registration = {"endpoint": info["endpoint"], "keys": info["keys"], "ca_bundle": azure["ca_bundle"]}
        for number, (group, machines) in enumerate(sorted(V1_WORKERS.items())):
            for index, machine in enumerate(machines):
                register_v1(registration, group, machine, "10.0.%d.%d" % (number, index + 10))
        client.hybrid_runbook_worker_group.create(rg, account, "app-v2", {"properties": {}})
        client.hybrid_runbook_workers.create(rg, account, "app-v2", str(uuid.uuid4()),
                                             {"properties": {"vmResourceId": V2_MACHINE.format(sub=azure["subscription_id"])}})
        lab_json = backdate_last_seen(lab_dir, STALE_MACHINE, days=10)
        yield {"dir": lab_dir, "json": lab_json, "control": testing.LabControl(lab_dir)}


def write_config(directory, name="lab.hybrid_workers.yml", **options):
    config = {"plugin": PLUGIN, "resource_group": "", "automation_account": ""}
    config.update(options)
    path = os.path.join(str(directory), name)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config, handle)
    return path


def lab_config(lab, directory, **options):
    azure = lab["json"]["azure"]
    return write_config(directory, resource_group=azure["resource_group"], automation_account=azure["automation_account"], **options)


def ansible_inventory(lab, *args, env_overrides=None, check=True):
    env = dict(os.environ)
    env.update(testing.lab_environment(lab["json"]))
    env.update(ANSIBLE_INVENTORY_UNPARSED_FAILED="true", **(env_overrides or {}))
    result = subprocess.run([ANSIBLE_INVENTORY] + list(args), capture_output=True, text=True, env=env, cwd=ROOT, check=False,
                            timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout, object_hook=plain)
    return result


def plain(value):
    """Values from Azure come out marked unsafe (never templated); the tests compare the text itself."""
    return value["__ansible_unsafe"] if set(value) == {"__ansible_unsafe"} else value


def hosts_of(inventory, group):
    return sorted(inventory.get(group, {}).get("hosts", []))


def test_lists_workers_grouped_with_a_stale_one(lab, tmp_path):
    inventory = ansible_inventory(lab, "-i", lab_config(lab, tmp_path), "--list")
    assert hosts_of(inventory, "hybrid_worker_group_web_servers") == ["web01", "web02"]
    assert hosts_of(inventory, "hybrid_worker_group_batch_workers") == ["old01"]
    assert hosts_of(inventory, "hybrid_worker_group_app_v2") == ["app01"]
    hostvars = inventory["_meta"]["hostvars"]
    assert sorted(hostvars) == ["app01", "old01", "web01", "web02"]
    assert {h: v["azure_hybrid_worker_stale"] for h, v in hostvars.items()} == {"app01": False, "old01": True, "web01": False, "web02": False}
    web01 = hostvars["web01"]
    assert (web01["azure_hybrid_worker_name"], web01["azure_hybrid_worker_type"], web01["azure_hybrid_worker_group"], web01["azure_hybrid_worker_ip"]) == (
        "WEB01", "V1", "Web Servers", "10.0.0.10")
    assert web01["azure_hybrid_worker_registered"] and web01["azure_hybrid_worker_last_seen"]
    ten_days_ago = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=10)).date().isoformat()
    assert hostvars["old01"]["azure_hybrid_worker_last_seen"][:10] <= ten_days_ago
    app = hostvars["app01"]
    assert app["azure_hybrid_worker_type"] == "V2"
    assert app["azure_hybrid_worker_vm_resource_id"].lower() == V2_MACHINE.format(sub=lab["json"]["azure"]["subscription_id"]).lower()


def test_reads_do_not_grow_with_workers_and_the_cache_serves_the_second_run(lab, tmp_path):
    cache_dir = tmp_path / "cache"
    config = lab_config(lab, tmp_path, cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache_dir))
    control = lab["control"]
    control.reset_stats()
    first = ansible_inventory(lab, "-i", config, "--list")
    after_first = control.stats()
    # The account, the group list, then one worker list per group (3): never one read per worker.
    assert after_first["arm"]["reads"] == 5, after_first["arm"]["by_operation"]
    assert after_first["arm"]["writes"] == 0
    assert after_first["token"]["requests"] == 1

    second = ansible_inventory(lab, "-i", config, "--list")
    after_second = control.stats()
    assert after_second["arm"] == after_first["arm"], "the second run must read the cache, not ARM"
    assert after_second["token"]["requests"] == after_first["token"]["requests"]
    assert second == first

    ansible_inventory(lab, "-i", config, "--list", "--flush-cache")
    assert control.stats()["arm"]["reads"] == 10, "--flush-cache reads Azure again"


def test_next_to_a_static_inventory(lab, tmp_path):
    """Hosts only one side knows show up: the static one lacks web02 and old01, Azure lacks web03."""
    static = tmp_path / "hosts.yml"
    static.write_text("windows:\n  hosts:\n    web01:\n      hybrid_runbook_worker_group: Web Servers\n    web03:\n"
                      "      hybrid_runbook_worker_group: Web Servers\n")
    config = lab_config(lab, tmp_path, groups={"stale_hybrid_workers": "azure_hybrid_worker_stale"})
    inventory = ansible_inventory(lab, "-i", str(static), "-i", config, "--list")
    hostvars = inventory["_meta"]["hostvars"]
    static_hosts = set(hosts_of(inventory, "windows"))
    known_to_azure = set(h for h, v in hostvars.items() if "azure_hybrid_worker_id" in v)
    assert sorted(static_hosts - known_to_azure) == ["web03"]
    assert sorted(known_to_azure - static_hosts) == ["app01", "old01", "web02"]
    assert hostvars["web01"]["hybrid_runbook_worker_group"] == hostvars["web01"]["azure_hybrid_worker_group"] == "Web Servers"
    assert hosts_of(inventory, "stale_hybrid_workers") == ["old01"]


def test_wrong_secret_fails_with_one_sentence_and_no_secret(lab, tmp_path):
    wrong = "wrong-" + uuid.uuid4().hex
    result = ansible_inventory(lab, "-i", lab_config(lab, tmp_path), "--list", env_overrides={"AZURE_SECRET": wrong}, check=False)
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    azure = lab["json"]["azure"]
    assert ("hybrid_workers inventory: Failed to read Automation account '%s': AuthenticationFailed: the Entra ID token request "
            "for tenant %s at %s failed because " % (azure["automation_account"], azure["env"]["AZURE_TENANT"],
                                                     azure["env"]["AZURE_AUTHORITY_HOST"])) in output
    assert wrong not in output and azure["env"]["AZURE_SECRET"] not in output


def test_missing_account_is_named(lab, tmp_path):
    azure = lab["json"]["azure"]
    config = write_config(tmp_path, resource_group=azure["resource_group"], automation_account="aa-does-not-exist")
    result = ansible_inventory(lab, "-i", config, "--list", check=False)
    assert result.returncode != 0
    assert ("hybrid_workers inventory: Automation account 'aa-does-not-exist' was not found in resource group '%s'"
            % azure["resource_group"]) in " ".join(result.stderr.split())


def test_throttled_list_is_retried(lab, tmp_path):
    """A 429 with Retry-After on the group list is retried (max_retries), not reported as a failure."""
    control = lab["control"]
    control.reset_stats()
    control.fault("throttle", operation="HybridRunbookWorkerGroup_ListByAutomationAccount", count=1, retry_after=0)
    try:
        inventory = ansible_inventory(lab, "-i", lab_config(lab, tmp_path), "--list")
    finally:
        control.clear_faults()
    assert hosts_of(inventory, "hybrid_worker_group_web_servers") == ["web01", "web02"]
    by_status = control.stats()["arm"]["by_status"]
    assert by_status.get("429") == 1, by_status


def test_no_secret_in_verbose_output_or_cache(lab, tmp_path):
    cache_dir = tmp_path / "cache"
    config = lab_config(lab, tmp_path, cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache_dir))
    result = ansible_inventory(lab, "-i", config, "--list", "-vvvv", check=False)
    assert result.returncode == 0, result.stderr
    secrets = [s for s in lab["control"].secrets() if len(s) >= 8]
    assert secrets
    cached = "".join(path.read_text() for path in cache_dir.iterdir())
    assert "web01" in cached.lower()
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr and secret not in cached
