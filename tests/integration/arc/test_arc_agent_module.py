"""win_connected_machine_agent and the arc_agent role on lab hosts, through the real winrm connection.

Each scenario reads the state back from the Windows lab (``labctl host``) and from the Azure lab (ARM GET of the
Microsoft.HybridCompute machine): install + connect from bare, converged re-run, check mode, reconnect semantics,
disconnect, the secret kept off command lines and out of -vvv output and lab files, stale V2 keys, and the
extension's on-host effects following what Azure says about the machine.
"""
import json
import os
import subprocess
import sys
import tempfile

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import ansible_env

from conftest import HC_API, RG_API

MODULE = "azure_automation.hybrid_worker.win_connected_machine_agent"
V2_KEY = "HKLM:\\SOFTWARE\\Microsoft\\HybridRunbookWorkerV2"
AZURE_HW_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Azure\\HybridWorker"
AA_API = "2024-10-23"


def machine_path(azure, name, resource_group=None):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.HybridCompute/machines/%s" % (
        azure.info["subscription_id"], resource_group or azure.info["resource_group"], name)


def get_machine(azure, name, resource_group=None):
    status, answer = azure.call("GET", machine_path(azure, name, resource_group), HC_API)
    assert status in (200, 404), answer
    return answer if status == 200 else None


def run(lab, host, args, check=False, diff=False):
    result = lab.run_play([{MODULE: args}], hosts=host, check=check, diff=diff)
    return result.result(host)


def arc_counters(lab):
    return dict(json.loads(lab.labctl("stats").stdout)["azure"]["arcagent"])


def test_bare_host_check_mode_then_install_connect_and_converge(arc_lab, azure, arc_args):
    before = arc_lab.host("win-001")
    checked = run(arc_lab, "win-001", arc_args, check=True, diff=True)
    assert checked["changed"] is True and not checked.get("failed"), checked
    assert checked["diff"]["before"]["installed"] is False
    assert checked["diff"]["after"]["status"] == "Connected"
    assert checked["resource_id"].endswith("/providers/Microsoft.HybridCompute/machines/WIN-001")
    after_check = arc_lab.host("win-001")
    assert after_check["summary"]["arc_agent"] is None
    assert after_check["processes"] == before["processes"] == []
    assert get_machine(azure, "WIN-001") is None

    first = run(arc_lab, "win-001", dict(arc_args, tags={"role": "hybrid-worker"}))
    assert first["changed"] is True and not first.get("failed"), first
    assert first["status"] == "Connected" and first["installed"] is True
    assert first["agent_version"] == arc_lab.lab_json["installers"]["arc_agent"]["version"]
    machine = get_machine(azure, "WIN-001")
    assert machine is not None and machine["properties"]["status"] == "Connected"
    assert machine["id"].lower() == first["resource_id"].lower()
    assert machine["tags"] == {"role": "hybrid-worker"}
    assert machine["properties"]["osType"] == "windows"
    state = arc_lab.host("win-001")
    assert state["services"]["himds"]["status"] == "Running"
    assert state["summary"]["arc_agent"]["resourceName"] == "WIN-001"
    commands = [p["command_line"] for p in state["processes"]]
    assert any("msiexec.exe\" /i" in c and "AzureConnectedMachineAgent.msi" in c for c in commands)
    assert any(" connect --config " in c for c in commands)
    # The configuration file with the secret is gone once azcmagent has read it.
    assert not [f for f in state["files"] if f.endswith("azcmagent-config.json")]

    counters = arc_counters(arc_lab)
    arc_lab.labctl("stats", "--reset")
    again = run(arc_lab, "win-001", dict(arc_args, tags={"role": "hybrid-worker"}))
    assert again["changed"] is False and not again.get("failed"), again
    assert again["resource_id"] == first["resource_id"]
    azure_stats = json.loads(arc_lab.labctl("stats").stdout)["azure"]
    assert azure_stats["arm"]["writes"] == 0
    assert azure_stats["arcagent"]["connect"] == 0 and azure_stats["arcagent"]["disconnect"] == 0
    assert counters["connect"] >= 1
    assert arc_lab.host("win-001")["processes"] == state["processes"]

    # Connected as asked, the agent needs no secret: without it the module reads the host and changes nothing.
    unsecret = dict((key, value) for key, value in arc_args.items() if key != "service_principal_secret")
    without_secret = run(arc_lab, "win-001", dict(unsecret, tags={"role": "hybrid-worker"}))
    assert without_secret["changed"] is False and not without_secret.get("failed"), without_secret
    assert "secret_required" not in without_secret
    assert without_secret["resource_id"] == first["resource_id"]


def test_secret_never_on_a_command_line_in_output_or_in_lab_files(arc_lab, arc_args):
    secret = arc_args["service_principal_secret"]
    play = [{"name": "arc", "hosts": "win-002", "gather_facts": False, "tasks": [{MODULE: arc_args}]}]
    fd, path = tempfile.mkstemp(suffix=".yml", dir=arc_lab.dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(play, handle)
    try:
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", arc_lab.inventory, "-vvv",
               "--diff", path]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env({"ANSIBLE_STDOUT_CALLBACK": "default"}),
                              check=False, timeout=300, cwd=arc_lab.dir)
    finally:
        os.unlink(path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "changed=1" in proc.stdout
    assert secret not in proc.stdout and secret not in proc.stderr
    state = arc_lab.host("win-002")
    assert any(" connect --config " in p["command_line"] for p in state["processes"])
    assert all(secret not in p["command_line"] for p in state["processes"])
    # Nothing the lab writes outside its secret stores (lab.json, the Azure state) holds it either.
    leaks = []
    for root, _dirs, files in os.walk(arc_lab.dir):
        for name in files:
            full = os.path.join(root, name)
            if name in ("lab.json", "state.json") or name.endswith((".pem", ".key", ".lock")):
                continue
            with open(full, "rb") as handle:
                if secret.encode() in handle.read():
                    leaks.append(os.path.relpath(full, arc_lab.dir))
    assert leaks == []
    assert json.loads(arc_lab.labctl("stats").stdout)["windows"].get("secret_leaks", 0) == 0


def test_connected_elsewhere_fails_unless_reconnect(arc_lab, azure, arc_args):
    # win-002 is connected to the lab's resource group by the previous test; ask for another group.
    other_group = "rg-arc-other"
    group_path = "/subscriptions/%s/resourcegroups/%s" % (azure.info["subscription_id"], other_group)
    status, answer = azure.call("PUT", group_path, RG_API, {"location": azure.info["location"]})
    assert status in (200, 201), answer
    run(arc_lab, "win-002", arc_args)
    assert get_machine(azure, "WIN-002") is not None
    before = arc_lab.host("win-002")
    moved_args = dict(arc_args, resource_group=other_group)
    refused = run(arc_lab, "win-002", moved_args)
    assert refused["failed"] is True and refused["changed"] is False
    assert refused["msg"] == (
        "The Azure Connected Machine agent is connected as 'WIN-002' in resource group '%(rg)s' of subscription "
        "'%(sub)s' (%(loc)s), not 'WIN-002' in resource group '%(other)s' of subscription '%(sub)s' (%(loc)s); set "
        "reconnect to true to disconnect it from there and connect it as 'WIN-002' in resource group '%(other)s' of "
        "subscription '%(sub)s' (%(loc)s)." % {"rg": azure.info["resource_group"], "sub": azure.info["subscription_id"],
                                               "loc": azure.info["location"], "other": other_group})
    assert arc_lab.host("win-002")["processes"] == before["processes"]

    checked = run(arc_lab, "win-002", dict(moved_args, reconnect=True), check=True)
    assert checked["changed"] is True and checked["resource_group"] == other_group
    assert get_machine(azure, "WIN-002") is not None and get_machine(azure, "WIN-002", other_group) is None

    moved = run(arc_lab, "win-002", dict(moved_args, reconnect=True))
    assert moved["changed"] is True and not moved.get("failed"), moved
    assert moved["resource_group"] == other_group and moved["status"] == "Connected"
    assert get_machine(azure, "WIN-002") is None
    assert get_machine(azure, "WIN-002", other_group)["properties"]["status"] == "Connected"
    assert run(arc_lab, "win-002", dict(moved_args, reconnect=True))["changed"] is False


def test_profile_connected_to_another_subscription_is_refused(arc_lab, arc_args):
    result = run(arc_lab, "win-004", arc_args)
    assert result["failed"] is True and result["changed"] is False
    assert "is connected as 'WIN-004' in resource group 'other-arc-servers'" in result["msg"]
    assert result["status"] == "Connected" and result["resource_group"] == "other-arc-servers"


def test_disconnect_deletes_the_azure_machine_and_uninstall_removes_the_agent(arc_lab, azure, arc_args):
    other_group = "rg-arc-other"
    assert get_machine(azure, "WIN-002", other_group) is not None
    refused = run(arc_lab, "win-002", {"state": "absent"})
    assert refused["failed"] is True and refused["msg"] == (
        "Disconnecting deletes the Azure Arc machine 'WIN-002' and needs service_principal_id and "
        "service_principal_secret; set force_local_only to true to only reset the agent.")
    absent_args = {"state": "absent", "service_principal_id": arc_args["service_principal_id"],
                   "service_principal_secret": arc_args["service_principal_secret"]}
    checked = run(arc_lab, "win-002", absent_args, check=True)
    assert checked["changed"] is True and checked["status"] == "Disconnected"
    assert get_machine(azure, "WIN-002", other_group) is not None

    gone = run(arc_lab, "win-002", absent_args)
    assert gone["changed"] is True and gone["status"] == "Disconnected" and gone["resource_id"] is None
    assert get_machine(azure, "WIN-002", other_group) is None
    assert run(arc_lab, "win-002", absent_args)["changed"] is False

    removed = run(arc_lab, "win-002", dict(absent_args, uninstall=True))
    assert removed["changed"] is True and removed["installed"] is False
    state = arc_lab.host("win-002")
    assert state["summary"]["arc_agent"] is None and "himds" not in state["services"]


def test_stale_v2_keys_are_removed_before_connecting(arc_lab, arc_args):
    before = arc_lab.host("win-003")["summary"]["hybrid_worker_v2"]
    assert before["stale"] is True and before["registry_keys"] == [V2_KEY, AZURE_HW_KEY]
    checked = run(arc_lab, "win-003", arc_args, check=True, diff=True)
    assert checked["hybrid_worker"]["removed_registry_keys"] == [V2_KEY, AZURE_HW_KEY]
    assert checked["diff"]["before"]["stale_hybrid_worker_keys"] == [V2_KEY, AZURE_HW_KEY]
    assert checked["diff"]["after"]["stale_hybrid_worker_keys"] == []
    assert arc_lab.host("win-003")["summary"]["hybrid_worker_v2"]["stale"] is True

    result = run(arc_lab, "win-003", arc_args)
    assert result["changed"] is True and not result.get("failed"), result
    assert result["hybrid_worker"] == {"service": None, "registry_keys": [], "stale": False,
                                       "removed_registry_keys": [V2_KEY, AZURE_HW_KEY]}
    assert arc_lab.host("win-003")["summary"]["hybrid_worker_v2"]["registry_keys"] == []


def _put_worker_and_extension(azure, machine_id):
    status, account = azure.call("GET", azure.account_path, AA_API)
    assert status == 200, account
    group = azure.account_path + "/hybridRunbookWorkerGroups/arc-group"
    status, answer = azure.call("PUT", group, AA_API, {"properties": {}})
    assert status in (200, 201), answer
    worker_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    status, answer = azure.call("PUT", group + "/hybridRunbookWorkers/" + worker_id, AA_API,
                                {"properties": {"vmResourceId": machine_id}})
    assert status in (200, 201), answer
    status, answer = azure.call("PUT", machine_id + "/extensions/HybridWorkerExtension", HC_API, {
        "location": azure.info["location"],
        "properties": {"publisher": "Microsoft.Azure.Automation.HybridWorker", "type": "HybridWorkerForWindows",
                       "typeHandlerVersion": "1.1", "autoUpgradeMinorVersion": True, "enableAutomaticUpgrade": True,
                       "settings": {"AutomationAccountURL": account["properties"]["automationHybridServiceUrl"]}}})
    assert status == 202, answer
    return group + "/hybridRunbookWorkers/" + worker_id


def _extension_state(azure, machine_id):
    status, answer = azure.call("GET", machine_id + "/extensions/HybridWorkerExtension", HC_API)
    return answer["properties"]["provisioningState"] if status == 200 else None


def _settle(azure, machine_id, wanted, lab=None):
    import time  # pylint: disable=import-outside-toplevel
    for _attempt in range(60):
        if lab is not None:
            lab.heartbeat()
        if _extension_state(azure, machine_id) == wanted:
            return
        time.sleep(0.1)
    raise AssertionError("extension never reached %s (is %s)" % (wanted, _extension_state(azure, machine_id)))


def test_extension_effects_follow_azure_and_stale_keys_hang_the_next_install(arc_lab, azure, arc_args):
    machine_id = run(arc_lab, "win-003", arc_args)["resource_id"]
    worker = _put_worker_and_extension(azure, machine_id)
    _settle(azure, machine_id, "Succeeded")
    arc_lab.heartbeat()
    v2 = arc_lab.host("win-003")["summary"]["hybrid_worker_v2"]
    assert v2["service"] == "Running" and v2["registry_keys"] == [V2_KEY, AZURE_HW_KEY] and not v2["stale"]
    assert v2["plugin_versions"] == ["1.1.13"]
    status, record = azure.call("GET", worker, AA_API)
    assert status == 200 and record["properties"]["workerType"] == "HybridV2" and record["properties"]["lastSeenDateTime"]
    converged = run(arc_lab, "win-003", arc_args)
    assert converged["changed"] is False and converged["hybrid_worker"]["service"] == "Running"

    # Removed through Azure: the service and plugin folder go, the keys stay (reference 5.2).
    status, answer = azure.call("DELETE", machine_id + "/extensions/HybridWorkerExtension", HC_API)
    assert status == 202, answer
    _settle(azure, machine_id, None)
    arc_lab.heartbeat()
    v2 = arc_lab.host("win-003")["summary"]["hybrid_worker_v2"]
    assert v2["service"] is None and v2["stale"] is True and v2["plugin_versions"] == []

    # With stale keys the next install never finishes (Transitioning) ...
    _put_worker_and_extension(azure, machine_id)
    arc_lab.heartbeat()
    import time  # pylint: disable=import-outside-toplevel
    time.sleep(1.2)
    assert _extension_state(azure, machine_id) == "Creating"
    # ... until the module cleans them; the agent then reports the handler ready and the install completes.
    cleaned = run(arc_lab, "win-003", arc_args)
    assert cleaned["changed"] is True
    assert cleaned["hybrid_worker"]["removed_registry_keys"] == [V2_KEY, AZURE_HW_KEY]
    _settle(azure, machine_id, "Succeeded", arc_lab)
    arc_lab.heartbeat()
    assert arc_lab.host("win-003")["summary"]["hybrid_worker_v2"]["service"] == "Running"


def test_agent_disconnected_behind_ansibles_back_is_reconnected(arc_lab, azure, arc_args):
    arc_lab.drift("win-001", "arc-disconnect")
    assert get_machine(azure, "WIN-001") is None
    assert arc_lab.host("win-001")["summary"]["arc_agent"]["status"] == "Disconnected"
    result = run(arc_lab, "win-001", arc_args)
    assert result["changed"] is True and result["status"] == "Connected"
    assert get_machine(azure, "WIN-001")["properties"]["status"] == "Connected"


def test_machine_deleted_in_azure_is_reset_locally_and_connected_again(arc_lab, azure, arc_args):
    status, answer = azure.call("DELETE", machine_path(azure, "WIN-001"), HC_API)
    assert status in (200, 202, 204), answer
    arc_lab.heartbeat()
    agent = arc_lab.host("win-001")["summary"]["arc_agent"]
    assert agent["status"] == "Disconnected" and agent["resourceName"] == "WIN-001"
    result = run(arc_lab, "win-001", arc_args)
    assert result["changed"] is True and result["status"] == "Connected"
    commands = [p["command_line"] for p in arc_lab.host("win-001")["processes"]][-2:]
    assert commands[0].endswith("disconnect --force-local-only") and " connect --config " in commands[1]
    assert get_machine(azure, "WIN-001") is not None


def test_faults_give_the_documented_messages(arc_lab, azure, arc_args):
    # win-002 was uninstalled by the disconnect test: a bare host again.
    arc_lab.fault("win-002", "installer-exit", 1603)
    failed = run(arc_lab, "win-002", arc_args)
    assert failed["failed"] is True and failed["installed"] is False
    assert failed["msg"].startswith("The Azure Connected Machine agent installer exited with code 1603; its log is ")
    arc_lab.fault("win-002", "clear")

    arc_lab.fault("win-002", "checksum-mismatch")
    failed = run(arc_lab, "win-002", arc_args)
    assert "not the expected installer_checksum %s." % arc_args["installer_checksum"] in failed["msg"]
    arc_lab.fault("win-002", "clear")

    arc_lab.fault("win-002", "arc-connect")
    failed = run(arc_lab, "win-002", arc_args)
    assert failed["msg"] == ("azcmagent connect failed with exit code 1: Connection to the Azure Arc endpoints failed: "
                             "Unable to connect to the remote server")
    assert failed["installed"] is True and failed["status"] == "Disconnected"
    arc_lab.fault("win-002", "clear")

    wrong = dict(arc_args, service_principal_secret="not-the-secret-of-this-principal")
    failed = run(arc_lab, "win-002", wrong)
    assert failed["msg"].startswith("azcmagent connect failed with exit code 1: invalid_client: AADSTS7000215")
    assert "not-the-secret-of-this-principal" not in json.dumps(failed)
    assert get_machine(azure, "WIN-002") is None
    assert run(arc_lab, "win-002", arc_args)["status"] == "Connected"
