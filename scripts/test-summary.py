#!/usr/bin/env python3
"""Prints the tests a ctest run skipped, with the reason each gave, and last the counts, from
ctest's JUnit file.

Usage: scripts/test-summary.py JUNIT_XML    (scripts/test.sh runs it after ctest)
"""
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
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        root = ElementTree.parse(sys.argv[1]).getroot()
    except (OSError, ElementTree.ParseError) as error:
        sys.exit(f"test-summary.py: cannot read {sys.argv[1]}: {error}")
    skipped, failed, passed = [], 0, 0
    for case in root.iter("testcase"):
        if case.get("status") == "skipped" or case.find("skipped") is not None:
            skipped.append((case.get("name"), reason(case.findtext("system-out"))))
        elif case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
    print(f"{len(skipped)} test(s) skipped" + (":" if skipped else ""))
    for name, why in skipped:
        print(f"  {name}: {why}")
    print(f"ctest: {passed} passed, {failed} failed, {len(skipped)} skipped")


if __name__ == "__main__":
    main()
