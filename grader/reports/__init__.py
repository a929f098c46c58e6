"""Every output format of a grading run: Gradescope JSON, Canvas CSV, summary JSON,
self-contained HTML pages and the terminal self-check table."""
from grader.atomic import write_bytes_atomic, write_text_atomic
from grader.reports.csv_export import write_grades_csv
from grader.reports.html import (
    render_index,
    render_report,
    render_selfcheck,
    write_index,
    write_report,
    write_selfcheck,
)
from grader.reports.progress import Progress
from grader.reports.results_json import results_dict, write_results_json
from grader.reports.summary_json import summary_dict, write_summary_json
from grader.reports.terminal import format_selfcheck
from grader.reports.folder import OutputFolder

__all__ = [
    "OutputFolder",
    "Progress",
    "format_selfcheck",
    "render_index",
    "render_report",
    "render_selfcheck",
    "results_dict",
    "summary_dict",
    "write_bytes_atomic",
    "write_grades_csv",
    "write_index",
    "write_report",
    "write_results_json",
    "write_selfcheck",
    "write_summary_json",
    "write_text_atomic",
]
