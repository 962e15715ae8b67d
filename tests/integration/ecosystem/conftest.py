"""The collection as users get it: a tarball built from the checkout, installed into a fresh collections path."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.path.dirname(sys.executable)


def tool(name):
    return os.path.join(BIN, name)


def run_tool(args, **kwargs):
    """Run a tool of the virtualenv; fail the test with its output when it fails."""
    kwargs.setdefault("cwd", ROOT)
    result = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        pytest.fail("%s exited with %d\nstdout:\n%s\nstderr:\n%s" % (" ".join(args), result.returncode, result.stdout, result.stderr))
    return result


def galaxy_version():
    import yaml

    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["version"]


def installed_env(collections_path, **extra):
    """An environment in which Ansible finds this collection only in ``collections_path``.

    The test run reaches the checkout through ANSIBLE_COLLECTIONS_PATH and PYTHONPATH; both go, so nothing can fall
    back to the source tree. Collections shipped in the virtualenv (ansible.windows, community.windows) stay visible.
    """
    env = dict((key, value) for key, value in os.environ.items() if key != "PYTHONPATH")
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path), **extra)
    return env


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory):
    output = tmp_path_factory.mktemp("dist")
    run_tool([tool("ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(output)])
    tarball = output / ("azure_automation-hybrid_worker-%s.tar.gz" % galaxy_version())
    assert tarball.is_file(), "ansible-galaxy built %s" % sorted(os.listdir(output))
    return tarball


@pytest.fixture(scope="session")
def installed_collections(collection_tarball, tmp_path_factory):
    """A collections path holding only the installed tarball (no network, no dependencies resolved)."""
    path = tmp_path_factory.mktemp("installed") / "collections"
    run_tool([tool("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p", str(path), str(collection_tarball)],
             env=installed_env(path))
    assert (path / "ansible_collections" / "azure_automation" / "hybrid_worker" / "MANIFEST.json").is_file()
    return path
