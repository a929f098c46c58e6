"""Runs untrusted code in worker processes and talks to it over a pipe."""
from grader.sandbox.launcher import SandboxConfig
from grader.sandbox.proxy import (MissingFunction, NotImplementedYet, Sandbox, StudentError,
                                  StudentRaised, WorkerFailed)

__all__ = ["SandboxConfig", "Sandbox", "StudentError", "MissingFunction", "NotImplementedYet",
           "StudentRaised", "WorkerFailed"]
