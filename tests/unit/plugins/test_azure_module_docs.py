"""Every Azure module documents itself through ansible-doc and joins the azure action group."""
import glob
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def _uses_the_azure_wrapper(path):
    with open(path, encoding="utf-8") as handle:
        return "module_utils.azure import" in handle.read()


# Every Python module built on the AzureModule wrapper takes the shared auth options.
AZURE_MODULES = sorted(
    os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")) if _uses_the_azure_wrapper(path)
)


def test_the_azure_modules_are_found():
    assert {
        "automation_registration_info", "hybrid_worker", "hybrid_worker_group", "hybrid_worker_group_info",
        "log_analytics_heartbeat_info", "log_analytics_linked_service", "log_analytics_solution", "log_analytics_workspace",
    } <= set(AZURE_MODULES)


def test_ansible_doc_renders_every_azure_module():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"))
    names = ["azure_automation.hybrid_worker." + name for name in AZURE_MODULES]
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    result = subprocess.run([ansible_doc, "--json"] + names, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    docs = json.loads(result.stdout)
    assert sorted(docs) == names
    for name in names:
        doc = docs[name]["doc"]
        # The shared auth options come from the azure doc fragment.
        assert {"auth_source", "secret", "tenant", "ca_bundle", "resource_manager_url"} <= set(doc["options"]), name
        assert doc["attributes"]["check_mode"]["support"] == "full", name
        assert docs[name]["return"], name
        assert docs[name]["examples"].strip(), name
    # Plain text rendering, the way a user reads it.
    text = subprocess.run([ansible_doc] + names[:1], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert text.returncode == 0 and "auth_source" in text.stdout


def test_every_azure_module_is_in_the_azure_action_group():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        runtime = yaml.safe_load(handle)
    assert sorted(runtime["action_groups"]["azure"]) == AZURE_MODULES
