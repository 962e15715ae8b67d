"""Changelog fragments are valid, and a release turns them into CHANGELOG.rst (README, "Versioning and releases").

The release runs on a copy of the collection, so the checkout keeps its fragments and gets no CHANGELOG.rst.
"""
import glob
import os
import shutil
import subprocess

import yaml

from .conftest import ROOT, galaxy_version, run_tool, tool


def collection_files():
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.splitlines()
    return [f for f in listed if not f.startswith("tests/") and os.path.isfile(os.path.join(ROOT, f))]


def fragment_entries():
    entries = []
    for path in sorted(glob.glob(os.path.join(ROOT, "changelogs", "fragments", "*.y*ml"))):
        with open(path, encoding="utf-8") as handle:
            for section, items in (yaml.safe_load(handle) or {}).items():
                if section != "trivial":
                    entries.extend(items if isinstance(items, list) else [items])
    return entries


def test_fragments_lint_clean():
    result = run_tool([tool("antsibull-changelog"), "lint"])
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


def test_release_generates_the_changelog(tmp_path):
    copy = tmp_path / "ansible_collections" / "azure_automation" / "hybrid_worker"
    for rel in collection_files():
        os.makedirs(copy / os.path.dirname(rel), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), copy / rel)
    version = galaxy_version()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path))
    env.pop("PYTHONPATH", None)
    run_tool([tool("antsibull-changelog"), "release", "--version", version, "--date", "2026-01-01"], cwd=str(copy), env=env)

    with open(copy / "CHANGELOG.rst", encoding="utf-8") as handle:
        changelog = handle.read()
    assert "\nv%s\n" % version in changelog
    for entry in fragment_entries():
        assert entry.strip() in changelog, "fragment entry missing from CHANGELOG.rst: %s" % entry
    assert "azure_automation.hybrid_worker.hybrid_workers - " in changelog.split("Inventory\n~~~~~~~~~")[1], "inventory plugin not listed"
    for role in os.listdir(os.path.join(ROOT, "roles")):
        assert "azure_automation.hybrid_worker.%s - " % role in changelog, "role %s not listed under New Roles" % role
    with open(copy / "changelogs" / "changelog.yaml", encoding="utf-8") as handle:
        assert version in yaml.safe_load(handle)["releases"]
    assert not glob.glob(str(copy / "changelogs" / "fragments" / "*.yml")), "a release consumes the fragments"
