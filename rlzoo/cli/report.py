"""``rlzoo report``: IQM, mean and median with bootstrap CIs, profiles and curves of a sweep's results."""

from __future__ import annotations

import argparse
from typing import Any

from rlzoo.cli.common import int_at_least, non_empty, one_line_errors
from rlzoo.experiments.report import report as make_report
from rlzoo.experiments.stats import MAX_REPS


def add_parser(commands: Any) -> None:
    """Register ``report`` on the subcommand parsers."""
    report = commands.add_parser(
        "report",
        help="statistics of a sweep's results (rliable): a Markdown report with PNGs and CSVs, and an HTML one with --html",
        # argparse %-formats help strings but not descriptions: a literal 95% here.
        description="Per (agent, env): IQM, mean and median (over seeds) of the final scores with 95% stratified bootstrap "
        "CIs across seeds; across envs: the same over every run's normalised score, performance profiles, probability of "
        "improvement and sample-efficiency curves.",
    )
    one_line_errors(report)
    report.add_argument("results", type=non_empty, help="a results directory written by rlzoo sweep")
    report.add_argument("--out", type=non_empty, help="where to write the report (default RESULTS/report)")
    report.add_argument(
        "--reps",
        type=int_at_least(1, MAX_REPS),
        default=2000,
        help=f"bootstrap resamples per estimate, 1 to {MAX_REPS} (default 2000; cut on very big sweeps to bound time and memory)",
    )
    report.add_argument("--agents", nargs="+", metavar="AGENT", help="report only these agents (or grid labels)")
    report.add_argument("--envs", nargs="+", metavar="ENV", help="report only these envs")
    report.add_argument(
        "--html",
        action="store_true",
        help="also write report.html: one self-contained file (no network), sortable tables, interactive figures",
    )
    report.add_argument(
        "--notes",
        metavar="FILE",
        help="YAML {agent: {env: text}}: footnotes for the zoo matrix's cells under 90%% of the threshold (best attempt, why)",
    )
    report.add_argument(
        "--readme",
        metavar="FILE",
        help="write the zoo matrix (envs x agents, IQM [95%% CI]) into this Markdown file, between its two rlzoo marker lines",
    )
    report.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = make_report(
        args.results, args.out, reps=args.reps, agents=args.agents, envs=args.envs, html=args.html, notes=args.notes, readme=args.readme
    )
    print(result.table)
    if result.left_out:
        print(f"note: {len(result.left_out)} finished run(s) left out (no usable score), listed in {result.markdown}: {result.left_out[0]}")
    print(f"wrote {', '.join(str(path) for path in result.files)}")
    return 0
