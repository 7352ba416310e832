"""Evidence packages (证据包) pages: request one for an employee, watch its job (HTMX polling), download
it, and verify an uploaded package."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from schema.context import bearer_token, bearer_viewer
from server import i18n
from server.domain.errors import DomainError
from server.domain.messages import _m
from server.services import evidence as evidence_service
from server.services.evidence_zip import NotAPackage
from server.web.core import LoginRequired, Page, PageError, check_read, error_page, refuse_if_forbidden

# Enough file parts for one package upload; the body cap follows (MAX_UPLOAD_MB x this).
VERIFY_MAX_FILES = 50

EMPLOYEE = """
query($id: ID!) { employee(id: $id) { id name employeeNo status department { name } position { name }
  viewerCan { requestEvidence } } }
"""
REQUEST = "mutation($id: ID!) { requestEvidencePackage(employeeId: $id) { id } }"
PACKAGE = """
query($id: ID!) { evidencePackage(id: $id) {
  id url sha256 createdAt job { id state progress error } employee { id name employeeNo } } }
"""


async def request_page(page: Page, employee_id: str) -> Response:
    employee = check_read(await page.gql(EMPLOYEE, {"id": employee_id}))["employee"]
    if employee is None:
        raise PageError(404)
    if not employee["viewerCan"]["requestEvidence"]:
        raise PageError(403, page._("只有财务、人事、管理员或审计可以生成证据包"))
    packages = await evidence_service.packages_for(page.viewer, int(employee["id"]))
    rows = []
    for package, job in packages:
        rows.append({"id": package.id, "createdAt": package.created_at.isoformat(), "state": job.state,
                     "sha256": package.sha256})
    return await page.render("evidence/request.html", {"employee": employee, "packages": rows})


async def request_submit(page: Page, employee_id: str) -> Response:
    result = await page.gql(REQUEST, {"id": employee_id})
    refuse_if_forbidden(result)
    data = check_read(result)
    return page.redirect(f"/evidence/{data['requestEvidencePackage']['id']}")


async def package_page(page: Page, package_id: str) -> Response:
    """The package and its job; while it runs, the `progress` block polls itself every 2 s."""
    package = check_read(await page.gql(PACKAGE, {"id": package_id}))["evidencePackage"]
    if package is None:
        raise PageError(404)
    return await page.render("evidence/package.html", {"p": package}, block="progress")


async def download(page: Page, package_id: str) -> Response:
    """The ZIP, for the session cookie or `Authorization: Bearer`; refused to anyone without the duty."""
    viewer = page.viewer
    if bearer_token(page.request) is not None:
        viewer = await bearer_viewer(page.request, page.viewer.request_id)
        if not viewer.authenticated:
            response = await error_page(page, 401, _m("令牌无效或已过期"))
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
    elif not viewer.authenticated:
        raise LoginRequired()
    try:
        package, path, name = await evidence_service.open_download(viewer, package_id)
    except DomainError as exc:
        status = {"FORBIDDEN": 403, "NOT_FOUND": 404, "UNAUTHENTICATED": 401}.get(exc.code, 409)
        raise PageError(status, i18n.render(exc.msg, page.locale)) from None
    response = FileResponse(path, media_type="application/zip", filename=name)
    response.headers["X-Content-SHA256"] = str(package.sha256)
    return response


async def verify_page(page: Page) -> Response:
    return await page.render("evidence/verify.html", {"verdict": None, "error": None, "name": None})


def _save(upload: UploadFile) -> Path:
    handle = tempfile.NamedTemporaryFile(prefix="qk-verify-", suffix=".zip", delete=False)
    with handle:
        upload.file.seek(0)
        while chunk := upload.file.read(1024 * 1024):
            handle.write(chunk)
    return Path(handle.name)


async def verify_submit(page: Page) -> Response:
    upload = page.form.get("package") if page.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await page.render("evidence/verify.html", {
            "verdict": None, "error": page._("请选择要校验的证据包（ZIP 文件）"), "name": None}, status=422)
    path = await asyncio.to_thread(_save, upload)
    try:
        verdict = await asyncio.to_thread(evidence_service.verify_package, path)
    except NotAPackage:
        return await page.render("evidence/verify.html", {
            "verdict": None, "error": page._("不是有效的 ZIP 文件"), "name": upload.filename}, status=422)
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    shown = {
        "ok": verdict.ok, "files": verdict.checked_files, "entries": verdict.checked_entries,
        "seals": verdict.seals_checked, "timestamp": verdict.timestamp,
        "problems": [{"code": p.code, "subject": p.subject, "message": i18n.render(p.message, page.locale)}
                     for p in verdict.problems],
        "notes": [i18n.render(n, page.locale) for n in verdict.notes],
    }
    return await page.render("evidence/verify.html", {"verdict": shown, "error": None, "name": upload.filename})
