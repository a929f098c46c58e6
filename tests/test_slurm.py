"""The cluster path for real: a single-node Slurm runs examples/cluster/slurm.sbatch.

The fixture starts its own munged, slurmctld and slurmd (as root, Debian's
``slurm-wlm`` and ``munge``; ``.ci/run`` installs them), every file, socket and
port of theirs in a temporary folder, nothing in /etc. The test submits the
example exactly as the README says (a job array, then a merge job depending on
it), waits for both, and checks the merged class equals one run on this
machine with the same seed. Every daemon it started is stopped afterwards,
also when something failed.

Skipped, with the reason, where Slurm cannot run (not root, no packages), but
never under CI as root, where a Slurm that does not start is a failure.
Marked ``slurm``: ``-m "not slurm"`` leaves it out of a quick run.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SBATCH = ROOT / "examples" / "cluster" / "slurm.sbatch"
EXAMPLES = ROOT / "examples" / "submissions"
SHIPPED_RUBRIC = ROOT / "rubrics" / "acceleration.yaml"
MEASURED = ("speed.", "memory.", "roofline.measured")
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "sinfo", "scancel")
# Bounds on waiting, never asserted: a slow machine waits longer, a fast one not at all.
START_LIMIT = 60.0
JOBS_LIMIT = 600.0

pytestmark = pytest.mark.slurm


def _unavailable(why: str) -> None:
    """Skip with the reason, except where Slurm must run (CI as root): there it is a failure."""
    if os.environ.get("CI") and os.geteuid() == 0:
        pytest.fail(f"Slurm test could not run under CI as root: {why}")
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Cluster:
    """A running single-node Slurm: the environment its clients need, and what it started."""

    base: Path
    env: dict[str, str]
    daemons: dict[str, subprocess.Popen] = field(default_factory=dict)

    def run(self, *cmd: str, cwd: Path | None = None, check: bool = True) -> str:
        done = subprocess.run(cmd, env=self.env, cwd=cwd, capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def logs(self) -> str:
        return "\n".join(f"--- {name}.log\n{_tail(self.base / f'{name}.log')}" for name in DAEMONS)

    def job_state(self, job: str) -> str:
        """The state of a job (every task of an array), or "" when the controller forgot it."""
        out = self.run("scontrol", "-o", "show", "job", job, check=False)
        states = {part.split("=", 1)[1] for line in out.splitlines() for part in line.split()
                  if part.startswith("JobState=")}
        return ",".join(sorted(states))

    def wait_jobs(self, jobs: list[str], limit: float) -> None:
        """Until no job of these is pending or running (bounded; a hang fails with the logs)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if not self.run("squeue", "-h", "-j", ",".join(jobs), check=False).strip():
                return
            time.sleep(0.5)
        raise AssertionError(f"jobs {jobs} still queued after {limit:.0f}s:\n"
                             + self.run("squeue", check=False) + self.logs())

    def stop(self) -> None:
        """Cancel what is queued, then end every daemon this cluster started (TERM, then KILL)."""
        if "slurmctld" in self.daemons and self.daemons["slurmctld"].poll() is None:
            subprocess.run(["scancel", "--full", "--user", "root"], env=self.env, capture_output=True,
                           timeout=30, check=False)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and subprocess.run(
                    ["squeue", "-h"], env=self.env, capture_output=True, text=True, timeout=30).stdout.strip():
                time.sleep(0.5)
        for name in reversed(DAEMONS):  # slurmd, slurmctld, then munged that both talk to
            proc = self.daemons.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _slurm_conf(base: Path, node: str, munge_socket: Path) -> str:
    cpus = max(2, os.cpu_count() or 1)  # the example asks for 2 CPUs per task
    return "\n".join([
        "ClusterName=accelgrade-test",
        f"SlurmctldHost={node}(127.0.0.1)",
        "SlurmUser=root",
        "SlurmdUser=root",
        f"SlurmctldPort={_free_port()}",
        f"SlurmdPort={_free_port()}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={munge_socket}",
        f"StateSaveLocation={base / 'state'}",
        f"SlurmdSpoolDir={base / 'spool'}",
        f"SlurmctldPidFile={base / 'slurmctld.pid'}",
        f"SlurmdPidFile={base / 'slurmd.pid'}",
        f"SlurmctldLogFile={base / 'slurmctld.log'}",
        f"SlurmdLogFile={base / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SchedulerType=sched/builtin",
        # Start the next array task as soon as the node is free: the default lets the scheduler
        # wait up to 3 s between batch jobs, and the four exclusive tasks run one after another.
        "SchedulerParameters=batch_sched_delay=0",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "SlurmdParameters=config_overrides",
        "ReturnToService=2",
        "MpiDefault=none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        "SwitchType=switch/none",
        "MinJobAge=600",  # finished jobs stay visible to scontrol until the test has read them
        f"NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN",
        f"PartitionName=test Nodes={node} Default=YES MaxTime=INFINITE State=UP",
        "",
    ])


def _start(cluster: Cluster, name: str, cmd: list[str]) -> None:
    log = open(cluster.base / f"{name}.out", "wb")
    cluster.daemons[name] = subprocess.Popen(cmd, env=cluster.env, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()


def _wait_for(what: str, ready, cluster: Cluster) -> None:
    deadline = time.monotonic() + START_LIMIT
    while time.monotonic() < deadline:
        if ready():
            return
        dead = [n for n, p in cluster.daemons.items() if p.poll() is not None]
        if dead:
            break
        time.sleep(0.3)
    _unavailable(f"{what} did not come up: " + cluster.logs()[-2000:])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("a single-node Slurm is started as root (run the suite as root, as CI does)")
    missing = [t for t in DAEMONS + CLIENTS if shutil.which(t) is None and not Path(f"/usr/sbin/{t}").exists()]
    if missing:
        _unavailable(f"Slurm is not installed (missing {', '.join(missing)}; "
                     "apt-get install slurm-wlm munge, as .ci/run does)")
    base = tmp_path_factory.mktemp("slurm")
    base.chmod(0o755)
    for sub in ("state", "spool", "munge"):
        (base / sub).mkdir()
    (base / "munge").chmod(0o700)
    key = base / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(stat.S_IRUSR | stat.S_IWUSR)
    munge_socket = base / "munge" / "munge.socket"
    node = socket.gethostname().split(".")[0]
    conf = base / "slurm.conf"
    conf.write_text(_slurm_conf(base, node, munge_socket))
    # The jobs find this checkout's `grade` first on PATH (sbatch passes the environment on).
    bindir = base / "bin"
    bindir.mkdir()
    wrapper = bindir / "grade"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" '
                       '-m grader "$@"\n')
    wrapper.chmod(0o755)
    env = dict(os.environ, SLURM_CONF=str(conf), PATH=f"{bindir}:/usr/sbin:{os.environ.get('PATH', '')}")
    env.pop("ACCELGRADE_SEED", None)
    cluster = Cluster(base, env)
    sbin = lambda t: shutil.which(t, path=env["PATH"]) or t  # noqa: E731
    try:
        _start(cluster, "munged", [sbin("munged"), "--foreground", "--force", f"--socket={munge_socket}",
                                   f"--key-file={key}", f"--pid-file={base / 'munge' / 'munged.pid'}",
                                   f"--log-file={base / 'munged.log'}", f"--seed-file={base / 'munge' / 'seed'}"])
        _wait_for("munged", munge_socket.exists, cluster)
        _start(cluster, "slurmctld", [sbin("slurmctld"), "-D", "-i", "-f", str(conf)])
        _start(cluster, "slurmd", [sbin("slurmd"), "-D", "-N", node, "-f", str(conf)])

        def idle() -> bool:
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True,
                                 timeout=30).stdout.strip()
            return out == "idle"

        _wait_for("slurmctld and slurmd (node idle)", idle, cluster)
        yield cluster
    finally:
        cluster.stop()


def _unmeasured_rubric(path: Path) -> Path:
    """The shipped rubric without its measured items: deterministic, and no calibration needed."""
    shipped = yaml.safe_load(SHIPPED_RUBRIC.read_text(encoding="utf-8"))
    items = [i for i in shipped["items"] if not i["check"].startswith(MEASURED)]
    categories: dict[str, float] = {}
    for item in items:
        categories[item["category"]] = categories.get(item["category"], 0) + item["points"]
    path.write_text(yaml.safe_dump({"assignment": shipped["assignment"], "total": sum(categories.values()),
                                    "categories": categories, "items": items}, sort_keys=False))
    return path


def _scores(out: Path) -> dict[str, float]:
    return {r["student"]: r["score"] for r in json.loads((out / "summary.json").read_text())["students"]}


def test_slurm_array_then_merge_equals_one_run(cluster: Cluster, tmp_path):
    work = tmp_path / "course"
    shutil.copytree(EXAMPLES, work / "submissions")  # the demo class: six students, one shard stays empty
    rubric = _unmeasured_rubric(work / "rubric.yaml")
    # The README's two commands, paths filled in (the example's default --array=1-4).
    jobid = cluster.run("sbatch", "--parsable", str(SBATCH), "submissions/", "--rubric", str(rubric),
                        cwd=work).strip().split(";")[0]
    merge = cluster.run("sbatch", "--parsable", f"--dependency=afterok:{jobid}", "--kill-on-invalid-dep=yes",
                        "--wrap", "grade merge grades-shards/shard-* --out grades", cwd=work).strip().split(";")[0]
    # The same class in one run on this machine, graded while the cluster works (nothing here is timed).
    single = tmp_path / "single"
    alone = subprocess.Popen([sys.executable, "-m", "grader", str(work / "submissions"), "--seed", str(int(jobid)),
                              "--rubric", str(rubric), "--out", str(single), "--quiet"],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        cluster.wait_jobs([jobid, merge], JOBS_LIMIT)
    finally:
        alone_err = alone.communicate(timeout=600)[1]
    assert alone.returncode == 0, alone_err
    logs = "\n".join(f"--- {p.name}\n{_tail(p)}" for p in sorted(work.glob("*.log")) + sorted(work.glob("slurm-*.out")))
    assert cluster.job_state(jobid) == "COMPLETED", logs + cluster.logs()
    assert cluster.job_state(merge) == "COMPLETED", logs + cluster.logs()

    shards = sorted((work / "grades-shards").glob("shard-*"))
    assert [s.name for s in shards] == ["shard-1", "shard-2", "shard-3", "shard-4"]
    labels = [json.loads((s / "summary.json").read_text())["shard"]["label"] for s in shards]
    assert labels == ["1/4", "2/4", "3/4", "4/4"]
    seeds = {json.loads((s / "summary.json").read_text())["seed"] for s in shards}
    assert seeds == {int(jobid)}  # every task used the array's job id as the seed

    merged = work / "grades"
    assert _scores(merged) == _scores(single) and len(_scores(single)) == 6
    assert (merged / "grades.csv").read_text() == (single / "grades.csv").read_text()
    summary = json.loads((merged / "summary.json").read_text())
    assert [m["shard"]["label"] for m in summary["merged_from"]] == labels
    for student in _scores(single):
        assert (merged / student / "report.html").is_file()
