"""A loopback stand-in for GitHub's REST API, built on pytest-httpserver (fixtures: conftest.py).

It plays the endpoints this project writes to (check runs, issue comments, dependency snapshots,
releases), validates every JSON body it receives against the schemas in tests/schemas/github-api/,
keeps what it was sent for assertions, and injects faults on request: status codes, secondary rate
limits, a closed socket, a slow answer. Every `url` it returns uses its own base URL, as PyGithub
refuses to follow others.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas" / "github-api"
API_PREFIX = "/api/v3"
TOKEN = "ghs_fake-token-for-tests-0123456789"
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
BASE_SHA = "89abcdef0123456789abcdef0123456789abcdef"
REPOSITORY = "octo/ml-app"


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


SCHEMAS = {
    name: _validator(name)
    for name in ("check-run-create", "check-run-update", "dependency-snapshot", "issue-comment")
}


@dataclass
class Fault:
    """One injected misbehaviour for the next matching request."""

    kind: str
    """"status", "rate-limit", "forbidden", "unprocessable", "reset" or "slow"."""
    status: int = 500
    """HTTP status for kind "status"."""
    seconds: float = 0.0
    """Retry-After for "rate-limit"; sleep before answering for "slow"."""


@dataclass
class Received:
    """One request the fake server saw."""

    method: str
    path: str
    body: Any
    schema: str | None
    schema_errors: list[str]
    authorization: str | None


@dataclass
class FakeGitHub:
    """State and knobs of the fake API."""

    server: HTTPServer
    base_url: str
    received: list[Received] = field(default_factory=list)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    annotations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    releases: dict[int, dict[str, Any]] = field(default_factory=dict)
    assets: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: dict[tuple[str, str], list[Fault]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1000

    # ------------------------------------------------------------------ test-facing helpers

    def inject(self, method: str, route: str, *faults: Fault) -> None:
        """Queue faults for requests to `route` (e.g. "check-runs.create")."""
        self.faults.setdefault((method, route), []).extend(faults)

    def requests_to(self, route: str) -> list[Received]:
        return [r for r in self.received if _route_name(r.method, r.path) == route]

    @property
    def schema_errors(self) -> list[str]:
        return [f"{r.method} {r.path}: {e}" for r in self.received for e in r.schema_errors]

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_comment(self, number: int, body: str) -> int:
        cid = self.new_id()
        self.comments[cid] = self._comment(cid, number, body)
        return cid

    def _comment(self, cid: int, number: int, body: str) -> dict[str, Any]:
        return {
            "id": cid,
            "node_id": f"IC_{cid}",
            "url": self.url(f"/repos/{REPOSITORY}/issues/comments/{cid}"),
            "html_url": self.url(f"/{REPOSITORY}/pull/{number}#issuecomment-{cid}"),
            "issue_url": self.url(f"/repos/{REPOSITORY}/issues/{number}"),
            "body": body,
            "user": {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
            "_issue": number,
        }


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"/repos/[^/]+/[^/]+/check-runs"), "check-runs.create"),
    ("PATCH", re.compile(r"/repos/[^/]+/[^/]+/check-runs/(\d+)"), "check-runs.update"),
    ("GET", re.compile(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments"), "comments.list"),
    ("POST", re.compile(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments"), "comments.create"),
    ("PATCH", re.compile(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)"), "comments.update"),
    (
        "POST",
        re.compile(r"/repos/[^/]+/[^/]+/dependency-graph/snapshots"),
        "snapshots.create",
    ),
    ("GET", re.compile(r"/repos/[^/]+/[^/]+/releases/tags/(.+)"), "releases.by-tag"),
    ("POST", re.compile(r"/repos/[^/]+/[^/]+/releases"), "releases.create"),
    ("GET", re.compile(r"/repos/[^/]+/[^/]+/releases/(\d+)/assets"), "releases.assets"),
    ("POST", re.compile(r"/repos/[^/]+/[^/]+/releases/(\d+)/assets"), "releases.upload"),
    ("DELETE", re.compile(r"/repos/[^/]+/[^/]+/releases/assets/(\d+)"), "releases.delete-asset"),
]
_SCHEMA_OF = {
    "check-runs.create": "check-run-create",
    "check-runs.update": "check-run-update",
    "comments.create": "issue-comment",
    "comments.update": "issue-comment",
    "snapshots.create": "dependency-snapshot",
}


def _route(method: str, path: str) -> tuple[str, re.Match[str]] | None:
    rel = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
    rel = rel.split("?", 1)[0]
    for m, pattern, name in _ROUTES:
        match = pattern.fullmatch(rel)
        if m == method and match:
            return name, match
    return None


def _route_name(method: str, path: str) -> str | None:
    found = _route(method, path)
    return found[0] if found else None


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(value), status=status, content_type="application/json", headers=headers
    )


def _reset_connection(request: Request) -> Response:
    # Shut the connection down under the server's feet: the client gets no answer at all
    # (werkzeug's own file objects keep the descriptor, so close() alone would not do it).
    sock = request.environ.get("werkzeug.socket")
    assert isinstance(sock, socket.socket), "werkzeug no longer exposes the connection socket"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.shutdown(socket.SHUT_RDWR)
    return Response("", status=599)


def _fault_response(fault: Fault, request: Request) -> Response | None:
    if fault.kind == "status":
        return _json({"message": "Server Error"}, fault.status)
    if fault.kind == "rate-limit":
        return _json(
            {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                "before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits",
            },
            403,
            {"Retry-After": str(int(fault.seconds))},
        )
    if fault.kind == "forbidden":
        return _json(
            {
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run",
            },
            403,
        )
    if fault.kind == "unprocessable":
        return _json(
            {
                "message": "Validation Failed",
                "errors": [{"resource": "CheckRun", "code": "invalid", "field": "head_sha"}],
            },
            422,
        )
    if fault.kind == "reset":
        return _reset_connection(request)
    if fault.kind == "slow":
        time.sleep(fault.seconds)
        return None
    raise AssertionError(f"unknown fault {fault.kind}")


def handle(fake: FakeGitHub, request: Request) -> Response:
    found = _route(request.method, request.path)
    body: Any = None
    raw = request.get_data()
    if (
        raw
        and request.mimetype != "application/octet-stream"
        and found
        and not found[0].startswith("releases.upload")
    ):
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
    name = found[0] if found else None
    schema = _SCHEMA_OF.get(name or "")
    errors: list[str] = []
    if schema is not None:
        errors = [e.message for e in SCHEMAS[schema].iter_errors(body)]
    with fake.lock:
        fake.received.append(
            Received(
                request.method,
                request.path,
                body,
                schema,
                errors,
                request.headers.get("Authorization"),
            )
        )
        queue = fake.faults.get((request.method, name or ""))
        fault = queue.pop(0) if queue else None
    if fault is not None:
        answer = _fault_response(fault, request)
        if answer is not None:
            return answer
    if found is None:
        return _json({"message": "Not Found"}, 404)
    if errors:
        # What GitHub would do with a body it does not accept.
        return _json({"message": "Invalid request.", "errors": errors}, 422)
    route, match = found
    with fake.lock:
        return _dispatch(fake, route, match, body, request)


def _check_run_json(fake: FakeGitHub, run: dict[str, Any]) -> dict[str, Any]:
    cid = run["id"]
    return {
        "id": cid,
        "node_id": f"CR_{cid}",
        "head_sha": run["head_sha"],
        "external_id": run.get("external_id", ""),
        "url": fake.url(f"/repos/{REPOSITORY}/check-runs/{cid}"),
        "html_url": fake.url(f"/{REPOSITORY}/runs/{cid}"),
        "details_url": run.get("details_url"),
        "status": run.get("status", "queued"),
        "conclusion": run.get("conclusion"),
        "started_at": run.get("started_at"),
        "completed_at": run.get("completed_at"),
        "name": run["name"],
        "output": {
            "title": run.get("output", {}).get("title"),
            "summary": run.get("output", {}).get("summary"),
            "text": run.get("output", {}).get("text"),
            "annotations_count": len(fake.annotations.get(cid, [])),
            "annotations_url": fake.url(f"/repos/{REPOSITORY}/check-runs/{cid}/annotations"),
        },
        "check_suite": {"id": 5},
        "app": None,
        "pull_requests": [],
    }


def _merge_run(fake: FakeGitHub, run: dict[str, Any], body: dict[str, Any]) -> None:
    for key, value in body.items():
        if key == "output":
            out = dict(run.get("output", {}))
            for k, v in value.items():
                if k == "annotations":
                    fake.annotations.setdefault(run["id"], []).extend(v)
                else:
                    out[k] = v
            run["output"] = out
        else:
            run[key] = value


def _dispatch(
    fake: FakeGitHub, route: str, match: re.Match[str], body: Any, request: Request
) -> Response:
    if route == "check-runs.create":
        cid = fake.new_id()
        run: dict[str, Any] = {"id": cid}
        fake.check_runs[cid] = run
        _merge_run(fake, run, body)
        return _json(_check_run_json(fake, run), 201)
    if route == "check-runs.update":
        cid = int(match.group(1))
        if cid not in fake.check_runs:
            return _json({"message": "Not Found"}, 404)
        run = fake.check_runs[cid]
        _merge_run(fake, run, body)
        return _json(_check_run_json(fake, run))
    if route == "comments.list":
        number = int(match.group(1))
        items = [c for c in fake.comments.values() if c["_issue"] == number]
        per_page = int(request.args.get("per_page", "30"))
        page = int(request.args.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            nxt = fake.url(
                f"/repos/{REPOSITORY}/issues/{number}/comments?per_page={per_page}&page={page + 1}"
            )
            headers["Link"] = f'<{nxt}>; rel="next"'
        return _json([{k: v for k, v in c.items() if k != "_issue"} for c in chunk], 200, headers)
    if route == "comments.create":
        number = int(match.group(1))
        cid = fake.add_comment(number, body["body"])
        return _json({k: v for k, v in fake.comments[cid].items() if k != "_issue"}, 201)
    if route == "comments.update":
        cid = int(match.group(1))
        if cid not in fake.comments:
            return _json({"message": "Not Found"}, 404)
        fake.comments[cid]["body"] = body["body"]
        return _json({k: v for k, v in fake.comments[cid].items() if k != "_issue"})
    if route == "snapshots.create":
        fake.snapshots.append(body)
        return _json(
            {
                "id": len(fake.snapshots),
                "created_at": "2026-01-01T00:00:00Z",
                "result": "SUCCESS",
                "message": "Dependency results for the repo have been successfully updated.",
            },
            201,
        )
    if route.startswith("releases."):
        return _dispatch_release(fake, route, match, body, request)
    raise AssertionError(route)


def _release_json(fake: FakeGitHub, rel: dict[str, Any]) -> dict[str, Any]:
    rid = rel["id"]
    return {
        "id": rid,
        "url": fake.url(f"/repos/{REPOSITORY}/releases/{rid}"),
        "html_url": fake.url(f"/{REPOSITORY}/releases/tag/{rel['tag_name']}"),
        "assets_url": fake.url(f"/repos/{REPOSITORY}/releases/{rid}/assets"),
        "upload_url": fake.url(f"/repos/{REPOSITORY}/releases/{rid}/assets{{?name,label}}"),
        "tag_name": rel["tag_name"],
        "name": rel.get("name") or rel["tag_name"],
        "draft": False,
        "prerelease": False,
    }


def _asset_json(fake: FakeGitHub, asset: dict[str, Any]) -> dict[str, Any]:
    aid = asset["id"]
    return {
        "id": aid,
        "url": fake.url(f"/repos/{REPOSITORY}/releases/assets/{aid}"),
        "browser_download_url": fake.url(f"/{REPOSITORY}/releases/download/{asset['name']}"),
        "name": asset["name"],
        "label": asset.get("label") or "",
        "content_type": asset["content_type"],
        "size": len(asset["data"]),
        "state": "uploaded",
    }


def _dispatch_release(
    fake: FakeGitHub, route: str, match: re.Match[str], body: Any, request: Request
) -> Response:
    if route == "releases.by-tag":
        tag = match.group(1)
        for rel in fake.releases.values():
            if rel["tag_name"] == tag:
                return _json(_release_json(fake, rel))
        return _json({"message": "Not Found"}, 404)
    if route == "releases.create":
        rid = fake.new_id()
        fake.releases[rid] = {"id": rid, "tag_name": body["tag_name"], "name": body.get("name")}
        return _json(_release_json(fake, fake.releases[rid]), 201)
    if route == "releases.assets":
        rid = int(match.group(1))
        items = [a for a in fake.assets.values() if a["release"] == rid]
        return _json([_asset_json(fake, a) for a in items])
    if route == "releases.upload":
        rid = int(match.group(1))
        aid = fake.new_id()
        fake.assets[aid] = {
            "id": aid,
            "release": rid,
            "name": request.args.get("name", "asset"),
            "label": request.args.get("label"),
            "content_type": request.content_type or "application/octet-stream",
            "data": request.get_data(),
        }
        return _json(_asset_json(fake, fake.assets[aid]), 201)
    if route == "releases.delete-asset":
        fake.assets.pop(int(match.group(1)), None)
        return Response("", status=204)
    raise AssertionError(route)
