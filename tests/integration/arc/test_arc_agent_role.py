"""The arc_agent role on lab hosts: input check, check mode on a bare host, converge from bare with one module call,
converged re-run, and the Azure Arc machine handed over as facts."""
import json

import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import WindowsLab

# Task positions in the play: the role's argument validation comes first.
CHECK, MODULE, FACTS = 1, 2, 3
ROLE = [{"name": "Azure Arc", "ansible.builtin.import_role": {"name": "azure_automation.hybrid_worker.arc_agent"}}]


@pytest.fixture(scope="module")
def arc_lab(tmp_path_factory):
    """One bare host is all the role tests need (overrides the folder's four-host fleet)."""
    lab = WindowsLab.start(str(tmp_path_factory.mktemp("arcrole")), hosts=1, profile="2019")
    yield lab
    lab.stop()


def role_vars(arc_args, **more):
    names = {"installer_url": "arc_agent_installer_url", "installer_checksum": "arc_agent_installer_checksum",
             "tenant_id": "arc_agent_tenant_id", "subscription_id": "arc_agent_subscription_id",
             "resource_group": "arc_agent_resource_group", "location": "arc_agent_location",
             "service_principal_id": "arc_agent_service_principal_id",
             "service_principal_secret": "arc_agent_service_principal_secret"}
    return dict({names[k]: v for k, v in arc_args.items()}, **more)


def play(lab, variables, host, check=False):
    return lab.run_play(ROLE, hosts=host, check=check, play_options={"vars": variables})


def test_missing_inputs_are_named_before_any_host_call(arc_lab, arc_args):
    variables = role_vars(arc_args, arc_agent_tenant_id="", arc_agent_service_principal_secret="")
    arc_lab.labctl("stats", "--reset")
    result = play(arc_lab, variables, "win-001")
    first = result.result("win-001", CHECK)
    assert first["failed"] is True
    assert first["msg"] == ("arc_agent needs arc_agent_tenant_id, arc_agent_service_principal_secret to connect the "
                            "host to Azure Arc (state present).")
    assert json.loads(arc_lab.labctl("stats").stdout)["windows"]["commands_per_host"].get("win-001", 0) == 0


def test_check_mode_then_converge_with_one_module_call_per_host(arc_lab, arc_args):
    variables = role_vars(arc_args, arc_agent_tags={"role": "hybrid-worker"})
    checked = play(arc_lab, variables, "win-001", check=True)
    assert checked.result("win-001", MODULE)["changed"] is True
    assert arc_lab.host("win-001")["summary"]["arc_agent"] is None

    first = play(arc_lab, variables, "win-001")
    module = first.result("win-001", MODULE)
    assert module["changed"] is True and module["status"] == "Connected"
    facts = first.result("win-001", FACTS)["ansible_facts"]
    assert facts["arc_agent_resource_id"] == module["resource_id"]
    assert facts["arc_agent_machine_name"] == "WIN-001"

    arc_lab.labctl("stats", "--reset")
    again = play(arc_lab, variables, "win-001")
    assert [again.result("win-001", i).get("changed") for i in (CHECK, MODULE, FACTS)] == [False, False, False]
    stats = json.loads(arc_lab.labctl("stats").stdout)
    assert stats["windows"]["module_calls_per_host"]["win-001"] == {
        "azure_automation.hybrid_worker.win_connected_machine_agent": 1}
    assert stats["azure"]["arm"]["writes"] == 0


def test_absent_disconnects_and_uninstalls(arc_lab, arc_args):
    variables = role_vars(arc_args, arc_agent_state="absent", arc_agent_uninstall=True)
    result = play(arc_lab, variables, "win-001")
    module = result.result("win-001", MODULE)
    assert module["changed"] is True and module["installed"] is False
    assert result.result("win-001", FACTS)["ansible_facts"]["arc_agent_machine_name"] == ""
    assert arc_lab.host("win-001")["summary"]["arc_agent"] is None
