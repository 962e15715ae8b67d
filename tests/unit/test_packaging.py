"""The collection tarball carries the collection, not the machine it was built on."""
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Things a working checkout accumulates that must never ship: (a file created there, the path that must be absent).
LOCAL_ONLY = [
    (".venv/bin/python", ".venv"),
    (".build/collections/marker", ".build"),
    (".cache/ansible-test-home/marker", ".cache"),
    ("lab/lab.json", "lab"),
    ("tests/output/junit.xml", "tests/output"),
    ("tests/integration/inventory.winrm", "tests/integration/inventory.winrm"),
    ("bench/output/results.json", "bench/output"),
    ("plugins/module_utils/__pycache__/x.cpython-311.pyc", "plugins/module_utils/__pycache__"),
]


def _tracked_files():
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return [f for f in out.splitlines() if os.path.isfile(os.path.join(ROOT, f))]


@pytest.fixture(scope="module")
def tarball_members(tmp_path_factory):
    tree = tmp_path_factory.mktemp("tree")
    for rel in _tracked_files():
        os.makedirs(tree / os.path.dirname(rel), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), tree / rel)
    for rel, _absent in LOCAL_ONLY:
        os.makedirs(tree / os.path.dirname(rel), exist_ok=True)
        (tree / rel).write_text("local state\n")
    out_dir = tmp_path_factory.mktemp("dist")
    galaxy = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", str(tree), "--output-path", str(out_dir)],
                   check=True, capture_output=True, text=True)
    (tarball,) = list(out_dir.iterdir())
    assert tarball.name == "azure_automation-hybrid_worker-0.1.0.tar.gz"
    with tarfile.open(tarball) as archive:
        return archive.getnames()


@pytest.mark.parametrize("created, absent", LOCAL_ONLY)
def test_local_state_is_not_packaged(tarball_members, created, absent):
    shipped = [m for m in tarball_members if m == absent or m.startswith(absent + "/")]
    assert not shipped, "%s must not be in the collection tarball" % shipped


def test_collection_content_is_packaged(tarball_members):
    for expected in ("galaxy.yml", "MANIFEST.json", "meta/runtime.yml", "README.md"):
        if expected == "galaxy.yml":
            assert expected not in tarball_members  # galaxy turns it into MANIFEST.json
        else:
            assert expected in tarball_members
