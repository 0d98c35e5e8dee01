"""Stages of a mail-triage pipeline whose first stage talks to a real (local) mail server.

``fetch`` asks the server named in ``mail-server.txt`` (in the org folder) for the record's
message over HTTP; a dropped or refused connection is raised as :class:`ConnectionLost`, the
transient error the test org declares. ``classify`` is pure, ``label`` effectful (it appends to
``labels.log``, the side effect the tests count).
"""

from __future__ import annotations

import http.client
import json
import os
from typing import Any

from orgplane.runs import StageContext, stage


class ConnectionLost(ConnectionError):
    """The mail server dropped the connection (or refused it)."""


@stage("fetch")
def fetch(record: dict[str, Any], ctx: StageContext) -> dict[str, Any]:
    host, port = (ctx.org_dir / "mail-server.txt").read_text().split()
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", f"/messages/{record['id']}")
        response = conn.getresponse()
        body = json.loads(response.read())
    except (OSError, http.client.HTTPException) as exc:
        raise ConnectionLost(f"mail server dropped the connection: {exc!r}") from exc
    finally:
        conn.close()
    return {"id": record["id"], "subject": body["subject"]}


@stage("classify")
def classify(message: dict[str, Any], ctx: StageContext) -> dict[str, Any]:
    bucket = "invoice" if "invoice" in message["subject"] else "general"
    return {**message, "bucket": bucket}


@stage("label")
def label(message: dict[str, Any], ctx: StageContext) -> dict[str, Any]:
    line = f"{message['id']} {message['bucket']}\n".encode()
    fd = os.open(ctx.org_dir / "labels.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return {"labelled": message["bucket"]}
