"""A JobManager failover on the local cluster, timed (docs/operations.md): SIGKILLs the leading JobManager (or the
process named) and polls every JobManager's REST API every 100 ms until the scoring job and all its tasks run again.

    python3 bench/failover.py [--cluster-dir DIR] [PROCESS]

Needs `bin/cardiospike cluster start` and a running job (`bin/cardiospike job submit`). Prints the time from the kill
to the job running, the leader before and after, and the HTTP answers seen meanwhile (the standbys' REST APIs answer
500 while the dead leader's ZooKeeper session lasts, then 503 during the election).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

JOB_NAME = "cardiospike-scoring"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster-dir", type=Path, default=Path(os.environ.get(
        "CARDIOSPIKE_CLUSTER_DIR", Path.home() / ".cache" / "cardiospike" / "cluster")))
    parser.add_argument("process", nargs="?", help="the process to kill (default: the leading JobManager)")
    args = parser.parse_args()
    cluster = json.loads((args.cluster_dir / "cluster.json").read_text())
    ports = [cluster["restPort"] + j for j in range(cluster["jobManagers"])]
    answers: collections.Counter = collections.Counter()

    def status() -> dict:
        return json.loads((args.cluster_dir / "status.json").read_text())

    def get(port: int, path: str) -> dict:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as r:
                answers[f"{port} {r.status}"] += 1
                return json.load(r)
        except urllib.error.HTTPError as e:
            answers[f"{port} {e.code}"] += 1
            raise
        except OSError as e:
            answers[f"{port} {type(e).__name__}"] += 1
            raise

    def running_job() -> str | None:
        for port in ports:
            try:
                for job in get(port, "/jobs/overview")["jobs"]:
                    if job["name"] == JOB_NAME and job["state"] == "RUNNING":
                        if all(v["status"] == "RUNNING" for v in get(port, "/jobs/" + job["jid"])["vertices"]):
                            return job["jid"]
            except (OSError, KeyError, ValueError):
                pass  # this JobManager cannot tell now: the next one may
        return None

    before = status()
    victim = args.process or before["leader"]
    pid = next(p["pid"] for p in before["processes"] if p["name"] == victim)
    job = running_job()
    if job is None:
        raise SystemExit("no running scoring job: bin/cardiospike job submit first")
    answers.clear()
    os.kill(pid, signal.SIGKILL)
    killed = time.time()
    print(time.strftime("%H:%M:%S", time.gmtime(killed)) + f" UTC: SIGKILL {victim} (pid {pid}); leader {before['leader']}",
          flush=True)
    time.sleep(0.5)
    while (again := running_job()) is None:
        time.sleep(0.1)
    print(f"job {again} running with all its tasks {time.time() - killed:.1f} s after the kill; leader now "
          f"{status()['leader']}; answers {dict(sorted(answers.items()))}")


if __name__ == "__main__":
    main()
