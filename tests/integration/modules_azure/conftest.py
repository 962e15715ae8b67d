"""One Azure lab per pytest run, and a runner that drives ansible-playbook against it.

The modules reach the lab only through what a user would set: the ``azure.env`` variables of the lab's ``lab.json``.
Every playbook runs at -vvv and its whole output is searched for the lab's secrets (client secret, token signing key,
workspace and registration keys, bearer tokens), so a leak anywhere in the suite fails the test that caused it.
"""
import json
import os
import re
import subprocess
import sys

import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import testing as lab_testing

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOKS = os.path.join(os.path.dirname(__file__), "playbooks")
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
# A JWT (the lab's tokens have that shape, as Entra ID's do), a signed Authorization header value, or a key shaped like
# Azure's workspace and registration keys (base64 of 64 bytes): these catch secrets of resources deleted during a run.
TOKEN_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|Bearer\s+[A-Za-z0-9._-]{16,}|Shared(Key)?\s+[A-Za-z0-9+/=:_-]{16,}"
                           r"|[A-Za-z0-9+/]{86}==")
SECRET_PATH = re.compile(r"(secret|key|token|password)", re.IGNORECASE)


class AzureLab:
    def __init__(self, lab_dir, lab):
        self.dir = lab_dir
        self.lab = lab
        self.info = lab["azure"]
        self.env = lab_testing.lab_environment(lab)
        self.control = lab_testing.LabControl(lab_dir)
        self.resource_group = self.info["resource_group"]
        self.automation_account = self.info["automation_account"]
        self.location = self.info["location"]
        self.subscription_id = self.info["subscription_id"]

    def secrets(self):
        """Every Azure secret the lab holds now, read from its own state file (the lab's secret store).

        The lab's admin token is left out: it guards the test double's control API, not anything a user has, and test
        playbooks send it to that API.
        """
        with open(os.path.join(self.dir, "azure", "state.json"), encoding="utf-8") as handle:
            state = json.load(handle)
        found = set([self.env["AZURE_SECRET"]])

        def walk(node, path):
            if isinstance(node, dict):
                for key, child in node.items():
                    walk(child, path + "/" + key)
            elif isinstance(node, list):
                for child in node:
                    walk(child, path)
            elif isinstance(node, str) and len(node) >= 12 and SECRET_PATH.search(path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1]):
                found.add(node)
        walk(state, "")
        return found


@pytest.fixture(scope="session")
def azure_lab(tmp_path_factory):
    lab_dir = str(tmp_path_factory.mktemp("azure-lab"))
    with lab_testing.running_lab(lab_dir) as lab:
        yield AzureLab(lab_dir, lab)


def leaked_secrets(lab, output, known=()):
    """Descriptions (never the values) of the secrets found in ``output``."""
    leaks = ["a lab secret of %d characters" % len(s) for s in lab.secrets() | set(known) if s in output]
    token = TOKEN_PATTERN.search(output)
    if token:
        leaks.append("a token or signed header starting %r" % token.group(0)[:8])
    return leaks


@pytest.fixture(scope="session")
def run_playbook(azure_lab, tmp_path_factory):
    """Run a playbook of this folder against the lab at -vvv; fail on a non-zero exit or any secret in the output."""
    work = str(tmp_path_factory.mktemp("ansible"))

    def run(name, extra_env=None, expect_clean=True, drop_env=(), **extra_vars):
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("AZURE_"))
        env.update((k, v) for k, v in azure_lab.env.items() if k not in drop_env)
        env.update(
            ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
            ANSIBLE_LOCAL_TEMP=os.path.join(work, "tmp"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_PIPELINING="1",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
        )
        env.update(extra_env or {})
        secrets_before = azure_lab.secrets()
        variables = dict(
            lab_dir=azure_lab.dir, lab_url=azure_lab.info["url"], labctl=lab_testing.LABCTL, lab_python=sys.executable, resource_group=azure_lab.resource_group,
            automation_account=azure_lab.automation_account, location=azure_lab.location, subscription_id=azure_lab.subscription_id,
        )
        variables.update(extra_vars)
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", "localhost,", "-c", "local",
                   "-e", json.dumps(variables), os.path.join(PLAYBOOKS, name)]
        proc = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, timeout=600, check=False)
        output = proc.stdout + proc.stderr
        if not expect_clean:
            return output, leaked_secrets(azure_lab, output, secrets_before)
        assert leaked_secrets(azure_lab, output, secrets_before) == []
        assert proc.returncode == 0, output[-8000:]
        return output
    return run
