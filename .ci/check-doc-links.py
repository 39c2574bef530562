#!/usr/bin/env python3
"""Checks that the repository's documentation points only at things that exist.

1. Every relative Markdown link in README.md and docs/**/*.md — inline `[text](target)`, images and reference
   definitions `[label]: target` — names a file or folder of the repository, and its `#anchor`, if any, names a
   heading of the target Markdown file (GitHub's heading ids: lower case, punctuation dropped, spaces as hyphens,
   repeated headings suffixed -1, -2, ...). A bare `#anchor` names a heading of the same file.
2. Every pointer to a Markdown file written as a repository path in source comments and config files
   (`docs/....md#anchor`, `README.md#anchor`) under Sources/, Tests/, Benchmarks/, Fuzz/, scripts/, .ci/ and
   alerts/ names an existing file and heading. Pointers inside `inline code` are examples and are skipped, and so
   are pointers that a program completes (followed by `\(`, `{` or `$`).

Links inside fenced code blocks and inline code are ignored, and so are URLs with a scheme (https:, mailto:).

Usage: check-doc-links.py [--root DIR]   exit 1 and one line per broken link when any is broken.
       check-doc-links.py --self-test    checks that broken links are reported.
"""
import argparse
import os
import re
import sys
import tempfile
import unicodedata

INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")
SOURCE_POINTER = re.compile(r"(?<![\w./-])((?:docs/[\w./-]+|README)\.md)(#[\w-]+)?(?![\w\\{$-])")
SOURCE_FOLDERS = ["Sources", "Tests", "Benchmarks", "Fuzz", "scripts", ".ci", "alerts"]
SOURCE_SUFFIXES = (".swift", ".h", ".c", ".sh", ".py", ".yml", ".yaml", ".txt", ".lua")


def slug(heading):
    """GitHub's id for a heading text."""
    text = INLINE_CODE.sub(lambda m: m.group(0).strip("`"), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags
    text = text.strip().lower()
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in " -_" or category[0] in "LN" or category == "Mn":
            kept.append("-" if char == " " else char)
    return "".join(kept)


def markdown_lines(text):
    """The lines outside fenced code blocks, with their 1-based numbers."""
    inside = None
    for number, line in enumerate(text.split("\n"), 1):
        fence = FENCE.match(line)
        if fence:
            if inside is None:
                inside = fence.group(1)
            elif fence.group(1) == inside:
                inside = None
            continue
        if inside is None:
            yield number, line


def anchors(path, cache={}):
    """The heading ids of a Markdown file."""
    if path not in cache:
        ids, seen = set(), {}
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        for _, line in markdown_lines(text):
            ids.update(HTML_ANCHOR.findall(line))
            match = HEADING.match(line)
            if not match:
                continue
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            ids.add(base if count == 0 else f"{base}-{count}")
        cache[path] = ids
    return cache[path]


def check_target(root, source, target, where):
    """A problem with `target` (relative to `source`'s folder, or to `root` when `source` is None), or None."""
    path, _, anchor = target.partition("#")
    if path:
        base = os.path.dirname(source) if source else root
        resolved = os.path.normpath(os.path.join(base, path))
        if not (resolved + os.sep).startswith(os.path.normpath(root) + os.sep) and resolved != os.path.normpath(root):
            return f"{where}: {target} points outside the repository"
        if not os.path.exists(resolved):
            return f"{where}: {target}: no such file or folder"
    else:
        resolved = source
    if anchor:
        if not resolved.endswith(".md") or os.path.isdir(resolved):
            return f"{where}: {target}: an anchor into a file that is not Markdown"
        if anchor not in anchors(resolved):
            return f"{where}: {target}: no heading with the id #{anchor} in {os.path.relpath(resolved, root)}"
    return None


def is_external(target):
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) is not None or target.startswith("//")


def markdown_files(root):
    files = [os.path.join(root, "README.md")]
    for folder, _, names in os.walk(os.path.join(root, "docs")):
        files += [os.path.join(folder, name) for name in sorted(names) if name.endswith(".md")]
    return [path for path in files if os.path.exists(path)]


def source_files(root):
    for top in SOURCE_FOLDERS:
        for folder, directories, names in os.walk(os.path.join(root, top)):
            directories[:] = [d for d in directories if not d.startswith(".build")]
            for name in sorted(names):
                if name.endswith(SOURCE_SUFFIXES):
                    yield os.path.join(folder, name)


def check(root):
    problems = []
    checked = 0
    for path in markdown_files(root):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        relative = os.path.relpath(path, root)
        for number, line in markdown_lines(text):
            line = INLINE_CODE.sub("", line)
            targets = INLINE_LINK.findall(line)
            definition = REFERENCE_DEFINITION.match(line)
            if definition:
                targets.append(definition.group(1))
            for target in targets:
                if not target or is_external(target):
                    continue
                checked += 1
                problem = check_target(root, path, target, f"{relative}:{number}")
                if problem:
                    problems.append(problem)
    for path in source_files(root):
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().split("\n")
        except UnicodeDecodeError:
            continue
        relative = os.path.relpath(path, root)
        if relative == os.path.join(".ci", "check-doc-links.py"):
            continue
        for number, line in enumerate(lines, 1):
            for file, anchor in SOURCE_POINTER.findall(INLINE_CODE.sub("", line)):
                checked += 1
                problem = check_target(root, None, file + anchor, f"{relative}:{number}")
                if problem:
                    problems.append(problem)
    return checked, problems


def self_test():
    """A small repository with one good and several broken links: each broken one must be reported."""
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "docs", "reference"))
        os.makedirs(os.path.join(root, "Sources"))
        files = {
            "README.md": "# Tool\n\n## Quick start\n\n[ok](docs/reference/api.md#get-v1series) [ok](#quick-start)\n"
                         "[missing file](docs/nope.md) [missing anchor](docs/reference/api.md#nope)\n"
                         "`[in code](docs/ignored.md)` [web](https://example.com/x.md)\n"
                         "```\n[in a fence](docs/ignored.md)\n```\n[ref]: docs/gone.md\n",
            "docs/reference/api.md": "# API\n\n## `GET /v1/series`\n\n## Errors\n\n## Errors\n\n"
                                     "[up](../../README.md#quick-start) [dup](#errors-1) [bad](../../README.md#slow-start)\n",
            "Sources/A.swift": "/// See docs/reference/api.md#errors and README.md#quick-start.\n"
                               "/// Broken: docs/reference/api.md#nope and docs/missing.md.\n"
                               "/// Examples: `docs/x.md#anchor`; let url = \"README.md#runbook-\\\\(name)\"\n",
        }
        for name, text in files.items():
            with open(os.path.join(root, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        _, problems = check(root)
        expected = [
            "README.md:6: docs/nope.md", "README.md:6: docs/reference/api.md#nope", "README.md:11: docs/gone.md",
            "docs/reference/api.md:9: ../../README.md#slow-start", "Sources/A.swift:2: docs/reference/api.md#nope",
            "Sources/A.swift:2: docs/missing.md",
        ]
        missing = [e for e in expected if not any(p.startswith(e) for p in problems)]
        unexpected = [p for p in problems if not any(p.startswith(e) for e in expected)]
        if missing or unexpected:
            print("self-test FAILED", file=sys.stderr)
            for item in missing:
                print(f"  not reported: {item}", file=sys.stderr)
            for item in unexpected:
                print(f"  reported wrongly: {item}", file=sys.stderr)
            return 1
        print(f"self-test passed: {len(problems)} broken links reported, good links accepted")
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    parser.add_argument("--self-test", action="store_true")
    arguments = parser.parse_args()
    if arguments.self_test:
        return self_test()
    root = os.path.abspath(arguments.root)
    checked, problems = check(root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check-doc-links: {len(problems)} of {checked} links are broken", file=sys.stderr)
        return 1
    print(f"check-doc-links: {checked} links resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
