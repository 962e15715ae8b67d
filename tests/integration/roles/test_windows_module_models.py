"""The lab models of the collection's PowerShell modules follow the same contract as the modules themselves.

No PowerShell runs here, so what the lab says a module does is only worth something while its model keeps to the
``.ps1``: the same sentences (every ``FailJson``/``Warn``/hint sentence of the module is in the model and the other
way round), the same result keys (the sidecar's RETURN, what the ``.ps1`` sets and what the model returns), the same
secret options (``no_log`` in ``$spec``) and the same cross-option rules. Each test fails on drift in either side.
"""
import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows import host as hostmod
from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows import models
from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.models import (
    win_hybrid_runbook_worker as worker_model,
    win_hybrid_worker_info as probe_model,
    win_log_analytics_agent as agent_model,
)

ROOT = Path(__file__).resolve().parents[3]
# Only the PowerShell checker's folder goes on the path: tests/lab itself would hide the Azure SDK's `azure` package
# from other tests in the same session.
sys.path.insert(0, str(ROOT / "tests" / "powershell"))
import pscheck  # noqa: E402  pylint: disable=wrong-import-position

MODULES = {
    "win_log_analytics_agent": agent_model,
    "win_hybrid_runbook_worker": worker_model,
    "win_hybrid_worker_info": probe_model,
}
PLACEHOLDER = "{}"
WORKSPACE_ID = "11111111-2222-3333-4444-555555555555"
WORKSPACE_KEY = "d29ya3NwYWNlLWtleS1mb3ItY29udHJhY3QtdGVzdHM="
REGISTRATION_URL = "https://127.0.0.1:9/agentsvc/accounts/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def ps1_source(name):
    path = ROOT / "plugins" / "modules" / (name + ".ps1")
    return pscheck.Source(path, path.read_bytes(), str(path))


def _string_text(node):
    """A string literal's text with each interpolation (`$var`, `$(...)`) replaced by a placeholder."""
    raw = node.text.decode("utf-8")
    if node.type != "expandable_string_literal":
        return raw[1:-1]
    pieces, cursor = [], node.start_byte + 1
    for child in node.children:
        if child.type in ("variable", "sub_expression"):
            pieces.append(node.text[cursor - node.start_byte:child.start_byte - node.start_byte].decode("utf-8"))
            pieces.append(PLACEHOLDER)
            cursor = child.end_byte
    pieces.append(node.text[cursor - node.start_byte:node.end_byte - node.start_byte - 1].decode("utf-8"))
    return "".join(pieces).replace('`"', '"')


def ps1_sentences(name):
    """Every sentence-like string literal of the module (messages, warnings, hints), normalised."""
    found = set()
    for node in pscheck.walk(ps1_source(name).tree.root_node):
        if node.type not in ("expandable_string_literal", "verbatim_string_characters"):
            continue
        if any(parent.type == "sub_expression" for parent in _ancestors(node)):
            continue
        text = _string_text(node)
        if text.count(" ") >= 2 and not text.startswith("HKLM:"):
            found.add(text)
    return found


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def model_sentences(model):
    return {re.sub(r"\{[a-z_]+\}", PLACEHOLDER, text) for text in model.MESSAGES.values()}


def ps1_spec(name):
    src = ps1_source(name)
    node, problem = pscheck.find_spec(src)
    assert problem is None, problem
    return pscheck.evaluate(node)


def sidecar(name):
    with open(ROOT / "plugins" / "modules" / (name + ".yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def no_log_paths(options, prefix=""):
    paths = set()
    for name, option in options.items():
        if option.get_ci("no_log"):
            paths.add(prefix + name)
        if option.get_ci("options"):
            paths |= no_log_paths(option.get_ci("options"), prefix + name + ".")
    return paths


@pytest.mark.parametrize("name", sorted(MODULES))
def test_model_and_module_use_the_same_sentences(name):
    in_module = ps1_sentences(name)
    in_model = model_sentences(MODULES[name])
    assert in_module, "no messages found in %s.ps1; the extraction is broken" % name
    assert sorted(in_module - in_model) == [], "sentences of %s.ps1 the model does not use" % name
    assert sorted(in_model - in_module) == [], "sentences of the %s model that the .ps1 does not use" % name


@pytest.mark.parametrize("name", sorted(MODULES))
def test_result_keys_set_by_the_module_are_documented(name):
    text = (ROOT / "plugins" / "modules" / (name + ".ps1")).read_text(encoding="utf-8")
    set_by_module = set(re.findall(r"\$module\.Result\.(\w+)\s*=", text)) - {"changed"}
    assert set_by_module == set(sidecar(name)["RETURN"])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_model_marks_the_same_options_secret_as_the_module(name):
    spec = ps1_spec(name)
    assert set(MODULES[name].NO_LOG_OPTIONS) == no_log_paths(spec.get_ci("options"))
    validator_spec = models.MODELS[MODULES[name].FQCN].argument_spec()
    for dotted in MODULES[name].NO_LOG_OPTIONS:
        level = validator_spec
        *parents, leaf = dotted.split(".")
        for parent in parents:
            level = level[parent]["options"]
        assert level[leaf].get("no_log") is True


@pytest.mark.parametrize("name", sorted(MODULES))
def test_model_enforces_the_module_rules(name):
    spec = ps1_spec(name)
    rules = models.MODELS[MODULES[name].FQCN].rules
    for rule in ("mutually_exclusive", "required_if", "required_one_of", "required_together", "required_by"):
        in_module = spec.get_ci(rule)
        in_model = rules.get(rule)
        assert json.dumps(in_module) == json.dumps(in_model), rule
    assert spec.get_ci("supports_check_mode") is models.MODELS[MODULES[name].FQCN].supports_check_mode


def _bare_host(profile="2019"):
    host = hostmod.Host(hostmod.new_state("contract", "127.0.0.9", profile))
    manifest = {"version": "10.20.18029.0", "product_code": "{8A7F2C51-4C7D-4BFD-9014-91D11F24AAE2}"}
    host.add_file("C:\\share\\MMASetup-AMD64.exe",
                  b"HYBRID-WORKER-LAB STAND-IN INSTALLER\n" + json.dumps(manifest).encode() + b"\n")
    return host


def _run(fqcn, host, args, check_mode=False):
    result, _rc = models.dispatch(fqcn, host, dict(args), check_mode=check_mode, diff=True)
    return result


def test_agent_model_returns_the_documented_keys():
    host = _bare_host()
    args = {"installer_path": "C:\\share\\MMASetup-AMD64.exe",
            "workspaces": [{"id": WORKSPACE_ID, "key": WORKSPACE_KEY}]}
    documented = set(sidecar("win_log_analytics_agent")["RETURN"])
    generic = {"changed", "diff", "invocation"}
    results = [
        _run(agent_model.FQCN, host, args, check_mode=True),
        _run(agent_model.FQCN, host, args),
        _run(agent_model.FQCN, host, args),
        _run(agent_model.FQCN, host, {"state": "absent"}),
    ]
    assert [r.get("failed", False) for r in results] == [False] * 4, results
    assert set().union(*results) - generic == documented
    assert set(results[-1]) - generic == documented - {"prerequisites"}
    entry_keys = set(sidecar("win_log_analytics_agent")["RETURN"]["workspaces"]["contains"])
    assert all(set(w) == entry_keys for w in results[1]["workspaces"])
    assert WORKSPACE_KEY not in json.dumps(results)


def test_worker_model_returns_the_documented_keys():
    host = _bare_host()
    documented = set(sidecar("win_hybrid_runbook_worker")["RETURN"])
    generic = {"changed", "diff", "invocation"}
    present = _run(worker_model.FQCN, host, {"group_name": "g1", "url": REGISTRATION_URL, "key": "k" * 20},
                   check_mode=True)
    absent = _run(worker_model.FQCN, host, {"state": "absent", "url": REGISTRATION_URL, "key": "k" * 20})
    assert present["changed"] is True and absent["changed"] is False
    for result in (present, absent):
        assert set(result) - generic == documented


def test_agent_model_reports_the_newest_hybrid_registration_by_version_number():
    host = _bare_host()
    args = {"installer_path": "C:\\share\\MMASetup-AMD64.exe"}
    assert not _run(agent_model.FQCN, host, args).get("failed")
    for version in ("7.3.1722.0", "7.3.702.0", "7.2.12024.0"):
        host.add_hybrid_registration(version)
    result = _run(agent_model.FQCN, host, args)
    assert result["hybrid_registration_version"] == "7.3.1722.0"
    assert result["hybrid_registration_path"] == ("C:\\Program Files\\Microsoft Monitoring Agent\\Agent\\AzureAutomation\\"
                                                  "7.3.1722.0\\HybridRegistration\\HybridRegistration.psd1")


def test_worker_model_never_touches_a_system_worker_or_the_key_on_bad_input():
    host = _bare_host("2019+system-worker")
    before = json.dumps(host.state, sort_keys=True)
    result = _run(worker_model.FQCN, host, {"group_name": "bad/group", "url": REGISTRATION_URL, "key": "s3cr3t-key"})
    assert result["failed"] is True
    assert result["msg"] == worker_model.message("bad_group", group="bad/group")
    assert "s3cr3t-key" not in json.dumps(result)
    assert json.dumps(host.state, sort_keys=True) == before


def test_agent_model_proxy_and_cloud_changes_are_idempotent():
    host = _bare_host()
    base = {"installer_path": "C:\\share\\MMASetup-AMD64.exe",
            "workspaces": [{"id": WORKSPACE_ID, "key": WORKSPACE_KEY}]}
    assert _run(agent_model.FQCN, host, base)["changed"] is True
    with_proxy = dict(base, proxy_url="proxy.example.com:8080", proxy_username="svc", proxy_password="pr0xy-pass")
    first = _run(agent_model.FQCN, host, with_proxy)
    assert (first["changed"], first["proxy_url"]) == (True, "proxy.example.com:8080")
    assert first["diff"]["before"]["proxy_url"] == "" and "pr0xy-pass" not in json.dumps(first)
    assert _run(agent_model.FQCN, host, with_proxy)["changed"] is False

    gov = dict(base, workspaces=[{"id": WORKSPACE_ID, "key": WORKSPACE_KEY, "cloud": "AzureUSGovernment"}])
    moved = _run(agent_model.FQCN, host, gov)
    assert moved["changed"] is True and [w["cloud"] for w in moved["workspaces"]] == ["AzureUSGovernment"]
    assert _run(agent_model.FQCN, host, gov)["changed"] is False


@pytest.mark.parametrize("args,message", [
    ({"proxy_username": "svc"}, agent_model.message("proxy_credentials")),
    ({"installer_checksum": "abc"}, agent_model.message("bad_checksum")),
    ({"minimum_version": "ten"}, agent_model.message("bad_minimum_version", value="ten")),
    ({"workspaces": [{"id": "not-a-guid", "key": "k"}]}, agent_model.message("bad_workspace_id", id="not-a-guid")),
    ({"installer_path": None}, agent_model.message("checksum_required")),
    ({"workspaces": [{"id": WORKSPACE_ID, "key": "x y"}]}, agent_model.message("bad_workspace_key", id=WORKSPACE_ID)),
    ({"workspaces": [{"id": WORKSPACE_ID, "key": WORKSPACE_KEY + "\n"}]},
     agent_model.message("bad_workspace_key", id=WORKSPACE_ID)),
])
def test_agent_model_rejects_bad_input_before_any_change(args, message):
    host = _bare_host()
    before = json.dumps(host.state, sort_keys=True)
    params = dict({"installer_path": "C:\\share\\MMASetup-AMD64.exe"}, **args)
    params = {k: v for k, v in params.items() if v is not None}
    result = _run(agent_model.FQCN, host, params)
    assert (result["failed"], result["msg"]) == (True, message)
    assert json.dumps(host.state, sort_keys=True) == before


@pytest.mark.parametrize("key", ["not a key!", "k" * 19, "a2V5", "a2V5=", "a2V5\n", "a2V5 a2V5", "a2V5-_==", ""])
def test_worker_model_refuses_a_key_that_is_not_base64_before_reading_the_host(key):
    host = _bare_host("2019+system-worker")
    before = json.dumps(host.state, sort_keys=True)
    result = _run(worker_model.FQCN, host, {"group_name": "east", "url": REGISTRATION_URL, "key": key})
    if key == "a2V5":
        # A well-formed key goes on to the host (which has no agent here).
        assert result["msg"] == worker_model.message("agent_missing"), result
        return
    assert (result["failed"], result["msg"]) == (True, worker_model.message("bad_key"))
    assert json.dumps(host.state, sort_keys=True) == before


def test_base64_check_of_the_models_is_the_one_of_the_module_util():
    text = (ROOT / "plugins" / "module_utils" / "WindowsHost.psm1").read_text(encoding="utf-8")
    pattern = re.search(r"\$script:Base64Pattern = '(.*)'", text).group(1)
    assert pattern.startswith("\\A") and pattern.endswith("\\z"), pattern
    assert pattern[2:-2] == models.BASE64_PATTERN.pattern
    for text in ("YQ==", "YWI=", "YWJj", WORKSPACE_KEY):
        assert models.is_base64(text), text
    for text in ("", "YQ", "YQ=", "Y===", "YWJj\n", "YW Jj", "YWJj!", "YW_j"):
        assert not models.is_base64(text), text


def test_agent_model_checks_the_checksum_of_a_local_installer():
    host = _bare_host()
    result = _run(agent_model.FQCN, host, {"installer_path": "C:\\share\\MMASetup-AMD64.exe",
                                           "installer_checksum": "0" * 64})
    assert result["failed"] is True and "not the expected installer_checksum " + "0" * 64 in result["msg"]
    assert host.installed_product(hostmod.MMA_DISPLAY_NAME) is None


def test_model_sentence_extraction_sees_interpolations():
    # Guards the helper above: a message with interpolations must come out with placeholders, not be dropped.
    sentences = ps1_sentences("win_hybrid_runbook_worker")
    assert "wait_timeout must be 0 or more seconds." in sentences
    assert ("Add-HybridRunbookWorker failed to register this machine in group '{}': {}; {}." in sentences)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([os.path.abspath(__file__), "-q"]))
