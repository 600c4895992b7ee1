"""Every relative link in README.md and docs/*.md leads somewhere.

A link is a markdown link or image, `[text](target)` or `![alt](target)`, or a reference
definition, `[label]: target`. Links inside code (fenced blocks and `inline code`) are
text, not links. Targets on the web (http, https, mailto) are not followed. The rest must
name a file or folder of the repository, relative to the file that links to it, and an
`#anchor` must be one of the headings of the file it points to, as GitHub makes them.
"""
import re
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)


def doc_files():
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose_lines(text):
    """The lines outside fenced code blocks, with their numbers."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        yield number, line


def links(text):
    for number, line in prose_lines(text):
        line = INLINE_CODE.sub("", line)
        m = REF_DEF.match(line)
        if m:
            yield number, m.group(1)
            continue
        for m in INLINE_LINK.finditer(line):
            yield number, m.group(1)


def slug(heading):
    """GitHub's anchor for a heading: the text without markup, lower case, punctuation
    other than '-' and '_' dropped, each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)                          # inline HTML
    text = text.replace("`", "").lower()
    text = "".join(c for c in text
                   if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return text.replace(" ", "-")


def anchors(path):
    seen, found = {}, set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def broken_links(path):
    problems = []
    for number, target in links(path.read_text(encoding="utf-8")):
        if not target or EXTERNAL.match(target):
            continue
        where = f"{path.relative_to(ROOT)}:{number}: {target}"
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            problems.append(f"{where} (no such file)")
            continue
        try:
            dest.relative_to(ROOT)
        except ValueError:
            problems.append(f"{where} (outside the repository)")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{where} (no heading with that anchor)")
    return problems


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    assert broken_links(path) == []


def test_the_docs_are_linked_and_checked():
    """The check sees links at all: the README links each page of docs/."""
    readme = ROOT / "README.md"
    targets = {t.partition("#")[0] for _, t in links(readme.read_text(encoding="utf-8"))}
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in targets, f"README.md does not link docs/{page.name}"


def test_slugs_follow_github():
    assert slug("Set-up: two commands") == "set-up-two-commands"
    assert slug("Studio: `make serve`") == "studio-make-serve"
    assert slug("What Artifier guarantees") == "what-artifier-guarantees"
    assert slug("Guarantees, in brief") == "guarantees-in-brief"
    assert slug("A [link](x.md) and ~tilde~") == "a-link-and-tilde"


def test_a_broken_link_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Part two\n", encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n"
        "[fine](docs/a.md) [fine](docs/a.md#part-two) [fine](#title) [web](https://x.org/y)\n"
        "[missing](docs/b.md) [bad anchor](docs/a.md#part-three)\n"
        "`[in code](nowhere.md)`\n\n```\n[in a block](nowhere.md)\n```\n",
        encoding="utf-8")
    assert broken_links(page) == [
        "README.md:4: docs/b.md (no such file)",
        "README.md:4: docs/a.md#part-three (no heading with that anchor)",
    ]
