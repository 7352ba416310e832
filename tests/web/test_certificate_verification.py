"""The 离职清款证明 carries a random verification code and its QR code; /verify/<code> confirms it to anyone
holding the code with the name masked; the sequential number and made-up codes reveal nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from server.models import AuditEntry, CertificateCode, User
from server.services import company, offboarding, sessions
from server.services.base import today
from server.services.certificates import mask_name
from tests.factories import make_org
from tests.web.conftest import text_of


async def viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


def test_masking():
    assert [mask_name(n) for n in ("张三", "张伟强", "欧阳明月", "李", "")] == ["张*", "张**", "欧***", "李*", "*"]


async def test_certificate_code_qr_and_public_page(app, browser, db):
    people = await make_org()
    await company.set_setting(await viewer("admin"), company.COMPANY_NAME, "西安秦川储能科技有限公司")
    off = await offboarding.start_offboarding(await viewer("hr"), people.sales, today() + timedelta(days=5))
    await offboarding.confirm_clearance(await viewer("finance"), off.id)

    await browser.login("hr")
    page = await browser.get(f"/offboarding/{off.id}/certificate")
    assert page.status_code == 200
    code = (await CertificateCode.get(offboarding_id=off.id)).code
    assert len(code) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", code)
    assert "西安秦川储能科技有限公司" in page.text
    assert f"https://testserver/verify/{code}" in page.text and '<svg' in page.text and 'class="qr"' in page.text
    again = await browser.get(f"/offboarding/{off.id}/certificate")
    assert code in again.text and await CertificateCode.all().count() == 1  # issued once, stable
    assert await AuditEntry.filter(action="certificate.issue_code").count() == 1
    number = re.search(r"证明编号：(LZQK-\d{4}-\d{6})", page.text).group(1)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as anonymous:
        found = await anonymous.get(f"/verify/{code}")
        assert found.status_code == 200
        text = text_of(found.text)
        assert "证明有效" in text and number in text and "张*" in text and "销售部" in text
        assert "张三" not in found.text and "S1" not in text  # name masked, no employee number
        assert "西安秦川储能科技有限公司" in text and off.last_working_day.isoformat() not in text
        for wrong in (number, "x" * 22, code[:-1] + ("A" if code[-1] != "A" else "B")):
            missing = await anonymous.get(f"/verify/{wrong}")
            assert missing.status_code == 404 and "未找到该证明" in text_of(missing.text)
            assert "张" not in text_of(missing.text).replace("证明", "")


async def test_a_cancelled_offboarding_has_no_certificate_to_verify(browser, db):
    people = await make_org()
    off = await offboarding.start_offboarding(await viewer("hr"), people.sales, today() + timedelta(days=5))
    await browser.login("hr")
    assert (await browser.get(f"/offboarding/{off.id}/certificate")).status_code == 409
    assert await CertificateCode.all().count() == 0
