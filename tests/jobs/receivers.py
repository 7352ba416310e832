"""Local receivers for delivery tests: a real SMTP server (aiosmtpd) and a real HTTP server (uvicorn) that
plays DingTalk, WeCom and Feishu: it checks each robot's signature with its own code (not the app's),
answers the first request on each path with an error, and records what it accepted."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote_plus

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DINGTALK_SECRET = "SECdingtalk-secret-0123456789abcdef"
DINGTALK_TOKEN = "ding-access-token-0123456789"
WECOM_KEY = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
FEISHU_SECRET = "feishu-secret-abcdefghijkl"
FEISHU_HOOK = "feishu-hook-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- SMTP


class _Handler:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"


@contextlib.contextmanager
def smtp_server() -> Any:
    handler = _Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler.messages
    finally:
        controller.stop()


# ---------------------------------------------------------------- robots


@dataclass
class Robots:
    port: int
    received: dict[str, list[dict]] = field(default_factory=lambda: {"dingtalk": [], "wecom": [], "feishu": []})
    requests: dict[str, int] = field(default_factory=lambda: {"dingtalk": 0, "wecom": 0, "feishu": 0})
    fail_first: bool = True
    rejected: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dingtalk_url(self) -> str:
        return f"{self.base}/robot/send?access_token={DINGTALK_TOKEN}"

    @property
    def wecom_url(self) -> str:
        return f"{self.base}/cgi-bin/webhook/send?key={WECOM_KEY}"

    @property
    def feishu_url(self) -> str:
        return f"{self.base}/open-apis/bot/v2/hook/{FEISHU_HOOK}"


def _first_fails(robots: Robots, name: str) -> bool:
    robots.requests[name] += 1
    return robots.fail_first and robots.requests[name] == 1


def _app(robots: Robots) -> Starlette:
    async def dingtalk(request: Request) -> JSONResponse:
        q = request.query_params
        if q.get("access_token") != DINGTALK_TOKEN:
            robots.rejected.append("dingtalk token")
            return JSONResponse({"errcode": 300001, "errmsg": "token is not exist"})
        timestamp, sign = q.get("timestamp", ""), q.get("sign", "")
        # The raw query keeps the URL-encoding the robot expects; compare the decoded value.
        raw_sign = next((p.split("=", 1)[1] for p in request.url.query.split("&") if p.startswith("sign=")), "")
        expected = base64.b64encode(hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(),
                                             hashlib.sha256).digest()).decode()
        if unquote_plus(raw_sign) != expected or sign != expected or abs(time.time() * 1000 - int(timestamp)) > 3600e3:
            robots.rejected.append("dingtalk sign")
            return JSONResponse({"errcode": 310000, "errmsg": "sign not match"})
        if _first_fails(robots, "dingtalk"):
            return JSONResponse({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
        robots.received["dingtalk"].append(await request.json())
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def wecom(request: Request) -> JSONResponse:
        if request.query_params.get("key") != WECOM_KEY:
            robots.rejected.append("wecom key")
            return JSONResponse({"errcode": 93000, "errmsg": "invalid webhook url"})
        body = await request.json()
        if len(body["markdown"]["content"].encode("utf-8")) > 4096:
            robots.rejected.append("wecom size")
            return JSONResponse({"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
        if _first_fails(robots, "wecom"):
            return JSONResponse({"errcode": -1, "errmsg": "system busy"}, status_code=503)
        robots.received["wecom"].append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def feishu(request: Request) -> JSONResponse:
        if request.path_params["hook"] != FEISHU_HOOK:
            return JSONResponse({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
        body = await request.json()
        timestamp = body.get("timestamp", "")
        key = f"{timestamp}\n{FEISHU_SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        if body.get("sign") != expected or abs(time.time() - int(timestamp or 0)) > 3600:
            robots.rejected.append("feishu sign")
            return JSONResponse({"code": 19021, "msg": "sign match fail or timestamp is not within one hour"})
        if _first_fails(robots, "feishu"):
            return JSONResponse({"code": 11232, "msg": "frequency limited"})
        robots.received["feishu"].append(body)
        return JSONResponse({"code": 0, "msg": "success", "data": {}})

    return Starlette(routes=[
        Route("/robot/send", dingtalk, methods=["POST"]),
        Route("/cgi-bin/webhook/send", wecom, methods=["POST"]),
        Route("/open-apis/bot/v2/hook/{hook}", feishu, methods=["POST"]),
    ])


@contextlib.asynccontextmanager
async def robot_server() -> AsyncIterator[Robots]:
    robots = Robots(port=free_port())
    config = uvicorn.Config(_app(robots), host="127.0.0.1", port=robots.port, lifespan="off", log_level="warning",
                            ws="none", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # up to 5 s for the socket to listen
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield robots
    finally:
        server.should_exit = True
        await task


def markdown_of(kind: str, body: dict) -> str:
    if kind == "dingtalk":
        return body["markdown"]["text"]
    if kind == "wecom":
        return body["markdown"]["content"]
    return body["card"]["elements"][0]["content"]

