"""The 离职清款证明: its data from the services, rendered by the printable stand-alone template."""

from __future__ import annotations

import re
from datetime import timedelta

from server.models import User
from server.services import loans, offboarding, sessions
from server.services.base import today
from server.web.core import render_template
from tests.factories import make_org
from tests.services.test_offboarding import make_rsm_with_debt, viewer


def render(cert) -> str:
    return render_template("zh_CN", "offboarding/certificate.html", {"cert": cert})


async def test_certificate_page_states_nothing_owed_who_confirmed_and_when(db):
    people, rsm, first, second = await make_rsm_with_debt()
    hr, fin = await viewer("hr"), await viewer("finance")
    off = await offboarding.start_offboarding(hr, rsm, today() + timedelta(days=3), "个人原因")
    await loans.settle_loan(fin, first.id, "CASH_RETURN", "10000.00", "收据 SJ-101")
    await loans.settle_loan(fin, first.id, "SALARY_DEDUCTION", "8000.00", "工资单 PR-2026-11-R1")
    await loans.settle_loan(fin, second.id, "WRITE_OFF", "12000.00", "经总经理批准核销 <b>")
    await loans.settle_loan(sessions.viewer_for(await User.get(username="admin")), second.id, "WRITE_OFF", "12000.00")
    await offboarding.confirm_clearance(fin, off.id)
    cert = await offboarding.clearance_certificate(hr, off.id)
    html = render(cert)
    assert "<script" not in html and "src=" not in html and "href=" not in html  # stand-alone, no script
    assert '<html lang="zh-CN">' in html and "@page { size: A4" in html
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "<h1>离职清款证明</h1>" in html
    assert cert.number in text
    assert "张伟" in text and "工号 R1" in text and "区域销售经理" in text
    assert "全部借款均已结清" in text and "无任何未结清借款" in text
    assert "尚欠金额： 0.00 元" in text
    assert "清款确认人：赵财务（工号 F1）" in text
    assert cert.cleared_at.strftime("%Y-%m-%d %H:%M") in text and "UTC+08:00" in text
    for number in (first.number, second.number):
        assert number in text
    assert "30,000.00" in text and "10,000.00" in text and "8,000.00" in text and "12,000.00" in text
    assert "已结清" in text and "已核销" in text and "工资单 PR-2026-11-R1" in text
    assert "&lt;b&gt;" in html  # notes are escaped
    assert "离职办结时间" not in text  # not completed yet

    await offboarding.complete_offboarding(hr, off.id)
    assert "离职办结时间" in render(await offboarding.clearance_certificate(hr, off.id))


async def test_certificate_without_loans(db):
    people = await make_org()
    off = await offboarding.start_offboarding(await viewer("hr"), people.sales, today())
    await offboarding.confirm_clearance(await viewer("finance"), off.id)
    html = render(await offboarding.clearance_certificate(await viewer("sales"), off.id))
    assert "该员工在职期间无借款记录" in html and "<table" not in html
