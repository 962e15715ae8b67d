"""hybrid_worker_prerequisites: argument checks before any request, and how step failures of its threads surface."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.azure_automation.hybrid_worker.plugins.modules import hybrid_worker_prerequisites as prereq

PARAMS = dict(resource_group="rg-automation", automation_account="aa-hybrid", workspace_name="law-hybrid-workers",
              workspace_resource_group=None, location="westeurope", workspace_sku="PerGB2018",
              workspace_retention_in_days=30, groups=["east", "west"], heartbeat_computers=["WIN-001"],
              stale_after_minutes=60, heartbeat_max_age_minutes=30)


def test_valid_arguments_pass():
    assert prereq.validate_params(PARAMS) is None


@pytest.mark.parametrize("changes, fragment", [
    ({"groups": ["east", "east/west"]}, "groups 'east/west' is not a valid hybrid worker group name"),
    ({"workspace_name": "law_hybrid"}, "law_hybrid"),
    ({"location": "mars-central"}, "mars-central"),
    ({"workspace_retention_in_days": 5}, "retention_in_days must be between"),
    ({"heartbeat_computers": ["WIN 001"]}, "WIN 001"),
    ({"heartbeat_max_age_minutes": 0}, "heartbeat_max_age_minutes must be between 1 and 43200"),
])
def test_each_bad_argument_is_named(changes, fragment):
    assert fragment in prereq.validate_params(dict(PARAMS, **changes))


EXTENSION_PARAMS = dict(PARAMS, workspace_name=None, location=None, heartbeat_computers=None)


def test_without_a_workspace_its_options_are_not_needed_nor_checked():
    assert prereq.validate_params(dict(EXTENSION_PARAMS, workspace_retention_in_days=5)) is None
    assert prereq.missing_workspace_arguments(EXTENSION_PARAMS) is None


@pytest.mark.parametrize("changes, message", [
    ({"location": "westeurope"}, "location is used only with workspace_name, which is not given"),
    ({"workspace_resource_group": "rg-logs", "heartbeat_computers": ["WIN-001"]},
     "workspace_resource_group and heartbeat_computers are used only with workspace_name, which is not given"),
    ({"workspace_resource_group": "rg-logs", "location": "westeurope", "heartbeat_computers": []},
     "workspace_resource_group, location and heartbeat_computers are used only with workspace_name, which is not given"),
])
def test_workspace_options_without_workspace_name_are_refused_in_one_sentence(changes, message):
    assert prereq.validate_params(dict(EXTENSION_PARAMS, **changes)) == message


def test_a_workspace_without_location_gets_the_message_of_a_missing_required_option():
    assert prereq.missing_workspace_arguments(dict(PARAMS, location=None)) == "missing required arguments: location"
    assert prereq.missing_workspace_arguments(PARAMS) is None


def test_the_workspace_arguments_are_those_of_log_analytics_workspace():
    assert prereq.workspace_params(PARAMS) == dict(name="law-hybrid-workers", resource_group="rg-automation", state="present",
                                                   location="westeurope", sku="PerGB2018", retention_in_days=30,
                                                   daily_quota_gb=None, tags=None, purge_tags=True)


def test_groups_are_listed_once_whatever_their_case():
    assert prereq.unique_groups(["east", "West", "EAST", "west", "sql"]) == ["east", "West", "sql"]


class FakeModule:
    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


def test_the_first_failed_step_in_order_fails_the_module_once():
    def step(name, fail):
        if fail:
            raise prereq.StepFailed({"msg": "step %s failed" % name})
        return name
    module = FakeModule()
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(step, "a", False), pool.submit(step, "b", True), pool.submit(step, "c", True)]
        with pytest.raises(SystemExit):
            prereq.wait_all(module, futures)
    assert module.failed == {"msg": "step b failed"}
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert prereq.wait_all(module, [pool.submit(step, "a", False), pool.submit(step, "b", False)]) == ["a", "b"]


def test_a_failure_in_a_worker_thread_raises_instead_of_ending_the_module():
    module = prereq.PrerequisitesModule.__new__(prereq.PrerequisitesModule)
    caught = []

    def fail():
        try:
            module.fail_json(msg="boom")
        except prereq.StepFailed as exc:
            caught.append(exc.result)
    thread = threading.Thread(target=fail)
    thread.start()
    thread.join()
    assert caught == [{"msg": "boom"}]
