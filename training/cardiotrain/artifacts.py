"""Training artifacts on S3: with CARDIOSPIKE_ARTIFACTS=s3://bucket/prefix, a training run also writes

    <prefix>/<run>/checkpoints/   every inner model as it is trained (cnn-K.J.pt, lightgbm-K.J.txt), the final ones
    <prefix>/<run>/metrics/       folds.json after each outer fold, metrics.json at the end
    <prefix>/<run>/logs/          train.log, re-uploaded after each outer fold (the run's progress) and at the end
    <prefix>/<run>/report/        report.md, pr_curve.png
    <prefix>/<run>/bundle/        the bundle's files, as written locally

<run> is the local bundle directory's name. An upload that fails mid-run (the store away, a timeout) does not stop
training: it is logged, kept, and tried again at the next upload and at the end; only if the store is still away at
the end does the run fail, with the bundle already written locally. Credentials come from the standard AWS environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, or a profile), the endpoint from AWS_ENDPOINT_URL (s3proxy, MinIO; unset = AWS). s3proxy
2.6 rejects boto3's default CRC checksums: set AWS_REQUEST_CHECKSUM_CALCULATION=when_required and
AWS_RESPONSE_CHECKSUM_VALIDATION=when_required for it. The bucket is checked before training starts, so a wrong
address fails in seconds, not after the run.
"""
from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger("cardiotrain")
ENV = "CARDIOSPIKE_ARTIFACTS"


class Artifacts:
    def __init__(self, url: str, run: str):
        u = urlparse(url)
        if u.scheme != "s3" or not u.netloc:
            raise ValueError(f"{ENV} must be s3://bucket[/prefix], not {url!r}")
        import boto3
        from botocore.config import Config
        self.bucket = u.netloc
        self.prefix = "/".join(p for p in (u.path.strip("/"), run) if p)
        self.client = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
                                   config=Config(connect_timeout=5, read_timeout=20,
                                                 retries={"max_attempts": 2, "mode": "standard"}))
        self.log_path: Path | None = None   # the run's log file, set by train.run
        self.pending: dict[str, bytes | Path] = {}   # uploads that failed, by object name (the latest wins)
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as e:   # botocore's errors name the bucket and the status, never the credentials
            raise RuntimeError(f"{ENV}: bucket {self.bucket!r} is not reachable: {e}") from e

    @classmethod
    def from_env(cls, run: str) -> "Artifacts | None":
        url = os.environ.get(ENV)
        return cls(url, run) if url else None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/"

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def _upload(self, name: str, body: bytes | Path) -> None:
        if isinstance(body, Path):
            self.client.upload_file(str(body), self.bucket, self.key(name))
        else:
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=body)

    def _put(self, name: str, body: bytes | Path) -> None:
        self.pending[name] = body
        for n in list(self.pending):
            try:
                self._upload(n, self.pending[n])
                del self.pending[n]
            except Exception as e:   # botocore names the bucket and the failure, never the credentials
                log.warning("artifact %s not written yet (%s: %s); %d waiting, tried again with the next one",
                            n, type(e).__name__, e, len(self.pending))
                return

    def flush(self) -> None:
        """At the end of the run: whatever failed before is tried once more; still failing, the run fails."""
        for n in list(self.pending):
            try:
                self._upload(n, self.pending.pop(n))
            except Exception as e:
                raise RuntimeError(f"{ENV}: {n} and {len(self.pending)} more not written to {self.uri}: {e}") from e

    def put_bytes(self, name: str, data: bytes) -> None:
        self._put(name, data)

    def put_file(self, name: str, path: Path) -> None:
        """`path` is read when it is uploaded: a later retry sends its content then (the log grows meanwhile)."""
        self._put(name, Path(path))

    def put_json(self, name: str, obj) -> None:
        self.put_bytes(name, (json.dumps(obj, indent=2, default=_jsonable) + "\n").encode())

    def put_torch(self, name: str, net) -> None:
        import torch
        buf = io.BytesIO()
        torch.save(net.state_dict(), buf)
        self.put_bytes(name, buf.getvalue())

    def put_log(self) -> None:
        if self.log_path is not None:
            self.put_file("logs/train.log", self.log_path)

    def put_dir(self, name: str, directory: Path) -> None:
        for p in sorted(directory.iterdir()):
            if p.is_file():
                self.put_file(f"{name}/{p.name}", p)


def _jsonable(v):
    import numpy as np
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON: {type(v).__name__}")
