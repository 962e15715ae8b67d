"""Each check of pscheck catches its bad samples with the exact message and position, and stays quiet on good code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pscheck

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"
BAD_SCRIPTS = BAD / "scripts"
REPO = HERE.parents[1]


def summary(findings):
    return [(f.line, f.col, f.check, f.message) for f in findings]


def write(directory, name, text):
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------------------
# No false alarms

def test_good_fixtures_pass_every_check():
    scripts, modules = pscheck.discover(GOOD)
    assert [p.relative_to(GOOD).as_posix() for p in scripts] == [
        "plugins/module_utils/SampleUtil.psm1",
        "plugins/modules/win_sample_service.ps1",
    ]
    assert modules == [GOOD / "plugins/modules/win_sample_service.ps1"]
    findings = [f for path in scripts for f in pscheck.source_findings(path, GOOD)]
    findings += pscheck.spec_findings(modules[0], GOOD)
    findings += pscheck.pairing_findings(GOOD / "plugins/modules", GOOD)
    assert [str(f) for f in findings] == []


def test_good_module_spec_is_read_completely():
    src = pscheck.Source("m.ps1", (GOOD / "plugins/modules/win_sample_service.ps1").read_bytes(), "m.ps1")
    node, problem = pscheck.find_spec(src)
    assert problem is None
    spec = pscheck.evaluate(node)
    options = spec["options"]
    assert options["state"] == {"type": "str", "default": "started", "choices": ["started", "stopped"]}
    assert options["dependencies"]["default"] == []
    assert options["accounts"]["options"]["secret"] == {"type": "str", "no_log": True}
    assert options["notes"]["default"] == 'a plain "quoted" default'
    assert spec["mutually_exclusive"] == [["start_mode", "recovery"]]
    assert spec["supports_check_mode"] is True
    assert options.lines["timeout"] == 20


@pytest.mark.parametrize("literal, value", [
    ("@(\n    'a'  # first\n    'b'\n)", ["a", "b"]),
    ("@('a'; @('b', 'c'))", ["a", "b", "c"]),
    ("@(, @('a', 'b'))", [["a", "b"]]),
    ("@()", []),
    ("'it''s', \"say \"\"hi\"\"\"", ["it's", 'say "hi"']),
    ("@{ Key = -5; 'quoted key' = 0x1F; n = $NULL; t = $True }", {"Key": -5, "quoted key": 31, "n": None, "t": True}),
    ("@'\nline one\nline two\n'@", "line one\nline two"),
])
def test_evaluate_literals(tmp_path, literal, value):
    src = pscheck.Source("x.ps1", ("$spec = " + literal + "\n").encode(), "x.ps1")
    node, problem = pscheck.find_spec(src)
    assert problem is None
    assert pscheck.evaluate(node) == value


def test_discovery_ignores_the_fixtures():
    scripts, _modules = pscheck.discover(REPO)
    assert not [p for p in scripts if "tests" in p.relative_to(REPO).parts]


# ---------------------------------------------------------------------------------------------------------------------
# (a) syntax and (b) Windows PowerShell 5.1 compatibility, one bad sample per construct

BAD_SCRIPT_FINDINGS = {
    "unclosed_brace.ps1": [
        (5, 6, "syntax", "syntax error: missing '}' (for the '{' opened at line 1)"),
    ],
    "null_coalescing.ps1": [
        (2, 27, "compat", "null-coalescing operator '??' is PowerShell 7 only"),
        (3, 8, "compat", "null-coalescing assignment '??=' is PowerShell 7 only"),
        (4, 25, "compat", "null-coalescing operator '??' is PowerShell 7 only"),
    ],
    "null_conditional.ps1": [
        (4, 7, "syntax", "variable name '$other?' contains '?': valid PowerShell, but the syntax checker cannot read it; rename it"),
        (2, 21, "compat", "null-conditional member access '?.' is PowerShell 7 only"),
        (3, 23, "compat", "null-conditional index '?[]' is PowerShell 7 only"),
    ],
    "ternary.ps1": [
        (2, 15, "compat", "ternary operator 'a ? b : c' is PowerShell 7 only"),
    ],
    "pipeline_chain.ps1": [
        (2, 29, "compat", "pipeline chain operator '&&' is PowerShell 7 only"),
        (3, 26, "compat", "pipeline chain operator '||' is PowerShell 7 only"),
    ],
    "foreach_parallel.ps1": [
        (3, 25, "compat", "ForEach-Object -Parallel is PowerShell 7 only"),
        (4, 12, "compat", "ForEach-Object -Parallel is PowerShell 7 only"),
        (5, 18, "compat", "ForEach-Object -Parallel is PowerShell 7 only"),
    ],
    "clean_block.ps1": [
        (4, 5, "compat", "'clean {}' block is PowerShell 7.3 only"),
    ],
    "requires_version.ps1": [
        (1, 1, "compat", "#Requires -Version 7: Windows PowerShell 5.1 is the target"),
        (3, 1, "compat", "#Requires -PSEdition Core excludes Windows PowerShell 5.1"),
    ],
}


def test_every_bad_script_has_expectations():
    assert sorted(p.name for p in BAD_SCRIPTS.glob("*.ps1")) == sorted(BAD_SCRIPT_FINDINGS)


@pytest.mark.parametrize("name", sorted(BAD_SCRIPT_FINDINGS))
def test_bad_script_findings(name):
    assert summary(pscheck.source_findings(BAD_SCRIPTS / name, BAD_SCRIPTS)) == BAD_SCRIPT_FINDINGS[name]


def test_syntax_finding_shows_path_position_and_source_line():
    findings = pscheck.source_findings(BAD_SCRIPTS / "unclosed_brace.ps1", BAD)
    assert [str(f) for f in findings] == ["scripts/unclosed_brace.ps1:5:6: syntax error: missing '}' (for the '{' opened at line 1)\n        }"]


@pytest.mark.parametrize("source, expected", [
    pytest.param("$h = @{ a = 1\n$x = 2\n", [(1, 1, "syntax", "syntax error: unexpected '$h = @{ a = 1'")], id="unclosed-hashtable"),
    pytest.param("Get-Thing -Name 'x\n", [(1, 1, "syntax", "syntax error: unexpected 'Get-Thing -Name 'x'")], id="unterminated-string"),
    pytest.param("$a = 'x ? y' ?? 'z'\n", [(1, 14, "compat", "null-coalescing operator '??' is PowerShell 7 only")], id="string-before-??"),
    pytest.param("$v = (Get-Item .)?.Name\n", [(1, 18, "compat", "null-conditional member access '?.' is PowerShell 7 only")], id="paren-?."),
    pytest.param("Function F { clean { 1 } }\n", [(1, 14, "compat", "'clean {}' block is PowerShell 7.3 only")], id="lone-clean-block"),
    pytest.param("#requires -version 7.2\n$x = 1\n", [(1, 1, "compat", "#Requires -Version 7.2: Windows PowerShell 5.1 is the target")],
                 id="requires-lowercase"),
    pytest.param("#Requires -Version 5.2\n$x = 1\n", [(1, 1, "compat", "#Requires -Version 5.2: Windows PowerShell 5.1 is the target")], id="requires-5.2"),
    pytest.param("$x = 1 -and 2; $y = ${a}\n", [], id="plain-5.1"),
    pytest.param("# a && b ?? c ? d : e\n<# $x?.y ?? z #>\n$s = \"$('a && b') ?? c\"\n", [], id="comments-and-strings"),
    pytest.param("Get-Item a?b* | ? { $_ } | % -Process { $_ }\n", [], id="wildcards-and-aliases"),
    pytest.param("#Requires -Version 5.1\n#Requires -PSEdition Desktop\n#AnsibleRequires -PowerShell ..module_utils.X\n$x = 1\n", [], id="requires-5.1"),
    pytest.param("# a file of comments only\n", [], id="comments-only"),
    pytest.param("$x = 5 * 1GB\n$y = 1\n", [(1, 11, "syntax", "syntax error: unexpected 'GB'")], id="grammar-gap-multiplier"),
    pytest.param("$w = ${value?}\n", [], id="braced-variable-with-?"),
    pytest.param("$x = @{ clean = 1 }; Invoke-Clean { 1 }\n", [], id="clean-as-a-word"),
])
def test_inline_samples(tmp_path, source, expected):
    path = write(tmp_path, "sample.ps1", source)
    assert summary(pscheck.source_findings(path, tmp_path)) == expected


# ---------------------------------------------------------------------------------------------------------------------
# (c) $spec against the doc sidecar

def test_spec_mismatches_name_file_option_and_line():
    findings = pscheck.spec_findings(BAD / "plugins/modules/win_spec_mismatch.ps1", BAD)
    docs = " (plugins/modules/win_spec_mismatch.yml)"
    assert [str(f) for f in findings] == [
        "plugins/modules/win_spec_mismatch.ps1:8: documented option 'timeout' is missing from $spec" + docs,
        "plugins/modules/win_spec_mismatch.ps1:9: option 'state' default 'present' != docs 'absent'" + docs,
        "plugins/modules/win_spec_mismatch.ps1:10: option 'port' type 'str' != docs 'int'" + docs,
        "plugins/modules/win_spec_mismatch.ps1:11: option 'token' looks like a secret but sets no no_log (no_log = $true, or $false if it is not one)",
        "plugins/modules/win_spec_mismatch.ps1:12: option 'group' aliases ['group_name'] != docs ['worker_group']" + docs,
        "plugins/modules/win_spec_mismatch.ps1:16: option 'proxy.url' required True != docs False" + docs,
        "plugins/modules/win_spec_mismatch.ps1:17: option 'proxy.password' looks like a secret but sets no no_log (no_log = $true, or $false if it is not one)",
        "plugins/modules/win_spec_mismatch.ps1:20: option 'undocumented' is in $spec but not documented" + docs,
        "plugins/modules/win_spec_mismatch.ps1:22: supports_check_mode False != docs check_mode support 'full'" + docs,
    ]


def test_spec_that_is_not_a_literal_is_refused_clearly():
    findings = pscheck.spec_findings(BAD / "plugins/modules/win_shared_spec.ps1", BAD)
    assert summary(findings) == [(9, None, "spec", "$spec uses the variable $sharedOptions, which this static check cannot evaluate; "
                                  "write $spec as a literal hashtable or teach tests/powershell/pscheck.py evaluate() about it")]


def test_modules_and_sidecars_must_pair():
    assert [str(f) for f in pscheck.pairing_findings(BAD / "plugins/modules", BAD)] == [
        "plugins/modules/win_orphan.yml:1: doc sidecar has no PowerShell module plugins/modules/win_orphan.ps1",
        "plugins/modules/win_no_sidecar.ps1:1: module has no doc sidecar plugins/modules/win_no_sidecar.yml",
    ]
    assert [str(f) for f in pscheck.spec_findings(BAD / "plugins/modules/win_no_sidecar.ps1", BAD)] == [
        "plugins/modules/win_no_sidecar.ps1:1: module has no doc sidecar plugins/modules/win_no_sidecar.yml",
    ]


SIDECAR = """\
DOCUMENTATION: |
  module: win_x
  short_description: x
  description: [x]
  extends_documentation_fragment: [%s]
  attributes:
    check_mode:
      support: %s
  options:
    name:
      description: x
"""


def module_pair(tmp_path, spec, fragment="ansible.builtin.action_common_attributes", check_mode="none"):
    module = write(tmp_path, "plugins/modules/win_x.ps1", "#!powershell\n" + spec + "\n")
    write(tmp_path, "plugins/modules/win_x.yml", SIDECAR % (fragment, check_mode))
    return module


@pytest.mark.parametrize("spec, expected", [
    pytest.param("$spec = Get-SharedSpec", [(2, "$spec uses a command call (Get-SharedSpec), which this static check cannot evaluate")], id="command"),
    pytest.param("$spec = @{ options = @{ name = @{} } } + $more", [(2, "$spec uses an expression of kind 'additive_expression', which")], id="merge"),
    pytest.param("$spec = @{ options = @{ name = @{ default = \"$env:X\" } } }", [(2, "$spec uses an expression of kind 'expandable_string_literal'")],
                 id="expanding-string"),
    pytest.param("$spec = @{ options = @{ name = @{}; Name = @{} } }", [(2, "$spec uses a duplicate key 'Name' (PowerShell refuses duplicate")],
                 id="duplicate-key"),
    pytest.param("$x = 1", [(1, "no `$spec = @{ ... }` assignment found")], id="no-spec"),
    pytest.param("$spec = @{ options = @{ name = @{} } }\n$spec.options.extra = @{}", [(1, "line 3 changes $spec after it is built; keep it one literal")],
                 id="changed-later"),
])
def test_spec_evaluation_limits(tmp_path, spec, expected):
    findings = pscheck.spec_findings(module_pair(tmp_path, spec), tmp_path)
    assert [(f.line, f.message[:len(message)]) for f, (_line, message) in zip(findings, expected)] == expected


def test_spec_matching_docs_passes_and_check_mode_is_compared(tmp_path):
    assert pscheck.spec_findings(module_pair(tmp_path, "$spec = @{ options = @{ name = @{} } }"), tmp_path) == []
    module = module_pair(tmp_path, "$spec = @{\n options = @{ name = @{} }\n supports_check_mode = $true\n}")
    assert [str(f) for f in pscheck.spec_findings(module, tmp_path)] == [
        "plugins/modules/win_x.ps1:4: supports_check_mode True != docs check_mode support 'none' (plugins/modules/win_x.yml)"]
    module = module_pair(tmp_path, "$spec = @{ options = @{ name = @{} }; supports_check_mode = $true }", check_mode="partial")
    assert pscheck.spec_findings(module, tmp_path) == []


def test_options_from_this_collections_doc_fragment_count_as_documented(tmp_path):
    write(tmp_path, "plugins/doc_fragments/worker.py",
          'class ModuleDocFragment:\n    DOCUMENTATION = r"""\noptions:\n  group:\n    description: x\n    required: true\n"""\n')
    spec = "$spec = @{ options = @{ name = @{}; group = @{ required = $true } } }"
    module = module_pair(tmp_path, spec, fragment="azure_automation.hybrid_worker.worker")
    assert pscheck.spec_findings(module, tmp_path) == []
    module = module_pair(tmp_path, "$spec = @{ options = @{ name = @{}; group = @{} } }", fragment="azure_automation.hybrid_worker.worker")
    assert [f.message for f in pscheck.spec_findings(module, tmp_path)] == [
        "option 'group' required False != docs True (plugins/modules/win_x.yml)"]


def test_doc_fragment_of_another_collection_is_refused(tmp_path):
    module = module_pair(tmp_path, "$spec = @{ options = @{ name = @{} } }", fragment="ansible.windows.web_request")
    assert [f.message for f in pscheck.spec_findings(module, tmp_path)] == [
        "plugins/modules/win_x.yml: doc fragment ansible.windows.web_request is from another collection; this check cannot read its options"]


# ---------------------------------------------------------------------------------------------------------------------
# The command line and the real-file suite pointed at a scratch collection

def test_cli_reports_and_sets_exit_code():
    bad = subprocess.run([sys.executable, str(HERE / "pscheck.py"), str(BAD_SCRIPTS / "ternary.ps1")],
                         capture_output=True, text=True, check=False, cwd=BAD)
    assert (bad.returncode, bad.stdout) == (1, "scripts/ternary.ps1:2:15: ternary operator 'a ? b : c' is PowerShell 7 only\n")
    good = subprocess.run([sys.executable, str(HERE / "pscheck.py"), str(GOOD / "plugins/modules/win_sample_service.ps1")],
                          capture_output=True, text=True, check=False)
    assert (good.returncode, good.stdout) == (0, "")


def test_plugin_suite_fails_naming_file_and_line(tmp_path):
    """The acceptance of the foundation issue: a broken brace, a '??' or a changed sidecar default fail the stage."""
    shutil.copytree(GOOD / "plugins", tmp_path / "plugins")
    modules = tmp_path / "plugins/modules"
    util = tmp_path / "plugins/module_utils/SampleUtil.psm1"
    util.write_text(util.read_text().replace("$values.Add($item)\n        }", "$values.Add($item)\n"))
    module = modules / "win_sample_service.ps1"
    module.write_text(module.read_text().replace("$name = $module.Params.name", "$name = $module.Params.name ?? 'Spooler'"))
    sidecar = modules / "win_sample_service.yml"
    sidecar.write_text(sidecar.read_text().replace("default: 30", "default: 60"))

    env = dict(os.environ, PSCHECK_ROOT=str(tmp_path))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HERE / "test_powershell_plugins.py")],
                         capture_output=True, text=True, check=False, env=env, cwd=REPO)
    assert run.returncode == 1, run.stdout
    assert "plugins/module_utils/SampleUtil.psm1:36:35: syntax error: missing '}' (for the '{' opened at line 7)" in run.stdout
    assert "plugins/modules/win_sample_service.ps1:46:29: null-coalescing operator '??' is PowerShell 7 only" in run.stdout
    assert ("plugins/modules/win_sample_service.ps1:20: option 'timeout' default 30 != docs 60 (plugins/modules/win_sample_service.yml)"
            in run.stdout)
    assert "3 failed, 3 passed" in run.stdout
