"""The Azure modules against the lab: create, converge (no ARM write), change, check mode, diff, delete, errors."""
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import signing

from .conftest import COLLECTIONS, leaked_secrets

MODULES = [
    "automation_registration_info", "hybrid_worker", "hybrid_worker_group", "hybrid_worker_group_info",
    "log_analytics_heartbeat_info", "log_analytics_linked_service", "log_analytics_solution", "log_analytics_workspace",
]


def test_log_analytics_workspace(run_playbook):
    run_playbook("log_analytics_workspace.yml")


def test_log_analytics_solution_and_linked_service(run_playbook):
    run_playbook("log_analytics_solution_and_link.yml")


def test_registration_info_groups_and_workers(run_playbook):
    run_playbook("automation_workers.yml")
