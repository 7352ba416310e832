"""Business documents on a loan: uploaded with the application (GraphQL multipart), checked by content."""

from __future__ import annotations

import json

from server.models import Attachment, Loan
from tests.factories import PASSWORD, make_org

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40
APPLY = """mutation($files: [Upload!]) { applyForLoan(input:{amount:"500.00", purpose:MARKETING,
  description:"活动方案", attachments:$files}) { id status attachments { filename contentType size sha256 url } } }"""


async def _upload(client, token, files: list[tuple[str, bytes, str]]):
    operations = json.dumps({"query": APPLY, "variables": {"files": [None] * len(files)}})
    mapping = json.dumps({str(i): [f"variables.files.{i}"] for i in range(len(files))})
    multipart = {str(i): (name, data, ctype) for i, (name, data, ctype) in enumerate(files)}
    response = await client.post("/graphql", data={"operations": operations, "map": mapping}, files=multipart,
                                 headers={"Authorization": f"Bearer {token}"})
    return response.json()


async def test_documents_are_stored_with_the_application(client, gql, db):
    await make_org()
    token = await gql.login("sales", PASSWORD)
    body = await _upload(client, token, [("合同.pdf", PDF, "application/pdf"), ("plan.png", PNG, "image/png")])
    assert not body.get("errors"), body
    loan = body["data"]["applyForLoan"]
    assert loan["status"] == "PENDING_APPROVAL"
    assert [(a["filename"], a["contentType"], a["size"]) for a in loan["attachments"]] == [
        ("合同.pdf", "application/pdf", len(PDF)), ("plan.png", "image/png", len(PNG))]
    assert await Attachment.filter(loan_id=int(loan["id"])).count() == 2


async def test_type_is_checked_by_content_not_by_name(client, gql, db):
    await make_org()
    token = await gql.login("sales", PASSWORD)
    body = await _upload(client, token, [("invoice.pdf", b"#!/bin/sh\necho not a pdf\n", "application/pdf")])
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert await Loan.all().count() == 0 and await Attachment.all().count() == 0


async def test_size_limit(client, gql, db, settings):
    await make_org()
    token = await gql.login("sales", PASSWORD)
    big = PDF + b"0" * settings.max_upload_bytes
    body = await _upload(client, token, [("big.pdf", big, "application/pdf")])
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert await Loan.all().count() == 0


async def test_a_full_disk_refuses_the_application_cleanly(client, gql, db, settings, monkeypatch):
    """ENOSPC while the second file is written: UNAVAILABLE, no loan, no attachment row, no staged file left."""
    import errno
    import os

    from server import storage

    await make_org()
    token = await gql.login("sales", PASSWORD)
    written = []
    real_write = storage._write_chunk

    def write(handle, hasher, chunk):
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(len(chunk))
        real_write(handle, hasher, chunk)

    monkeypatch.setattr(storage, "_write_chunk", write)
    body = await _upload(client, token, [("合同.pdf", PDF, "application/pdf"), ("plan.png", PNG, "image/png")])
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UNAVAILABLE" and error["extensions"]["field"] == "attachments"
    assert "存储空间不足" in error["message"]
    assert await Loan.all().count() == 0 and await Attachment.all().count() == 0
    assert list((settings.upload_dir / ".incoming").iterdir()) == []
