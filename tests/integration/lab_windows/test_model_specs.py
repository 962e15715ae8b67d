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
