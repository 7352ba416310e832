"""Outgoing webhooks end to end: audit entries become events, a real ARQ worker on real Redis POSTs
them to a local HTTP receiver that fails the first attempt and checks every signature."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from server.domain import webhooks as rules
from server.domain.errors import Forbidden, ValidationFailed
from server.models import AuditEntry, User, WebhookDelivery, WebhookEvent
from server.services import loans, sessions, webhooks
from server.services.base import SYSTEM, atomic
from tests.factories import make_org


class Receiver:
    """A real HTTP server on 127.0.0.1: answers 500 to the first `fail_first` requests, then 204."""

    def __init__(self, secret_box: dict, fail_first: int = 1) -> None:
        self.requests: list[dict] = []
        self.fail_first = fail_first
        self.secret_box = secret_box
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                ok = rules.verify(receiver.secret_box["secret"], headers["x-qingkuan-timestamp"], body,
                                  headers["x-qingkuan-signature"], time.time())
                receiver.requests.append({"headers": headers, "body": body, "signature_ok": ok})
                failing = len(receiver.requests) <= receiver.fail_first
                self.send_response(500 if failing else (204 if ok else 401))
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def _viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(webhooks, "RETRY_BASE_S", 0.2)


async def _approved_and_disbursed_loan():
    sales, manager, fin = await _viewer("sales"), await _viewer("manager"), await _viewer("finance")
    loan = await loans.apply_for_loan(sales, loans.LoanApplication("1200.00", "TRAVEL", "出差西安"))
    await loans.decide_loan(manager, loan.id, "APPROVE")
    await loans.decide_loan(fin, loan.id, "APPROVE")
    await loans.disburse_loan(fin, loan.id)
    await loans.settle_loan(fin, loan.id, "CASH_RETURN", "1200.00", "收据 7")
    return loan


async def test_events_are_delivered_signed_and_retried_after_a_failure(db, job_settings, run_burst):
    await make_org()
    admin = await _viewer("admin")
    box: dict = {}
    with Receiver(box, fail_first=1) as receiver:
        endpoint, secret = await webhooks.create_endpoint(admin, receiver.url, ["loan.submitted", "loan.approved",
                                                                                "loan.disbursed", "loan.settled"])
        box["secret"] = secret
        loan = await _approved_and_disbursed_loan()
        assert await webhooks.scan_audit() == 4
        assert await webhooks.scan_audit() == 0  # the watermark moved: nothing twice
        worker = await run_burst()
        await asyncio.sleep(0)

        assert worker.jobs_failed == 0
        deliveries = await WebhookDelivery.all().order_by("id")
        assert [d.status for d in deliveries] == ["DELIVERED"] * 4
        assert sorted(d.attempts for d in deliveries) == [1, 1, 1, 2]  # the first one failed once
        # Five requests: one failure and its retry, then three; every signature verifies.
        assert len(receiver.requests) == 5
        assert all(r["signature_ok"] for r in receiver.requests)
        first, retry = receiver.requests[0], [r for r in receiver.requests[1:]
                                              if r["headers"]["x-qingkuan-event-id"]
                                              == receiver.requests[0]["headers"]["x-qingkuan-event-id"]]
        assert retry and retry[0]["body"] == first["body"]  # the same bytes, the same event id
        bodies = [json.loads(r["body"]) for r in receiver.requests]
        types = {b["type"] for b in bodies}
        assert types == {"loan.submitted", "loan.approved", "loan.disbursed", "loan.settled"}
        submitted = next(b for b in bodies if b["type"] == "loan.submitted")
        assert submitted["data"]["object"] == {"type": "loan", "id": str(loan.id), "number": loan.number,
                                               "employeeNo": "S1"}
        assert {r["headers"]["x-qingkuan-event"] for r in receiver.requests} == types
        assert endpoint.id == deliveries[0].endpoint_id  # type: ignore[attr-defined]


async def test_unsubscribed_intermediate_and_rolled_back_changes_send_nothing(db, job_settings):
    await make_org()
    admin, sales, manager = await _viewer("admin"), await _viewer("sales"), await _viewer("manager")
    await webhooks.create_endpoint(admin, "http://127.0.0.1:9/none", ["loan.approved"])
    loan = await loans.apply_for_loan(sales, loans.LoanApplication("800.00", "TRAVEL", "出差"))
    await loans.decide_loan(manager, loan.id, "APPROVE")  # step 1 of 2: the loan is not approved yet
    assert await webhooks.scan_audit() == 1  # loan.submitted is an event, for nobody
    assert await WebhookDelivery.all().count() == 0

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with atomic():
            await webhooks.emit("loan.approved", {"loan": loan.number})
            raise Boom
    assert await WebhookEvent.filter(type="loan.approved").count() == 0
    assert await WebhookDelivery.all().count() == 0


async def test_racing_scans_write_each_event_once(db, job_settings):
    await make_org()
    await webhooks.create_endpoint(await _viewer("admin"), "http://127.0.0.1:9/none")
    await _approved_and_disbursed_loan()
    results = await asyncio.gather(*(webhooks.scan_audit() for _ in range(3)))
    assert sum(results) == 4
    assert await WebhookEvent.all().count() == 4
    assert len(set(await WebhookEvent.all().values_list("audit_entry_id", flat=True))) == 4


async def test_a_failing_receiver_ends_failed_and_a_replay_delivers(db, job_settings, run_burst, monkeypatch):
    monkeypatch.setattr(webhooks, "RETRY_BASE_S", 0.05)
    monkeypatch.setattr(rules, "MAX_ATTEMPTS", 3)
    await make_org()
    admin = await _viewer("admin")
    box: dict = {}
    with Receiver(box, fail_first=3) as receiver:
        _, box["secret"] = await webhooks.create_endpoint(admin, receiver.url, ["loan.submitted"])
        await loans.apply_for_loan(await _viewer("sales"), loans.LoanApplication("300.00", "TRAVEL", "出差"))
        await webhooks.scan_audit()
        await run_burst()
        failed = await WebhookDelivery.get()
        assert (failed.status, failed.attempts, failed.last_status_code) == ("FAILED", 3, 500)
        assert failed.last_error and failed.last_error.startswith("HTTP 500")

        with pytest.raises(Forbidden):
            await webhooks.replay(await _viewer("finance"), failed.id)
        replayed = await webhooks.replay(admin, failed.id)
        await run_burst()
        replayed = await WebhookDelivery.get(id=replayed.id)
        assert (replayed.status, replayed.attempts, replayed.replay_of_id) == ("DELIVERED", 1, failed.id)
        assert len(receiver.requests) == 4 and all(r["signature_ok"] for r in receiver.requests)
    assert await AuditEntry.filter(action="webhook.replay").count() == 1


async def test_only_admin_manages_endpoints_and_urls_are_checked(db):
    await make_org()
    with pytest.raises(Forbidden):
        await webhooks.create_endpoint(await _viewer("finance"), "https://erp.example.com/hook")
    admin = await _viewer("admin")
    for bad in ("ftp://erp.example.com/x", "not a url", "https://"):
        with pytest.raises(ValidationFailed):
            await webhooks.create_endpoint(admin, bad)
    with pytest.raises(ValidationFailed):
        await webhooks.create_endpoint(admin, "https://erp.example.com/hook", ["loan.exploded"])
    row, secret = await webhooks.create_endpoint(SYSTEM, "https://erp.example.com/hook")
    entry = await AuditEntry.filter(action="webhook.create").first()
    assert entry is not None and secret not in json.dumps(entry.after)  # the audit log never holds the secret
    updated, rotated = await webhooks.update_endpoint(admin, row.id, enabled=False, rotate_secret=True)
    assert rotated and rotated != secret and updated.enabled is False
