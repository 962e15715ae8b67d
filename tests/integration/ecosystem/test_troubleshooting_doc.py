"""docs/troubleshooting.md quotes what the collection really reports.

In the "What the collection reports" column, text in double quotes is a message of the collection; parts in
backticks stand for what varies (values, service codes and messages) and "..." for text left out. Every fixed part
must appear in the collection's code, so a reworded message shows up here until the table follows.
"""
import os
import re

from .conftest import ROOT

DOC = os.path.join(ROOT, "docs", "troubleshooting.md")
SOURCES = ("plugins", "roles", "playbooks")
QUOTE = re.compile(r'"([^"]+)"')
VARIABLE_PART = re.compile(r"`[^`]*`|\.\.\.")
# Shorter fixed parts ("from", "instead of") are too common to prove anything.
MIN_FRAGMENT = 12


def source_text():
    chunks = []
    for top in SOURCES:
        for folder, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith((".py", ".ps1", ".psm1", ".yml", ".yaml")):
                    with open(os.path.join(folder, name), encoding="utf-8") as handle:
                        chunks.append(handle.read())
    return "\n".join(chunks)


def reported_messages():
    """(row cause, quoted message) for every quote in the second column of every table row."""
    found = []
    with open(DOC, encoding="utf-8") as handle:
        for line in handle:
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            if not line.startswith("|") or len(cells) != 3 or set(cells[1]) <= set("-") or cells[1] == "What the collection reports":
                continue
            found.extend((cells[0], quote) for quote in QUOTE.findall(cells[1]))
    return found


def fixed_parts(message):
    parts = (part.strip(" ;:.,'()") for part in VARIABLE_PART.split(message))
    return [part for part in parts if len(part) >= MIN_FRAGMENT]


def test_the_table_quotes_messages():
    messages = reported_messages()
    assert len(messages) >= 20, "the troubleshooting tables lost their rows: %d quotes" % len(messages)
    assert sum(1 for _cause, message in messages if fixed_parts(message)) >= 20


def test_every_quoted_message_is_in_the_code():
    code = source_text()
    stale = ["%s: %r" % (cause[:50], part) for cause, message in reported_messages() for part in fixed_parts(message) if part not in code]
    assert not stale, "docs/troubleshooting.md quotes text the collection does not report:\n" + "\n".join(stale)
