"""Stage 2 of `make test`: every .ps1/.psm1 under plugins/ parses, is Windows PowerShell 5.1 syntax, and every module's
$spec matches its doc sidecar. Files are discovered when pytest collects, one test id per file.

PSCHECK_ROOT points the suite at another collection root (the tests of the suite itself use it on a scratch copy).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pscheck

ROOT = Path(os.environ.get("PSCHECK_ROOT") or Path(__file__).resolve().parents[2])
SCRIPTS, MODULES = pscheck.discover(ROOT)


def per_file(paths, what):
    if not paths:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no %s under plugins/ yet" % what))]
    return [pytest.param(path, id=path.relative_to(ROOT).as_posix()) for path in paths]


def fail_on(findings):
    if findings:
        pytest.fail("\n".join(str(finding) for finding in findings), pytrace=False)


@pytest.mark.parametrize("path", per_file(SCRIPTS, "PowerShell files"))
def test_parses(path):
    fail_on([finding for finding in pscheck.source_findings(path, ROOT) if finding.check == "syntax"])


@pytest.mark.parametrize("path", per_file(SCRIPTS, "PowerShell files"))
def test_windows_powershell_51_syntax_only(path):
    fail_on([finding for finding in pscheck.source_findings(path, ROOT) if finding.check == "compat"])


@pytest.mark.parametrize("path", per_file(MODULES, "PowerShell modules"))
def test_spec_matches_doc_sidecar(path):
    fail_on(pscheck.spec_findings(path, ROOT))


def test_modules_and_doc_sidecars_come_in_pairs():
    fail_on(pscheck.pairing_findings(ROOT / "plugins" / "modules", ROOT))
