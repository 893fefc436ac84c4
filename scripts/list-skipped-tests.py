#!/usr/bin/env python3
"""Lists the tests a ctest run skipped, each with the reason it printed.

Usage: scripts/list-skipped-tests.py BUILD_DIR   (reads BUILD_DIR/Testing/Temporary/LastTest.log)

A skip must say why (GTEST_SKIP() << reason, or a CMake-level "SKIPPED on <platform>: reason"
test): a skip without a reason makes this script exit 1, so none goes unexplained.
"""
import pathlib
import re
import sys

TEST_START = re.compile(r"^\d+/\d+ Testing: (.+)$")
GTEST_REASON = re.compile(r"^.*:\d+: Skipped$")
CMAKE_SKIP = re.compile(r"^SKIPPED on [^:]+: (.+)$")
SKIP_VERDICT = "Skip regular expression found in output."


def skipped_tests(log_text):
    """(name, reason) of each skipped test, in the log's order."""
    found = []
    name, lines = None, []
    for line in log_text.splitlines() + ["1/1 Testing: <end>"]:
        start = TEST_START.match(line)
        if start:
            if name is not None and any(SKIP_VERDICT in text for text in lines):
                found.append((name, reason_in(lines)))
            name, lines = start.group(1), []
        else:
            lines.append(line)
    return found


def reason_in(lines):
    for i, line in enumerate(lines):
        cmake = CMAKE_SKIP.match(line)
        if cmake:
            return cmake.group(1).strip()
        if GTEST_REASON.match(line):
            reason = []
            for text in lines[i + 1:]:
                if text.startswith("[  SKIPPED ]"):
                    break
                reason.append(text.strip())
            return " ".join(part for part in reason if part)
    return ""


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    log = pathlib.Path(sys.argv[1]) / "Testing" / "Temporary" / "LastTest.log"
    try:
        text = log.read_text(errors="replace")
    except OSError as error:
        print(f"cannot read {log}: {error.strerror}", file=sys.stderr)
        return 2
    found = skipped_tests(text)
    print(f"{len(found)} tests skipped")
    unexplained = 0
    for name, reason in found:
        if not reason:
            unexplained += 1
        print(f"  {name}: {reason or '(NO REASON GIVEN)'}")
    if unexplained:
        print(f"{unexplained} skipped tests gave no reason", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
