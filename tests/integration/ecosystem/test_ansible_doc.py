"""Every plugin and role of the collection renders with ansible-doc, without warnings, and none is left out.

The list of what must be documented comes from the tree (plugins/<type>/ and roles/), so a plugin or role added
without documentation fails here instead of being silently skipped.
"""
import json
import os

import pytest

from .conftest import ROOT, run_tool, tool

COLLECTION = "azure_automation.hybrid_worker"
# Folders under plugins/ that hold shared code or documentation pieces, not plugins. Action plugins are documented
# by the module of the same name (ansible-doc has no action type); test_every_action_has_its_module_doc checks that.
NOT_PLUGIN_FOLDERS = ("module_utils", "plugin_utils", "doc_fragments", "action")
PLUGIN_SUFFIXES = (".py", ".ps1")


def plugin_type(folder):
    return "module" if folder == "modules" else folder


def expected_plugins():
    """{plugin type: set of FQCNs} for every plugin file in the tree."""
    found = {}
    plugins_dir = os.path.join(ROOT, "plugins")
    for folder in sorted(os.listdir(plugins_dir)):
        path = os.path.join(plugins_dir, folder)
        if folder in NOT_PLUGIN_FOLDERS or not os.path.isdir(path):
            continue
        names = set(os.path.splitext(f)[0] for f in os.listdir(path) if f.endswith(PLUGIN_SUFFIXES) and not f.startswith("__init__"))
        found[plugin_type(folder)] = set("%s.%s" % (COLLECTION, name) for name in names)
    return found


def expected_roles():
    roles_dir = os.path.join(ROOT, "roles")
    if not os.path.isdir(roles_dir):
        return set()
    return set("%s.%s" % (COLLECTION, name) for name in os.listdir(roles_dir) if os.path.isdir(os.path.join(roles_dir, name)))


def expected():
    table = expected_plugins()
    table["role"] = expected_roles()
    return sorted((kind, sorted(names)) for kind, names in table.items() if names)


def ansible_doc(*args):
    result = run_tool([tool("ansible-doc")] + list(args))
    assert "WARNING" not in result.stderr, "ansible-doc %s warned:\n%s" % (" ".join(args), result.stderr)
    assert not result.stderr.strip(), "ansible-doc %s wrote to stderr:\n%s" % (" ".join(args), result.stderr)
    return result.stdout


def test_every_action_has_its_module_doc():
    actions_dir = os.path.join(ROOT, "plugins", "action")
    actions = sorted(os.path.splitext(f)[0] for f in os.listdir(actions_dir) if f.endswith(".py") and f != "__init__.py") \
        if os.path.isdir(actions_dir) else []
    modules = dict(expected())["module"]
    assert [name for name in actions if "%s.%s" % (COLLECTION, name) not in modules] == []


def test_the_tree_has_what_the_collection_promises():
    kinds = dict(expected())
    assert "module" in kinds and "inventory" in kinds and "role" in kinds, kinds
    assert "%s.hybrid_workers" % COLLECTION in kinds["inventory"]


@pytest.mark.parametrize("kind, names", expected(), ids=[kind for kind, _names in expected()])
def test_every_plugin_and_role_renders(kind, names):
    listed = json.loads(ansible_doc("-t", kind, "-l", COLLECTION, "--json"))
    missing = sorted(set(names) - set(listed))
    assert not missing, "ansible-doc -t %s does not list %s (no documentation%s?)" % (
        kind, ", ".join(missing), ", no meta/argument_specs.yml" if kind == "role" else "")
    assert sorted(listed) == names, "ansible-doc lists %s that the tree does not have" % sorted(set(listed) - set(names))

    docs = json.loads(ansible_doc("-t", kind, "--json", *names))
    assert sorted(docs) == names
    for name, entry in docs.items():
        if kind == "role":
            main = entry["entry_points"]["main"]
            assert main.get("short_description") and main.get("description"), "%s: main entry point undocumented" % name
            continue
        doc = entry["doc"]
        assert doc.get("short_description") and doc.get("description"), "%s: no description" % name
        assert entry.get("examples"), "%s: no EXAMPLES" % name
        if kind == "module":
            assert entry.get("return") is not None, "%s: no RETURN" % name
            assert doc.get("version_added"), "%s: no version_added" % name

    text = ansible_doc("-t", kind, *names)
    for name in names:
        assert name in text, "%s missing from the rendered text" % name
