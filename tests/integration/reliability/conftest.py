"""Record of every reliability case's outcome, which ``tests/utils/reliability_report.py`` turns into
``docs/reliability.md``.

Each test that is a case of the published tables asks for the ``case`` fixture and fills it in (table, id, what was
injected or given, the message the run answered with). Whether the case held is the test's own outcome: a hook reads
it after the test ran, so a failing guarantee is recorded as broken, never as survived.
"""
import datetime
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "utils"))

# pylint: disable=wrong-import-position
import reliability_report  # noqa: E402

_RESULTS = {}


# --- the record of cases -------------------------------------------------------------------------------------------

class Case:
    def __init__(self, node_id):
        self.node_id = node_id
        self.table = None
        self.data = {}

    def __call__(self, table, case_id, **data):
        """Declare which published case this test is (``table``: faults, bad_inputs, secrets, check_mode,
        concurrency) and what it did; ``message`` is what the run told the operator."""
        self.table = table
        self.data = dict(data, id=case_id)

    def note(self, **data):
        self.data.update(data)


@pytest.fixture
def case(request):
    record = Case(request.node.nodeid)
    request.node.reliability_case = record
    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    record = getattr(item, "reliability_case", None)
    if record is None or record.table is None:
        return
    if report.when == "call" or (report.when == "setup" and report.failed):
        # A strict xfail that passed fails the session (its marker is stale), but its guarantee held.
        stale_marker = report.failed and str(report.longrepr).startswith("[XPASS(strict)]")
        entry = dict(record.data, outcome="held" if report.passed or stale_marker else "broken", test=record.node_id)
        _RESULTS[(record.table, entry["id"])] = (record.table, entry)


def pytest_sessionfinish(session):  # pylint: disable=unused-argument
    if not _RESULTS:
        return
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    results = reliability_report.merge_results([dict(entry, table=table, time=stamp) for table, entry in _RESULTS.values()])
    # The published page follows the results it was written from (tests/utils/reliability_report.py).
    reliability_report.write(results=results)
