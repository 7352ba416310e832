"""Evidence package pages: the 证据包 buttons, the request page with its polling progress, the download,
and the verification page (upload a package, read the verdict) in both languages."""

from __future__ import annotations

from datetime import timedelta

from server.models import Job, User
from server.services import loans, offboarding, sessions
from server.services.base import today
from tests.factories import make_org
from tests.jobs.conftest import job_settings, run_burst  # noqa: F401 - fixtures
from tests.jobs.test_evidence_job import rewrite
from tests.services.test_reimbursements import approve_loan_chain, pdf_bytes
from tests.web.conftest import text_of


async def _history():
    people = await make_org()
    sales = sessions.viewer_for(await User.get(username="sales"))
    loan = await loans.apply_for_loan(sales, loans.LoanApplication("900.00", "TRAVEL", "出差西安"))
    await approve_loan_chain(loan.id)
    hr = sessions.viewer_for(await User.get(username="hr"))
    off = await offboarding.start_offboarding(hr, people.sales, today() + timedelta(days=5), "个人原因")
    return people, loan, off


async def test_buttons_show_for_the_roles_that_may(browser, job_settings):  # noqa: F811
    people, loan, off = await _history()
    await browser.login("finance")
    for url in (f"/loans/{loan.id}", f"/offboarding/{off.id}", f"/admin/employees/{people.sales}"):
        page = await browser.get(url)
        if url.startswith("/admin"):  # employees are HR's and ADMIN's pages
            continue
        assert page.status_code == 200, url
        assert f'href="/employees/{people.sales}/evidence"' in page.text, url
    await browser.client.post("/logout", data={"csrf_token": browser.csrf})
    browser.client.cookies.clear()
    await browser.login("hr")
    page = await browser.get(f"/admin/employees/{people.sales}")
    assert page.status_code == 200 and 'id="evidence-button"' in page.text
    await browser.client.post("/logout", data={"csrf_token": browser.csrf})
    browser.client.cookies.clear()
    await browser.login("sales")
    page = await browser.get(f"/loans/{loan.id}")
    assert page.status_code == 200 and 'id="evidence-button"' not in page.text
    assert (await browser.get(f"/employees/{people.sales}/evidence")).status_code == 403


async def test_request_poll_download_and_verify(browser, job_settings, run_burst):  # noqa: F811
    people, loan, _ = await _history()
    await browser.login("finance")
    page = await browser.get(f"/employees/{people.sales}/evidence")
    assert page.status_code == 200 and "生成证据包" in page.text
    response = await browser.post(f"/employees/{people.sales}/evidence")
    assert response.status_code == 303
    target = response.headers["location"]
    queued = await browser.get(target)
    assert 'hx-trigger="every 2s"' in queued.text and "排队中" in text_of(queued.text)
    fragment = await browser.get(target, headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section class="card" id="progress"')

    await run_burst()
    done = await browser.get(target, headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.text and 'id="download"' in done.text
    package_id = target.rsplit("/", 1)[1]
    job = await Job.get(id=(await _package(package_id)).job_id)
    assert job.state == "DONE"
    download = await browser.get(f"/evidence/{package_id}/download")
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert download.headers["x-content-sha256"] in done.text

    verify = await browser.get("/evidence/verify")
    assert verify.status_code == 200
    good = await browser.post("/evidence/verify", files={"package": ("证据包.zip", download.content, "application/zip")})
    assert good.status_code == 200 and "校验通过" in text_of(good.text)
    bad = rewrite(download.content, {"records.json": b"{}"})
    refused = await browser.post("/evidence/verify", files={"package": ("x.zip", bad, "application/zip")})
    assert "校验未通过" in text_of(refused.text) and "records.json" in text_of(refused.text)
    junk = await browser.post("/evidence/verify", files={"package": ("x.zip", pdf_bytes("no zip"), "application/pdf")})
    assert junk.status_code == 422 and "不是有效的 ZIP 文件" in text_of(junk.text)

    # The verification page speaks the viewer's language.
    await browser.post("/locale", data={"locale": "en", "next": "/evidence/verify"})
    english = await browser.post("/evidence/verify", files={"package": ("x.zip", bad, "application/zip")})
    assert "Verification failed" in text_of(english.text) and "File changed: records.json" in text_of(english.text)


async def _package(package_id: str):
    from server.models import EvidencePackage

    return await EvidencePackage.get(id=int(package_id))
