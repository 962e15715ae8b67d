"""The small part of KQL the lab answers, over the ``Heartbeat`` table only.

Supported (anything else raises :class:`UnsupportedQuery`, which the query API turns into a 400 saying the lab does
not support it, so a test never gets a wrong answer):

* first stage: ``Heartbeat``
* ``where`` with clauses joined by ``and``: ``Col == "x"``, ``!=``, ``=~``, ``!~``, ``Col in ("a", "b")``, ``in~``,
  ``!in``, and ``TimeGenerated >|>=|<|<= ago(30m)`` (units d, h, m, s, ms) or ``now()``
* ``summarize arg_max(TimeGenerated, *) by Computer``; ``summarize [Name =] max(TimeGenerated) by Col[, Col]``;
  ``summarize [Name =] count() [by Col[, Col]]``
* ``project Col[, Col]``, ``distinct Col[, Col]``, ``take N`` / ``limit N``, ``order by`` / ``sort by Col [asc|desc]``,
  ``count``
* the request's ``timespan`` as an ISO 8601 duration (``PT30M``, ``P1D``)

The column set and types follow the Heartbeat table reference (learn.microsoft.com, azure-monitor/reference/tables/
heartbeat); the response shape follows the data-plane spec ``queryResults`` (``tables[{name, columns, rows}]``).
"""
import datetime
import re

# (name, type) in the order the lab returns them.
HEARTBEAT_COLUMNS = [
    ("TenantId", "string"),
    ("SourceSystem", "string"),
    ("TimeGenerated", "datetime"),
    ("SourceComputerId", "string"),
    ("ComputerIP", "string"),
    ("Computer", "string"),
    ("Category", "string"),
    ("OSType", "string"),
    ("OSName", "string"),
    ("OSMajorVersion", "string"),
    ("OSMinorVersion", "string"),
    ("Version", "string"),
    ("ComputerEnvironment", "string"),
    ("Solutions", "string"),
    ("Type", "string"),
]


class UnsupportedQuery(Exception):
    pass


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def format_datetime(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_datetime(value):
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_timespan(value):
    """ISO 8601 duration → timedelta (the query API's ``timespan``)."""
    match = _ISO_DURATION.match(value or "")
    if not match or value in ("P", "PT"):
        raise UnsupportedQuery("timespan %r is not supported by the lab (only an ISO 8601 duration such as PT30M)" % value)
    days, hours, minutes, seconds = match.groups()
    return datetime.timedelta(
        days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0)
    )


def _split_outside_quotes(text, separator):
    parts, current, quote = [], [], None
    for char in text:
        if quote:
            current.append(char)
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
            current.append(char)
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quote:
        raise UnsupportedQuery("unterminated string literal")
    parts.append("".join(current))
    return parts


_STRING = r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
_CLAUSE = re.compile(
    r"^\s*(?P<col>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>==|!=|=~|!~|>=|<=|>|<|!in\b|in~|in\b)\s*(?P<value>.+?)\s*$"
)
_AGO = re.compile(r"^ago\(\s*(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)\s*\)$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _literal(text):
    text = text.strip()
    if re.match("^" + _STRING + "$", text):
        return bytes(text[1:-1], "utf-8").decode("unicode_escape")
    ago = _AGO.match(text)
    if ago:
        return utcnow() - datetime.timedelta(seconds=float(ago.group(1)) * _UNITS[ago.group(2)])
    if re.match(r"^now\(\s*\)$", text):
        return utcnow()
    if re.match(r"^-?\d+$", text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    raise UnsupportedQuery("value %r is not supported by the lab" % text)


def _check_column(name, columns):
    if name not in columns:
        raise UnsupportedQuery("column %r is not known (KQL names are case-sensitive)" % name)


def _where(expression, columns):
    clauses = re.split(r"\s+and\s+", expression.strip())
    tests = []
    for clause in clauses:
        if re.search(r"\bor\b|\bnot\b|\(.*\bwhere\b", clause):
            raise UnsupportedQuery("'or'/'not' in where is not supported by the lab")
        match = _CLAUSE.match(clause)
        if not match:
            raise UnsupportedQuery("where clause %r is not supported by the lab" % clause.strip())
        col, op, raw = match.group("col"), match.group("op"), match.group("value")
        _check_column(col, columns)
        if op in ("in", "in~", "!in"):
            inner = raw.strip()
            if not (inner.startswith("(") and inner.endswith(")")):
                raise UnsupportedQuery("'in' needs a parenthesised list of string literals")
            values = [_literal(v) for v in _split_outside_quotes(inner[1:-1], ",") if v.strip()]
            tests.append((col, op, values))
        else:
            tests.append((col, op, _literal(raw)))

    def keep(row):
        return all(_compare(row.get(col), op, value) for col, op, value in tests)
    return keep


def _compare(actual, op, expected):
    if isinstance(expected, datetime.datetime):
        if actual is None:
            return False
        actual = parse_datetime(actual) if isinstance(actual, str) else actual
        return {">": actual > expected, ">=": actual >= expected, "<": actual < expected,
                "<=": actual <= expected, "==": actual == expected, "!=": actual != expected}.get(op, False)
    if op in (">", ">=", "<", "<="):
        raise UnsupportedQuery("ordering comparison on non-datetime values is not supported by the lab")
    if op == "==":
        return actual == expected
    if op == "!=":
        return actual != expected
    if op == "=~":
        return str(actual).lower() == str(expected).lower()
    if op == "!~":
        return str(actual).lower() != str(expected).lower()
    if op == "in":
        return actual in expected
    if op == "in~":
        return str(actual).lower() in [str(v).lower() for v in expected]
    if op == "!in":
        return actual not in expected
    raise UnsupportedQuery("operator %r is not supported by the lab" % op)


def _column_list(text, columns):
    names = [n.strip() for n in text.split(",")]
    for name in names:
        if not _COLUMN.match(name):
            raise UnsupportedQuery("column expression %r is not supported by the lab" % name)
        _check_column(name, columns)
    return names


def _summarize(text, rows, columns):
    match = re.match(r"^\s*arg_max\(\s*TimeGenerated\s*,\s*\*\s*\)\s+by\s+Computer\s*$", text)
    if match:
        latest = {}
        for row in rows:
            key = row.get("Computer")
            if key not in latest or parse_datetime(row["TimeGenerated"]) > parse_datetime(latest[key]["TimeGenerated"]):
                latest[key] = row
        ordered = ["Computer"] + [name for name, ignored in columns if name != "Computer"]
        types = dict(columns)
        return [dict(r) for r in latest.values()], [(c, types[c]) for c in ordered]
    match = re.match(
        r"^\s*(?:(?P<alias>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*)?(?P<fn>max\(\s*TimeGenerated\s*\)|count\(\s*\))"
        r"(?:\s+by\s+(?P<by>.+))?\s*$", text,
    )
    if not match:
        raise UnsupportedQuery("summarize %r is not supported by the lab" % text.strip())
    is_count = match.group("fn").startswith("count")
    alias = match.group("alias") or ("count_" if is_count else "max_TimeGenerated")
    by = _column_list(match.group("by"), [c for c, ignored in columns]) if match.group("by") else []
    groups = {}
    for row in rows:
        key = tuple(row.get(c) for c in by)
        if is_count:
            groups[key] = groups.get(key, 0) + 1
        else:
            value = row["TimeGenerated"]
            if key not in groups or parse_datetime(value) > parse_datetime(groups[key]):
                groups[key] = value
    if not by and is_count and not groups:
        groups[()] = 0
    types = dict(columns)
    out_columns = [(c, types[c]) for c in by] + [(alias, "long" if is_count else "datetime")]
    out_rows = [dict(list(zip(by, key)) + [(alias, value)]) for key, value in groups.items()]
    return out_rows, out_columns


def run(query, records, timespan=None):
    """Evaluate ``query`` over ``records`` (dicts keyed by Heartbeat column); return ``(columns, rows)``."""
    stages = [s.strip() for s in _split_outside_quotes(query.strip().rstrip(";"), "|")]
    if not stages or stages[0] != "Heartbeat":
        raise UnsupportedQuery("only queries over the Heartbeat table are supported by the lab")
    rows = [dict(r) for r in records]
    columns = list(HEARTBEAT_COLUMNS)
    if timespan:
        since = utcnow() - parse_timespan(timespan)
        rows = [r for r in rows if parse_datetime(r["TimeGenerated"]) >= since]
    for stage in stages[1:]:
        names = [c for c, ignored in columns]
        word, sep, rest = stage.partition(" ")
        rest = rest.strip()
        if word == "where":
            keep_row = _where(rest, names)  # parsed first: an unsupported clause fails even over no rows
            rows = [r for r in rows if keep_row(r)]
        elif word == "summarize":
            rows, columns = _summarize(rest, rows, columns)
        elif word == "project":
            keep = _column_list(rest, names)
            types = dict(columns)
            columns = [(c, types[c]) for c in keep]
        elif word == "distinct":
            keep = _column_list(rest, names)
            types = dict(columns)
            seen, unique = set(), []
            for row in rows:
                key = tuple(row.get(c) for c in keep)
                if key not in seen:
                    seen.add(key)
                    unique.append(row)
            rows, columns = unique, [(c, types[c]) for c in keep]
        elif word in ("take", "limit") and re.match(r"^\d+$", rest):
            rows = rows[:int(rest)]
        elif word in ("order", "sort") and rest.startswith("by "):
            match = re.match(r"^by\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?$", rest)
            if not match:
                raise UnsupportedQuery("%r is not supported by the lab (one column, asc or desc)" % stage)
            _check_column(match.group(1), names)
            col = match.group(1)
            rows.sort(key=lambda r, c=col: (r.get(c) is not None, r.get(c) or ""), reverse=match.group(2) != "asc")
        elif stage == "count":
            rows, columns = [{"Count": len(rows)}], [("Count", "long")]
        else:
            raise UnsupportedQuery("the operator %r is not supported by the lab" % stage.split(" ")[0])
    names = [c for c, ignored in columns]
    return [{"name": c, "type": t} for c, t in columns], [[row.get(c) for c in names] for row in rows]
