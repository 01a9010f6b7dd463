#!/usr/bin/env python3
"""Writes bench/run's results into docs/BENCHMARKS.md (bench/run calls it).

  write_doc.py DOC DIR DAY COMMIT MACHINE TOTAL_S BUILD_S NAME...

Each DIR/NAME.section (the header bench/run wrote and the script's Markdown)
replaces what lies between <!-- bench/run_NAME.sh: begin --> and
<!-- bench/run_NAME.sh: end --> in DOC; a missing one (the benchmark failed)
leaves its section as it was. Then the summary between <!-- bench/run: begin -->
and <!-- bench/run: end --> is rebuilt from every section's target table,
as the document now stands. DOC is replaced whole (write, then rename).
"""
import os, re, sys

doc, out, day, commit, machine, total_s, build_s, *names = sys.argv[1:]
text = open(doc).read()

def replace(text, marker, body):
    """Put body between <!-- marker: begin --> and <!-- marker: end -->."""
    pattern = re.compile(rf"(<!-- {re.escape(marker)}: begin -->\n).*?(<!-- {re.escape(marker)}: end -->)", re.S)
    if not pattern.search(text):
        sys.exit(f"bench/run: {doc} has no <!-- {marker}: begin/end --> section")
    return pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text, count=1)

for name in names:
    path = f"{out}/{name}.section"
    if os.path.exists(path):
        text = replace(text, f"bench/run_{name}.sh", open(path).read())

# The summary: every section's target rows, as they now stand.
rows = []
for m in re.finditer(r"<!-- bench/run_(\w+)\.sh: begin -->\n(.*?)<!-- bench/run_\1\.sh: end -->", text, re.S):
    name, body = m.group(1), m.group(2)
    measured = re.search(r"^Measured (\S+) at ([^ ]+)", body, re.M)
    when = f"{measured.group(1)}, {measured.group(2)}" if measured else "not yet measured"
    in_targets = False
    for line in body.splitlines():
        # The header target_row's tables have (bench/lib.sh).
        if re.match(r"\| target( \([^)]*\))? \| measured \| status \|$", line):
            in_targets = True
            continue
        if in_targets and line.startswith("|---"):
            continue
        if in_targets and line.startswith("| "):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            rows.append(f"| {cells[0]} | {cells[1]} | {cells[2]} | `bench/run_{name}.sh` ({when}) |")
        else:
            in_targets = False
summary = [
    f"Last `bench/run` on {day} at {commit}: {', '.join(names)} in {total_s} s "
    f"(plus {build_s} s building `build-bench/`). Machine: {machine}.",
    "",
    "| target | measured | status | from |",
    "|---|---|---|---|",
    *rows,
]
text = replace(text, "bench/run", "\n".join(summary))
tmp = doc + ".tmp"
open(tmp, "w").write(text)
os.replace(tmp, doc)
