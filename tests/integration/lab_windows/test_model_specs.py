"""The lab's models of ansible.windows / community.windows modules validate exactly the documented options."""
import importlib
import os

import pytest
import yaml

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows import models

models.load_models()
FOREIGN = sorted(name for name in models.MODELS if not name.startswith(models.COLLECTION + "."))


def documented_options(fqcn):
    namespace, collection, name = fqcn.split(".")
    package = importlib.import_module("ansible_collections.%s.%s.plugins.modules" % (namespace, collection))
    folder = os.path.dirname(package.__file__)
    sidecar = os.path.join(folder, name + ".yml")
    if os.path.exists(sidecar):
        with open(sidecar, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)["DOCUMENTATION"]
    else:
        source = open(os.path.join(folder, name + ".py"), encoding="utf-8").read()
        text = source.split("DOCUMENTATION = r'''", 1)[1].split("'''", 1)[0]
        doc = yaml.safe_load(text)
    return doc.get("options") or {}


def test_models_cover_what_the_roles_call():
    assert {"ansible.windows.win_ping", "community.windows.win_psmodule", "community.windows.win_psmodule_info"} <= \
        set(FOREIGN)


@pytest.mark.parametrize("fqcn", FOREIGN)
def test_foreign_model_spec_matches_the_module_documentation(fqcn):
    documented = documented_options(fqcn)
    spec = models.MODELS[fqcn].argument_spec()
    assert sorted(spec) == sorted(documented)
    for option, doc in documented.items():
        mine = spec[option]
        assert mine.get("type", "str") == doc.get("type", "str"), option
        assert bool(mine.get("required")) == bool(doc.get("required")), option
        assert mine.get("default") == doc.get("default"), option
        assert sorted(mine.get("choices") or []) == sorted(doc.get("choices") or []), option


def test_unknown_module_is_not_modelled():
    result, rc = models.dispatch("ansible.windows.win_reboot", None, {})
    assert rc == 1 and result == {"failed": True, "msg": "ansible.windows.win_reboot is not modelled by the lab"}


@pytest.fixture
def probe_model():
    """A throw-away model that records what dispatch hands it and echoes its secret (to prove leak counting)."""
    seen = {}

    def probe(call):
        seen.update(check_mode=call.check_mode, diff=call.diff, verbosity=call.verbosity, params=dict(call.params))
        return {"changed": True, "echo": call.params["secret"]}
    fqcn = "lab.probe.win_probe"
    models.register(fqcn, supports_check_mode=False,
                    argument_spec={"secret": {"type": "str", "no_log": True, "required": True},
                                   "count": {"type": "int", "default": 1}})(probe)
    yield fqcn, seen
    del models.MODELS[fqcn]


def test_dispatch_passes_flags_masks_invocation_and_counts_leaks(probe_model):
    fqcn, seen = probe_model
    stats = {}
    result, rc = models.dispatch(fqcn, None, {"secret": "hunter2-secret", "count": "3", "_ansible_diff": True,
                                              "_ansible_verbosity": 2}, stats=stats)
    assert rc == 0 and seen == {"check_mode": False, "diff": True, "verbosity": 2,
                                "params": {"secret": "hunter2-secret", "count": 3}}
    assert result["invocation"]["module_args"] == {"secret": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "count": 3}
    assert stats["secret_leaks"] == 1


def test_dispatch_skips_check_mode_for_models_without_support(probe_model):
    fqcn, seen = probe_model
    result, rc = models.dispatch(fqcn, None, {"secret": "x", "_ansible_check_mode": True,
                                              "_ansible_module_name": "win_probe"})
    assert rc == 0 and seen == {}
    assert result["skipped"] is True and result["msg"] == "remote module (win_probe) does not support check mode"


def test_sidecar_spec_keeps_nested_options():
    """Nested options (`suboptions` in the docs) are validated too, as Ansible.Basic validates them."""
    spec = models.sidecar_argument_spec("win_log_analytics_agent")
    workspace = spec["workspaces"]["options"]
    assert workspace["id"] == {"type": "str", "required": True}
    assert workspace["key"]["required"] is True
