"""The fleet-wide inventory checks run once before any change (hybrid_worker_fleet_check)."""
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.fleet_checks import (
    agent_onboarding_problems,
    agent_retirement_warning,
    extension_onboarding_problems,
    hosts_by_type,
)

GOOD = {"group": "east", "installer_path": None, "installer_checksum": "ab" * 32, "validate_installer_checksum": None}


def test_hosts_are_sorted_by_type_with_the_default_for_unset_ones():
    types, message = hosts_by_type({"b": "agent", "a": None, "c": "extension", "d": ""})
    assert message is None
    assert types == {"agent": ["b"], "extension": ["a", "c", "d"]}


def test_an_unknown_type_names_the_first_host_and_the_others():
    _types, message = hosts_by_type({"win-002": "agentless", "win-001": "agentless", "win-003": "agent"})
    assert message.startswith("hybrid_worker_type 'agentless' of win-001 is not supported: use 'extension' (extension-based "
                              "workers through Azure Arc) or 'agent' (agent-based workers, retired by Microsoft). "
                              "Nothing was changed.")
    assert message.endswith("Other hosts with an unsupported hybrid_worker_type: win-002 ('agentless').")


def test_good_inputs_have_no_problem():
    from_path = dict(GOOD, installer_path="C:\\MMASetup.exe", installer_checksum=None)
    assert agent_onboarding_problems({"win-001": GOOD, "win-002": from_path}) == []
    assert agent_onboarding_problems({"win-001": dict(GOOD, installer_checksum=None,
                                                      validate_installer_checksum=False)}) == []


def test_a_host_without_a_group_is_named():
    problems = agent_onboarding_problems({"win-001": GOOD, "win-002": dict(GOOD, group=None)})
    assert problems == ["win-002: no hybrid_runbook_worker_group; set the worker group each host joins in the inventory "
                        "(a host or group variable)."]


def test_a_group_name_azure_refuses_is_named_with_its_hosts():
    problems = agent_onboarding_problems({"win-001": dict(GOOD, group="east/west"), "win-003": dict(GOOD, group="east/west")})
    assert len(problems) == 1
    assert "hybrid_runbook_worker_group 'east/west' is not a valid hybrid worker group name" in problems[0]
    assert "(hosts win-001, win-003)" in problems[0]


def test_a_download_without_checksum_is_refused():
    problems = agent_onboarding_problems({"win-%03d" % n: dict(GOOD, installer_checksum=None) for n in range(1, 13)})
    assert len(problems) == 1
    assert problems[0].startswith("win-001, win-002, win-003, win-004, win-005, win-006, win-007, win-008, win-009, "
                                  "win-010 and 2 more: log_analytics_agent_installer_checksum is empty")
    assert "installer_checksum" in problems[0]


def test_agent_based_hosts_are_warned_about_the_retirement_and_named():
    assert agent_retirement_warning([]) is None
    warning = agent_retirement_warning(["win-002", "win-001"])
    assert warning.startswith("2 host(s) use agent-based Hybrid Runbook Workers (hybrid_worker_type 'agent': win-001, "
                              "win-002), which Microsoft retired on 31 August 2024;")
    assert warning.endswith("set hybrid_worker_type to 'extension' and run the collection's migrate.yml.")


def test_extension_hosts_without_group_or_arc_inputs_are_named_with_what_to_set():
    hosts = {"win-001": {"group": "east", "missing": []},
             "win-002": {"group": None, "missing": []},
             "win-003": {"group": "east/west", "missing": ["arc_agent_location"]},
             "win-004": {"group": "east", "missing": ["arc_agent_tenant_id", "arc_agent_service_principal_secret"]},
             "win-005": {"group": "west", "missing": ["arc_agent_tenant_id", "arc_agent_service_principal_secret"]}}
    problems = extension_onboarding_problems(hosts)
    assert problems[0] == ("win-002: no hybrid_runbook_worker_group; set the worker group each host joins in the inventory "
                           "(a host or group variable).")
    assert "hybrid_runbook_worker_group 'east/west' is not a valid hybrid worker group name" in problems[1]
    assert problems[2:] == [
        "win-003: arc_agent_location empty; connecting a host to Azure Arc needs it, set it in the inventory (a host or "
        "group variable; keep arc_agent_service_principal_secret in a vault).",
        "win-004, win-005: arc_agent_tenant_id, arc_agent_service_principal_secret empty; connecting a host to Azure Arc "
        "needs them, set them in the inventory (a host or group variable; keep arc_agent_service_principal_secret in a vault)."]
    assert extension_onboarding_problems({"win-001": {"group": "east", "missing": []}}) == []
