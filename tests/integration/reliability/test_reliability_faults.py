"""Fault matrix: real fleet playbook runs with one fault injected, then the fault cleared and one re-run converging.

Host faults: every faulted host carries exactly one fault and the run also holds healthy hosts, so one onboarding run
covers every host fault at once (hosts are independent in the playbook; running them together also proves a fault
stays with its host: the healthy hosts finish and no other host's message mentions it). The cleared fleet is then
converged by a single re-run. Azure faults hit the whole run, so each has a run of its own.

For each case: the run's message names the host (or Azure resource) and the cause; the other hosts finish; Azure
holds no half-made resource and no worker the run did not intend; after the fault is cleared one re-run converges.
"""
import re

import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure.testing import LabControl
from reliability_lab import ReliabilityLab, converged, fatal_messages, first_failure

AGENT_TASK = "Install and configure the Log Analytics agent"
WORKER_TASK = "Register the host as a Hybrid Runbook Worker"
WORKSPACE = "law-hybrid-workers"

# case id -> host, profile, fault (labctl fault KIND [VALUE]) or None, how it is cleared, cause the message must say.
# Remedies: "clear" = labctl fault HOST clear; a dict = host variables the operator sets (what the message advises);
# "upgrade-*" = the operator upgrades the server.
HOST_FAULTS = {
    "host unreachable": ("win-004", "2019", ("unreachable",), "clear", "Connection refused"),
    "host slower than the connection timeout": ("win-005", "2019", ("slow", "4000"), "clear", "Read timed out"),
    "wrong WinRM password": ("win-006", "2019", ("wrong-credentials",), "clear", "the specified credentials were rejected by the server"),
    "installer exit 1603": ("win-007", "2019", ("installer-exit", "1603"), "clear",
                            "The Log Analytics agent setup failed with exit code 1603"),
    "installer download failure": ("win-008", "2019", ("download-failure",), "clear",
                                   "Failed to download the Log Analytics agent installer from 'https://"),
    "installer checksum mismatch": ("win-009", "2019", ("checksum-mismatch",), "clear",
                                    "not the expected installer_checksum"),
    "registration 401": ("win-010", "2019", ("registration", "401"), "clear",
                         "the registration key is wrong or was regenerated"),
    "registration 403": ("win-011", "2019", ("registration", "403"), "clear",
                         "the machine clock may be more than 15 minutes off"),
    "HybridRegistration never arrives": ("win-012", "2019", ("hybrid-registration-never",), "clear",
                                         "The HybridRegistration module did not arrive"),
    "Machine is already registered": ("win-013", "2019", ("registration", "409"), "clear",
                                      "Machine is already registered"),
    "PowerShell 4.0 host": ("win-014", "2019+ps4", None, "upgrade-powershell", "Ansible requires PowerShell v5.1"),
    ".NET 4.5 host": ("win-015", "2019+dotnet45", None, "upgrade-dotnet",
                      ".NET Framework 4.6.2 or later (release 394802, found 378389)"),
    "TLS 1.2 disabled": ("win-016", "2019+tls12-disabled", None, {"log_analytics_agent_fix_tls_settings": True},
                         "TLS 1.2 (SCHANNEL TLS 1.2 client enabled"),
}
# Hosts without a fault: win-001 and win-002 take part in the Azure cases from the start, win-003 is bare until the
# host-fault run, which it must finish beside the faulted hosts.
HEALTHY = ("win-001", "win-002", "win-003")
PAIR = HEALTHY[:2]
FAULTED = sorted(spec[0] for spec in HOST_FAULTS.values())
# The slow host gives up after 3 s; the lab answers it after 4 s.
SLOW_HOST_VARS = {"ansible_winrm_read_timeout_sec": 3, "ansible_winrm_operation_timeout_sec": 2}


def host_profiles():
    by_host = dict((spec[0], spec[1]) for spec in HOST_FAULTS.values())
    return [by_host.get("win-%03d" % n, "2019") for n in range(1, len(HEALTHY) + len(HOST_FAULTS) + 1)]


def summary_line(run, host):
    """The summary's line about ``host`` ("win-007 failed: ..."), or None."""
    for line in run.messages("Summary per worker group"):
        if line.startswith(host + " "):
            return line
    return None


def fatal_message(run, host):
    """The msg of the last ``fatal: [host]`` result (a delegated task shows as ``[host -> localhost]``)."""
    found = fatal_messages(run, re.escape(host) + r"(?: -> [^\]]+)?")
    return found[-1] if found else None


class Matrix:
    """The fault lab and the two host-fault runs (faults in, then cleared), made once for the module."""

    def __init__(self, lab):
        self.lab = lab
        self.control = LabControl(lab.dir)
        self.faulted_run = None
        self.cleared_run = None
        self.workers_after_fault = None
        self.unfinished_after_fault = None

    def onboard_pair(self):
        """win-001 and win-002 onboarded (the first case does it; a case run on its own does it here)."""
        if converged(self.lab, PAIR):
            run = self.lab.run("onboard", "--limit", ",".join(PAIR))
            assert run.rc == 0, run.describe()

    def apply_remedy(self, host, remedy):
        if remedy == "clear":
            self.lab.labctl("fault", host, "clear")
        elif remedy in ("upgrade-powershell", "upgrade-dotnet"):
            from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import WindowsLab  # pylint: disable=import-outside-toplevel
            with WindowsLab(self.lab.dir).locked_host(host) as state:
                if remedy == "upgrade-powershell":
                    # Windows Management Framework 5.1: PowerShell 5.1 with PowerShellGet in box.
                    state.state["powershell"] = {"version": "5.1"}
                    for inbox in ("PackageManagement", "PowerShellGet"):
                        state.install_psmodule(inbox, "1.0.0.1", None)
                else:
                    state.reg_set("HKLM:\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full", "Release", 528040)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    lab = ReliabilityLab.start(str(tmp_path_factory.mktemp("faults")), host_profiles())
    try:
        yield Matrix(lab)
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def host_fault_runs(matrix):
    """Onboard the whole fleet with every host fault in place, then clear them and run once more."""
    lab = matrix.lab
    # The first Azure case already onboarded win-001 and win-002 (tests run in file order); make sure either way.
    for host, _profile, fault, _remedy, _cause in HOST_FAULTS.values():
        if fault:
            lab.labctl("fault", host, *fault)
    lab.set_host_vars({HOST_FAULTS["host slower than the connection timeout"][0]: SLOW_HOST_VARS})
    matrix.faulted_run = lab.run("onboard")
    matrix.workers_after_fault = lab.azure_workers()
    matrix.unfinished_after_fault = lab.unfinished_azure_resources()

    remedy_vars = {}
    for host, _profile, _fault, remedy, _cause in HOST_FAULTS.values():
        if isinstance(remedy, dict):
            remedy_vars[host] = remedy
        else:
            matrix.apply_remedy(host, remedy)
    lab.set_host_vars(remedy_vars)
    matrix.cleared_run = lab.run("onboard")
    return matrix


# --- Azure faults, each its own run --------------------------------------------------------------------------------

def test_lro_ending_failed_names_the_workspace_and_a_rerun_creates_it(matrix, case):
    lab, control = matrix.lab, matrix.control
    case("faults", "LRO ending Failed", order=1, injected="workspace create LRO ends Failed (lro_failed)",
         playbook="onboard.yml")
    control.fault("lro_failed")
    run = lab.run("onboard", "--limit", "win-001,win-002")
    message = first_failure(run)
    case.note(message=message)
    assert run.rc != 0, run.describe()
    assert WORKSPACE in message and "Failed" in message, message
    resources = lab.azure_resources()
    # Nothing was built on the failed workspace (no solution, no link), no worker was registered and no host was
    # touched. The inventory's worker groups do not depend on the workspace: they may exist, whole, as intended.
    kinds = sorted(r["kind"] for r in resources if r["kind"] != "workerGroup")
    assert kinds == ["automationAccount", "resourceGroup", "workspace"], kinds
    assert set(r["name"] for r in resources if r["kind"] == "workerGroup") <= {"east", "west"}
    assert lab.unfinished_azure_resources() == ["workspace %s: Failed" % WORKSPACE], lab.unfinished_azure_resources()
    assert lab.stats()["windows"]["module_calls_per_host"] == {}

    control.clear_faults()
    again = lab.run("onboard", "--limit", "win-001,win-002")
    assert again.rc == 0, again.describe()
    assert lab.unfinished_azure_resources() == []
    assert converged(lab, ("win-001", "win-002")) == []
    case.note(result="failed naming the workspace; re-run converged")


def fail_then_converge(matrix, case, fault, expected, run_kwargs=None, rerun_kwargs=None):
    """Drift one host, run with an Azure fault that fails the run, clear it, re-run: the drift must be corrected."""
    lab, control = matrix.lab, matrix.control
    matrix.onboard_pair()
    lab.labctl("drift", "win-001", "stop-service")
    lab.stats(reset=True)
    if fault:
        control.fault(*fault[:1], **fault[1])
    run = lab.run("onboard", "--limit", "win-001,win-002", **(run_kwargs or {}))
    control.clear_faults()
    message = first_failure(run)
    case.note(message=message)
    assert run.rc != 0, run.describe()
    for fragment in expected:
        assert fragment in (message or ""), (fragment, message, run.describe())
    # The failure stopped the run before any host or Azure change.
    stats = lab.stats()
    assert stats["azure"]["arm"]["writes"] == 0, stats["azure"]["arm"]["by_operation"]
    assert stats["windows"]["module_calls_per_host"] == {}
    assert lab.host("win-001")["summary"]["health_service"] == "Stopped"

    again = lab.run("onboard", "--limit", "win-001,win-002", **(rerun_kwargs or {}))
    assert again.rc == 0, again.describe()
    assert again.changed_hosts() == ["win-001"]
    assert lab.host("win-001")["summary"]["health_service"] == "Running"
    assert converged(lab, ("win-001", "win-002")) == []
    assert lab.unfinished_azure_resources() == []
    case.note(result="failed naming the cause; re-run converged")


TRANSIENT_FAULTS = (
    ("throttle", {"surface": "arm", "every": 2, "count": 3, "retry_after": 1}),
    ("error", {"surface": "arm", "status": 500, "every": 3, "count": 2, "retry_after": 0}),
    ("error", {"surface": "arm", "status": 503, "every": 4, "count": 2, "retry_after": 0}),
)


@pytest.fixture(scope="module")
def transient_run(matrix):
    """One run with transient faults the SDK's retries absorb (429 with Retry-After, 500, 503)."""
    lab, control = matrix.lab, matrix.control
    matrix.onboard_pair()
    lab.stats(reset=True)
    for kind, options in TRANSIENT_FAULTS:
        control.fault(kind, **options)
    try:
        run = lab.run("onboard", "--limit", ",".join(PAIR))
    finally:
        control.clear_faults()
    return run, lab.stats()["azure"]


def survived(matrix, case, transient, injected):
    run, stats = transient
    case.note(result="retried within the run, converged", injected=injected,
              message="(run succeeded; %d injected answers retried: %s)"
              % (stats["faults_injected"], ", ".join("%s x%s" % (code, n) for code, n in sorted(stats["arm"]["by_status"].items())
                                                     if code in ("429", "500", "503"))))
    # The run succeeds and changes nothing on the converged pair: every injected answer was retried.
    assert run.rc == 0, run.describe()
    assert stats["faults_injected"] == sum(options["count"] for _kind, options in TRANSIENT_FAULTS), stats
    assert converged(matrix.lab, PAIR) == []
    assert run.changed_hosts() == []


def test_throttling_with_retry_after_is_waited_out(matrix, case, transient_run):
    case("faults", "Azure 429 + Retry-After", order=2, playbook="onboard.yml")
    assert transient_run[1]["arm"]["by_status"].get("429") == 3
    survived(matrix, case, transient_run, "429 TooManyRequests with Retry-After: 1 on every 2nd ARM request (3 times), "
             "in the same run as the 500/503 case")


def test_transient_500_and_503_are_retried(matrix, case, transient_run):
    case("faults", "Azure 500/503 (transient)", order=3, playbook="onboard.yml")
    assert transient_run[1]["arm"]["by_status"].get("500") == 2 and transient_run[1]["arm"]["by_status"].get("503") == 2
    survived(matrix, case, transient_run, "500 on every 3rd and 503 on every 4th ARM request (2 times each), in the same "
             "run as the 429 case")


def test_persistent_503_names_the_account_and_a_rerun_converges(matrix, case):
    case("faults", "Azure 503 (persistent)", order=4, playbook="onboard.yml",
         injected="503 ServiceUnavailable on every agentRegistrationInformation read")
    fail_then_converge(matrix, case, ("error", {"operation": "AgentRegistrationInformation_Get", "status": 503,
                                                "count": 100, "retry_after": 0}),
                       ["aa-hybrid-worker-lab", "503"])


def test_token_endpoint_down_names_entra_id_and_a_rerun_converges(matrix, case):
    case("faults", "token endpoint down", order=5, playbook="onboard.yml",
         injected="Entra ID token endpoint answers 503 temporarily_unavailable")
    fail_then_converge(matrix, case, ("token_down", {"status": 503, "count": 100}),
                       ["Failed to read ", "': AuthenticationFailed: the Entra ID token request for tenant " + matrix.lab.tenant,
                        "failed because the token endpoint is unavailable (HTTP 503)",
                        "Authentication failed: HTTP Error: 503"])
    # What failed is the first Azure read of the run, named with its resource.
    assert re.match(r"Failed to read (Automation account|Log Analytics workspace) '[a-z-]+'", case.data["message"]), \
        case.data["message"]


def test_wrong_client_secret_is_named_and_a_rerun_converges(matrix, case):
    case("faults", "wrong client secret", order=6, playbook="onboard.yml",
         injected="AZURE_SECRET of another service principal")
    wrong = {"AZURE_SECRET": "not-the-secret-" + "x" * 20}
    fail_then_converge(matrix, case, None, ["the Entra ID token request for tenant " + matrix.lab.tenant,
                                            "failed because the client secret is wrong", "AADSTS7000215"],
                       run_kwargs={"env": wrong})


def test_query_api_down_fails_verify_naming_the_workspace_and_a_rerun_passes(matrix, case):
    lab, control = matrix.lab, matrix.control
    case("faults", "Log Analytics query API 503 (verify.yml)", order=7, playbook="verify.yml",
         injected="503 ServiceUnavailable on every heartbeat query")
    matrix.onboard_pair()
    control.fault("error", operation="Query_Execute", status=503, count=100, retry_after=0)
    try:
        run = lab.run("verify", "--limit", ",".join(PAIR))
    finally:
        control.clear_faults()
    message = first_failure(run)
    case.note(message=message)
    # verify.yml must not report a clean fleet it could not check.
    assert run.rc != 0, run.describe()
    assert WORKSPACE in (message or "") or "heartbeat" in (message or "").lower(), message
    assert "503" in (message or ""), message
    assert "0 of 2 hosts drifted" not in run.output
    again = lab.run("verify", "--limit", ",".join(PAIR))
    assert again.rc == 0, again.describe()
    assert again.messages("Drift report") == ["0 of 2 hosts drifted, 0 unaccounted Azure workers"]
    case.note(result="failed naming the cause, reported no clean fleet; re-run passed")


# --- host faults, one host each, all in one run ---------------------------------------------------------------------

@pytest.mark.parametrize("case_id", list(HOST_FAULTS))
def test_host_fault(host_fault_runs, case, case_id):
    matrix = host_fault_runs
    lab = matrix.lab
    host, _profile, fault, remedy, cause = HOST_FAULTS[case_id]
    case("faults", case_id, order=10 + list(HOST_FAULTS).index(case_id), playbook="onboard.yml",
         injected=("labctl fault %s %s" % (host, " ".join(fault))) if fault else "host profile " + _profile)
    run = matrix.faulted_run
    line = summary_line(run, host)
    detail = fatal_message(run, host)
    case.note(message=(line or "") if cause in (line or "") else "%s (%s)" % (line, detail))
    # The run fails, the summary names the host, and the host's message says the cause.
    assert run.rc != 0
    assert line is not None and line.startswith(host + " "), run.messages("Summary per worker group")
    assert cause in (line + " " + (detail or "")), (line, detail)
    # No worker record in Azure for the host that failed; nothing half-made.
    assert host not in matrix.workers_after_fault
    assert matrix.unfinished_after_fault == []

    again = matrix.cleared_run
    assert again.rc == 0, again.describe()
    assert converged(lab, (host,)) == []
    case.note(result="failed naming the host and cause; others finished; re-run converged",
              remedy=remedy if isinstance(remedy, str) else "set " + ", ".join(remedy))


def test_healthy_hosts_finish_beside_the_faulted_ones(host_fault_runs):
    lab = host_fault_runs.lab
    run = host_fault_runs.faulted_run
    for host in HEALTHY:
        assert run.recap[host]["failed"] == 0 and run.recap[host]["unreachable"] == 0, (host, run.recap[host])
        assert summary_line(run, host) is None, summary_line(run, host)
    assert sorted(host_fault_runs.workers_after_fault) == list(HEALTHY)
    # One re-run after clearing converges the whole fleet: every host in its group, once, in Azure and on the host.
    assert converged(lab, lab.hosts) == []
    groups = sorted(r["name"] for r in lab.azure_resources() if r["kind"] == "workerGroup")
    assert groups == ["east", "west"]
