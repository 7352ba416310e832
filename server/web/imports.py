"""导入 (importCsv) pages: the upload form, templates to download per kind, a report with its progress bar,
the set-password links of an employee import, and the page a link opens to set one's password."""

from __future__ import annotations

import csv
import io

from starlette.datastructures import UploadFile
from starlette.responses import Response

from server import i18n
from server.domain import imports as import_rules
from server.domain.errors import DomainError
from server.domain.vocab import ImportKind, JobState
from server.services import password_links
from server.web.core import Page, PageError, check_read, refuse_if_forbidden

REPORT_FIELDS = """id kind dryRun created updated errorCount rows state createdAt fileSha256
  job { id state progress error } errors { row column message }"""
INDEX_QUERY = "{ importKinds importReports { " + REPORT_FIELDS + " } }"
REPORT_QUERY = "query($id: ID!) { importKinds importReport(id: $id) { " + REPORT_FIELDS + " } }"
IMPORT_MUTATION = """mutation($kind: ImportKind!, $file: Upload!, $dry: Boolean!, $enc: String) {
  importCsv(kind: $kind, file: $file, dryRun: $dry, encoding: $enc) { """ + REPORT_FIELDS + " } }"
LINKS_MUTATION = "mutation($id: ID!) { issueSetPasswordLinks(importId: $id) { username employeeNo name email url expiresAt } }"
ENCODINGS = ("", "utf-8", "gb18030")
# The form's file part may be as large as an import file (IMPORT_MAX_MB), which counts as this many uploads.
MAX_FILES = 6


async def imports_page(page: Page, *, report: dict | None = None, errors: list | None = None,
                       status: int = 200) -> Response:
    data = check_read(await page.gql(INDEX_QUERY))
    if not data["importKinds"]:
        raise PageError(403)
    return await page.render("imports/index.html", {
        "kinds": data["importKinds"], "reports": data["importReports"], "report": report, "general": errors or [],
        "encodings": ENCODINGS, "chosen": page.value("kind") or data["importKinds"][0],
    }, status=status)


async def import_submit(page: Page) -> Response:
    upload = page.form.get("file") if page.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await imports_page(page, errors=[page._("请选择要导入的文件")], status=400)
    encoding = page.value("encoding")
    result = await page.gql(IMPORT_MUTATION, {
        "kind": page.value("kind"), "file": upload, "dry": page.value("dryRun") == "1",
        "enc": encoding if encoding in ENCODINGS and encoding else None,
    })
    refuse_if_forbidden(result)
    if not result.ok:
        return await imports_page(page, errors=[e.message for e in result.errors], status=400)
    return page.redirect(f"/imports/{result.data['importCsv']['id']}")


async def report_page(page: Page, report_id: str, *, links: list | None = None) -> Response:
    data = check_read(await page.gql(REPORT_QUERY, {"id": report_id}))
    report = data["importReport"]
    if report is None:
        raise PageError(404)
    return await page.render("imports/report.html", {
        "report": report, "links": links, "running": report["state"] in (JobState.QUEUED, JobState.RUNNING),
        "may_issue_links": ImportKind.EMPLOYEES in data["importKinds"] and report["kind"] == ImportKind.EMPLOYEES
        and not report["dryRun"] and report["state"] == JobState.DONE and report["created"] > 0,
    }, block="progress" if page.htmx else None)


async def issue_links(page: Page, report_id: str) -> Response:
    result = await page.gql(LINKS_MUTATION, {"id": report_id})
    refuse_if_forbidden(result)
    links = check_read(result)["issueSetPasswordLinks"]
    return await report_page(page, report_id, links=links)


async def template(page: Page, kind: str) -> Response:
    """A CSV template (UTF-8 with BOM, so Excel opens it correctly): the header and one example row."""
    name = kind.removesuffix(".csv").upper()
    if name not in ImportKind.__members__:
        raise PageError(404)
    language = "en" if page.request.query_params.get("headers") == "en" else "zh"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(import_rules.template_header(name, language))
    writer.writerow(import_rules.TEMPLATE_EXAMPLES[name])
    return Response(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="qingkuan-{name.lower()}.csv"'})


async def set_password_page(page: Page, token: str, *, error: str | None = None, status: int = 200) -> Response:
    user = await password_links.link_user(token)
    return await page.render("imports/set_password.html", {
        "token": token, "username": user.username if user else None, "error": error,
    }, status=status if user else 404)


async def set_password_submit(page: Page, token: str) -> Response:
    form = page.form
    password, confirm = (form.get(k) if form is not None else None for k in ("password", "confirm"))
    try:
        await password_links.set_password(token, password if isinstance(password, str) else "",
                                          confirm if isinstance(confirm, str) else "")
    except DomainError as exc:
        return await set_password_page(page, token, error=i18n.render(exc.msg, page.locale), status=400)
    return page.redirect("/login")
