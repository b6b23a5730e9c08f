"""Print the fuzz counts at the end of the session: entry points, cases, named errors, valid results, failures."""

from fuzz.harness import FAILURES, STATS


def pytest_terminal_summary(terminalreporter):
    if not STATS.outcomes:
        return
    total = sum(STATS.outcomes.values())
    failures = sum(STATS.outcomes[f] for f in FAILURES)
    methods = len(STATS.entry_points) - len({e for e in STATS.entry_points if "." not in e.split(":")[1]})
    terminalreporter.write_sep("-", "fuzz counts")
    terminalreporter.write_line(
        f"{len(STATS.entry_points) - methods} entry points and {methods} methods, {total} cases: "
        f"{STATS.outcomes['named']} named errors, {STATS.outcomes['valid']} valid results, {failures} failures "
        + "(" + ", ".join(f"{STATS.outcomes[f]} {f}" for f in FAILURES) + ")"
    )
