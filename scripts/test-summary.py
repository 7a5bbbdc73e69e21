#!/usr/bin/env python3
"""Prints the tests ctest runs skipped, with the reason each gave, the faults the tests
injected and survived and the inputs the fuzzers tried (their "aeflow-count NAME N" lines,
summed), and last the counts of each run, from ctest's JUnit files.

Usage: scripts/test-summary.py JUNIT_XML...    (scripts/test.sh runs it after ctest: the
       release suite's file, then the sanitize preset's)
"""
import os
import sys
import xml.etree.ElementTree as ElementTree


def reason(output):
    """The text after googletest's 'Skipped' line (or AEFLOW's own), else the last line."""
    lines = [line.strip() for line in (output or "").splitlines()]
    for i, line in enumerate(lines):
        if line.endswith(": Skipped") and i + 1 < len(lines) and lines[i + 1]:
            return lines[i + 1]
    tail = [line for line in lines if line]
    return tail[-1] if tail else "(no reason printed)"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    skipped, totals = [], []
    counts = {}  # "aeflow-count NAME N" lines of the tests (tests/test_support.hpp)
    for path in sys.argv[1:]:
        try:
            root = ElementTree.parse(path).getroot()
        except (OSError, ElementTree.ParseError) as error:
            sys.exit(f"test-summary.py: cannot read {path}: {error}")
        failed, passed, skips = 0, 0, 0
        for case in root.iter("testcase"):
            for line in (case.findtext("system-out") or "").splitlines():
                words = line.split()
                if len(words) == 3 and words[0] == "aeflow-count" and words[2].lstrip("-").isdigit():
                    counts[words[1]] = counts.get(words[1], 0) + int(words[2])
            if case.get("status") == "skipped" or case.find("skipped") is not None:
                skipped.append((case.get("name"), reason(case.findtext("system-out"))))
                skips += 1
            elif case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            else:
                passed += 1
        totals.append((path, passed, failed, skips))
    print(f"{len(skipped)} test(s) skipped" + (":" if skipped else ""))
    for name, why in skipped:
        print(f"  {name}: {why}")
    if counts:
        print("fault counts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for path, passed, failed, skips in totals:
        # (the build tree's name: release, sanitize)
        where = f" {os.path.basename(os.path.dirname(os.path.abspath(path)))}" if len(totals) > 1 else ""
        print(f"ctest{where}: {passed} passed, {failed} failed, {skips} skipped")


if __name__ == "__main__":
    main()
