"""Relative links in the documentation lead somewhere: the file exists and, for #anchors, so does the heading."""
import os
import re

import pytest

from .conftest import ROOT

DOCS = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs")) if f.endswith(".md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$", re.MULTILINE)


def github_anchor(heading):
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def without_code_blocks(text):
    return re.sub(r"```.*?```", "", text, flags=re.DOTALL)


@pytest.mark.parametrize("doc", DOCS)
def test_relative_links_resolve(doc):
    text = without_code_blocks(read(doc))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+://|^mailto:", target):
            continue
        path, _hash, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
        if not os.path.exists(os.path.join(ROOT, resolved)):
            broken.append("%s (no file %s)" % (target, resolved))
        elif anchor and resolved.endswith(".md"):
            anchors = set(github_anchor(h) for h in HEADING.findall(without_code_blocks(read(resolved))))
            if anchor not in anchors:
                broken.append("%s (no heading #%s in %s)" % (target, anchor, resolved))
    assert not broken, "%s: broken links: %s" % (doc, "; ".join(broken))
