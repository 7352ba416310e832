"""Voucher and document inputs offer the phone's camera as well as files, and carry the server's size
limit for /static/forms.js to refuse a larger file before the upload (issue 12)."""

from __future__ import annotations

import re

from tests.factories import make_org


def _inputs(page: str) -> list[str]:
    return re.findall(r'<input[^>]*type="file"[^>]*>', page, flags=re.S)


async def test_apply_and_reimbursement_forms_offer_the_camera_and_name_the_limit(browser, db, settings):
    await make_org()
    await browser.login("sales")
    limit = settings.max_upload_bytes
    mb = str(limit // 1048576)
    for url in ("/loans/new", "/reimbursements/new"):
        page = (await browser.get(url)).text
        inputs = _inputs(page)
        assert len(inputs) == 2, url  # the file picker and the camera, under one field name
        assert sum('capture="environment"' in i for i in inputs) == 1
        camera = next(i for i in inputs if "capture" in i)
        assert 'accept="image/*"' in camera
        names = {re.search(r'name="([^"]+)"', i).group(1) for i in inputs}
        assert len(names) == 1, names
        for i in inputs:
            assert f'data-max-bytes="{limit}"' in i
            assert f"超过 {mb} MB 上限" in i and "{name}" in i
        assert f"每个文件不超过 {mb} MB" in page
        assert '<script src="/static/forms.js" defer></script>' in page


async def test_the_script_is_served_as_a_static_file(client, db):
    response = await client.get("/static/forms.js")
    assert response.status_code == 200 and "data-max-bytes" not in response.text.split("\n")[0]
    assert "maxBytes" in response.text and "tooLarge" in response.text
