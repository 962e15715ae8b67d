"""ansible-builder turns docs/execution-environment.yml and the collection's own EE files into a build context.

No container is built: the test runs `ansible-builder create`, then replays the context's dependency step (the
introspect script the build runs after installing the Galaxy requirements) against the installed collection.
"""
import os
import sys

import yaml

from .conftest import ROOT, run_tool, tool

EXAMPLE = os.path.join(ROOT, "docs", "execution-environment.yml")


def read_lines(path):
    with open(path, encoding="utf-8") as handle:
        return [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]


def test_collection_declares_its_ee_files():
    with open(os.path.join(ROOT, "meta", "execution-environment.yml"), encoding="utf-8") as handle:
        meta = yaml.safe_load(handle)
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    for name in meta["dependencies"].values():
        assert read_lines(os.path.join(ROOT, name)), "%s is empty" % name
    # Lower bounds only: an execution environment combines several collections' requirements.
    for line in read_lines(os.path.join(ROOT, "requirements.txt")):
        assert ">=" in line and "==" not in line and "<" not in line, line


def test_builder_creates_a_context_that_installs_the_collection_needs(tmp_path, installed_collections):
    context = tmp_path / "context"
    result = run_tool([tool("ansible-builder"), "create", "-f", EXAMPLE, "--context", str(context), "-v", "3"])
    assert "Complete! The build context can be found at" in result.stdout
    containerfile = [p for p in ("Containerfile", "Dockerfile") if (context / p).is_file()]
    assert containerfile, "no Containerfile in %s" % sorted(os.listdir(context))
    with open(context / "_build" / "requirements.yml", encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    assert "azure_automation.hybrid_worker" in [c["name"] for c in galaxy["collections"]]

    # What the build does once ansible-galaxy has installed the collections: gather their Python and system needs.
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run_tool([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect", str(installed_collections),
              "--write-pip", str(pip_out), "--write-bindep", str(bindep_out)])
    python_needs = read_lines(pip_out)
    for requirement in read_lines(os.path.join(ROOT, "requirements.txt")):
        name = requirement.split(">=")[0]
        if name == "ansible-core":
            assert not [r for r in python_needs if r.startswith("ansible-core")], "the EE's own ansible-core must not be overridden"
        else:
            assert requirement in python_needs, "%s missing from %s" % (requirement, python_needs)
    assert read_lines(bindep_out) == read_lines(os.path.join(ROOT, "bindep.txt"))
