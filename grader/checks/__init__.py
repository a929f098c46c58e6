"""Trusted checks: a pytest suite run against a sandboxed submission."""
from grader.checks.plugin import CheckContext, CheckInfo, Verdict
from grader.checks.runner import catalogue, run_checks

__all__ = ["CheckContext", "CheckInfo", "Verdict", "catalogue", "run_checks"]
