"""hybrid_worker_prerequisites without a workspace (extension-based workers), checked against the lab's counters."""

WORKSPACE_OPERATIONS = ("Workspaces_", "Solutions", "LinkedServices_", "SharedKeys_")


def test_without_a_workspace_no_workspace_solution_or_link_is_requested(run_playbook, azure_lab):
    before = azure_lab.control.stats()
    run_playbook("prerequisites_without_workspace.yml")
    after = azure_lab.control.stats()
    operations = dict((op, n - before["arm"]["by_operation"].get(op, 0)) for op, n in after["arm"]["by_operation"].items()
                      if n != before["arm"]["by_operation"].get(op, 0))
    assert [op for op in operations if op.startswith(WORKSPACE_OPERATIONS)] == [], operations
    assert after["query"]["requests"] == before["query"]["requests"]
    # Two groups created (one run of five), one worker added; the refused runs sent nothing.
    assert operations["HybridRunbookWorkerGroup_Create"] == 2, operations
    assert operations["HybridRunbookWorkers_Create"] == 1, operations
    # The prerequisites runs but the one with agent_registration false (3) and automation_registration_info read the
    # agent registration information; the refused runs did not.
    assert operations["AgentRegistrationInformation_Get"] == 4, operations
