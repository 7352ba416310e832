"""Evidence packages (证据包): request, read, download, build and verify them.

FINANCE, HR, ADMIN and AUDITOR (duty REQUEST_EVIDENCE) request a package for one employee; a job
(jobs/evidence.py) assembles the ZIP under DATA_DIR/evidence, file by file; every download is
checked against the duty and written to the audit log.

The package covers the audit log up to an anchored head: the newest signed anchor, extended over
the entries written since (each sealed and linked, checked here) by a new anchor; with no anchor
yet, the whole chain is verified once. A broken chain fails the job: a package never vouches for a
log that does not verify.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import uuid
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

from server.domain import duties
from server.domain import evidence as evidence_rules
from server.domain.errors import Conflict, NotFound
from server.domain.messages import Message, _m
from server.models import AuditAnchor, AuditEntry, Employee, EvidencePackage, Job, User
from server.services import audit, evidence_pdf, evidence_tsa
from server.services import jobs as job_service
from server.services.base import Viewer, atomic, parse_id, require_login, utcnow
from server.services.evidence_facts import gather, links
from server.services.evidence_zip import PackageWriter, file_sha256, read_package
from server.settings import get_settings
from server.storage import path_for

log = logging.getLogger("qingkuan.evidence")

KIND = "EVIDENCE_PACKAGE"
FUNCTION = "build_evidence_package"
SYSTEM_INFO = {"name": "清款 Qingkuan", "version": "0.1.0", "component": "evidence-package"}


class BrokenEvidence(RuntimeError):
    """The package cannot be built honestly (the audit chain or a stored original does not verify)."""


def _require(viewer: Viewer) -> None:
    require_login(viewer)
    duties.require(viewer.roles, duties.REQUEST_EVIDENCE)


def may_request(viewer: Viewer) -> bool:
    """For pages' buttons (viewerCan-style): the same rule that `request_package` enforces."""
    return viewer.authenticated and duties.may(viewer.roles, duties.REQUEST_EVIDENCE)


def package_path(package_id: int) -> Path:
    return get_settings().evidence_dir / f"{int(package_id)}.zip"


def download_name(package: EvidencePackage, employee_no: str) -> str:
    return f"证据包-{employee_no}-{package.id}.zip"


async def request_package(viewer: Viewer, employee_id: Any) -> EvidencePackage:
    """Queue the package; returns at once with the job to poll."""
    _require(viewer)
    employee = await Employee.filter(id=parse_id(employee_id, "employee")).first()
    if employee is None:
        raise NotFound(_m("员工不存在"))
    job_id = f"evidence-{uuid.uuid4().hex}"
    async with atomic():
        await job_service.create_job(KIND, job_id, viewer.user_id)
        package = await EvidencePackage.create(employee_id=employee.id, job_id=job_id, requested_by_id=viewer.user_id,
                                               created_at=utcnow())
        await job_service.submit(KIND, FUNCTION, package.id, job_id=job_id, created_by=viewer.user_id)
        await audit.record(viewer, "evidence.request", "evidence_package", package.id, None,
                           {"employee": employee.id, "employeeNo": employee.employee_no, "job": job_id})
    return package


async def get_package(viewer: Viewer, package_id: Any) -> EvidencePackage:
    _require(viewer)
    package = await EvidencePackage.filter(id=parse_id(package_id, "evidencePackage")).first()
    if package is None:
        raise NotFound(_m("证据包 %(id)s 不存在", id=package_id))
    return package


async def packages_for(viewer: Viewer, employee_id: int, limit: int = 10) -> list[tuple[EvidencePackage, Job]]:
    """The newest packages of one employee with their jobs (the request page lists them): two queries."""
    _require(viewer)
    packages = list(await EvidencePackage.filter(employee_id=employee_id).order_by("-created_at", "-id").limit(limit))
    jobs = {j.id: j for j in await Job.filter(id__in=[p.job_id for p in packages])} if packages else {}
    return [(p, jobs[p.job_id]) for p in packages]


async def package_job(package: EvidencePackage) -> Job:
    return await Job.get(id=package.job_id)


async def open_download(viewer: Viewer, package_id: Any) -> tuple[EvidencePackage, Path, str]:
    """The finished ZIP for someone with the duty; the download is audited (who, which package, its hash)."""
    package = await get_package(viewer, package_id)
    job = await package_job(package)
    path = package_path(package.id)
    if job.state != job_service.DONE or package.sha256 is None or not path.exists():
        raise Conflict(_m("证据包尚未生成完成"))
    employee = await Employee.get(id=package.employee_id)
    await audit.record(viewer, "evidence.download", "evidence_package", package.id, None,
                       {"employee": package.employee_id, "sha256": package.sha256, "size": package.size})
    return package, path, download_name(package, employee.employee_no)


# ---------------------------------------------------------------- the audit head


def _head_json(anchor: AuditAnchor) -> dict[str, Any]:
    return {"id": int(anchor.head_id), "hash": anchor.head_hash, "count": int(anchor.count),
            "boundaryId": int(anchor.boundary_id), "anchorId": int(anchor.id), "anchorAt": anchor.at.isoformat(),
            "keyId": anchor.key_id, "signature": anchor.signature}


async def _extend(latest: AuditAnchor) -> AuditAnchor | None:
    """Check the entries after an anchor (sealed, numbered and linked) and anchor the new head; None when
    one of them does not verify (the full check then names it)."""
    if not audit.anchor_signature_ok(latest):
        return None
    last, prev_hash, count = int(latest.head_id), latest.head_hash, int(latest.count)
    while True:
        rows = await AuditEntry.filter(id__gt=last).order_by("id").limit(1000)
        if not rows:
            break
        for row in rows:
            if int(row.id) != last + 1 or row.prev_hash != prev_hash or not audit.seal_ok(row):
                return None
            last, prev_hash, count = int(row.id), row.hash, count + 1
    if last == int(latest.head_id):
        return latest
    return await audit.write_anchor(last, prev_hash, count, int(latest.boundary_id))


async def anchored_head() -> AuditAnchor:
    latest = await AuditAnchor.all().order_by("-head_id", "-id").first()
    if latest is not None:
        extended = await _extend(latest)
        if extended is not None:
            return extended
    report = await audit.verify_chain(anchor=True)
    if not report.ok:
        raise BrokenEvidence(f"审计日志校验失败：{report.message}")
    anchor = await AuditAnchor.all().order_by("-head_id", "-id").first()
    assert anchor is not None
    return anchor


# ---------------------------------------------------------------- building


async def build(package_id: int, job_id: str) -> dict[str, Any]:
    """Assemble the package (the job's body). Rebuilding after a crash starts the ZIP afresh."""
    package = await EvidencePackage.get(id=package_id)
    requester = await User.filter(id=package.requested_by_id).first() if package.requested_by_id else None
    anchor = await anchored_head()
    head = _head_json(anchor)
    facts = await gather(package.employee_id, up_to=head["id"])
    await job_service.report_progress(job_id, 0.1)
    company_name = get_settings().company_name
    settings = get_settings()
    settings.evidence_dir.mkdir(parents=True, exist_ok=True)
    target = package_path(package.id)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        manifest_bytes = await _write(partial, facts, head, company_name, package, requester, job_id)
        sha256, size = await asyncio.to_thread(file_sha256, partial)
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    manifest_sha = evidence_rules.sha256_hex(manifest_bytes)
    async with atomic():
        await EvidencePackage.filter(id=package.id).update(
            sha256=sha256, size=size, manifest_sha256=manifest_sha, audit_head_id=head["id"],
            audit_head_hash=head["hash"], finished_at=utcnow(), timestamped=bool(settings.tsa_url))
        await audit.record(_job_viewer(requester), "evidence.build", "evidence_package", package.id, None,
                           {"sha256": sha256, "size": size, "manifestSha256": manifest_sha, "auditHead": head["id"],
                            "files": len(facts.files), "timestamped": bool(settings.tsa_url)})
    return {"packageId": package.id, "sha256": sha256, "size": size, "manifestSha256": manifest_sha,
            "auditHeadId": head["id"]}


def _job_viewer(requester: User | None) -> Viewer:
    if requester is None:
        return Viewer(user_id=None, username="system")
    return Viewer(user_id=requester.id, username=requester.username, roles=frozenset(requester.roles or []))


async def _write(target: Path, facts: Any, head: dict[str, Any], company_name: str, package: EvidencePackage,
                 requester: User | None, job_id: str) -> bytes:
    records = facts.records
    settings = get_settings()
    with PackageWriter(target) as writer:
        pdf_bytes = await asyncio.to_thread(evidence_pdf.overview, records, company_name)
        writer.add_bytes(evidence_rules.SUMMARY, pdf_bytes)
        if evidence_pdf.is_split(records):
            for loan in records["loans"]:
                one = await asyncio.to_thread(evidence_pdf.loan_pdf, records, loan, company_name)
                writer.add_bytes(f"{evidence_rules.LOAN_SUMMARIES}/{evidence_rules.safe_name(loan['number'])}.pdf",
                                 one)
        await job_service.report_progress(job_id, 0.3)
        writer.add_bytes(evidence_rules.RECORDS, evidence_rules.canonical_json(records, pretty=True))
        total = max(len(facts.files), 1)
        for done, (path, sha256, _size) in enumerate(facts.files, 1):
            entry = await asyncio.to_thread(writer.add_file, path, path_for(sha256))
            if entry.sha256 != sha256:
                raise BrokenEvidence(f"存储的原件已损坏：{path}（sha256 {entry.sha256} ≠ {sha256}）")
            if done % 50 == 0:
                await job_service.report_progress(job_id, 0.3 + 0.5 * done / total)
        lines: dict[int, str] = {}
        audit_lines = []
        for entry_json in facts.audit:
            line = evidence_rules.audit_line(entry_json)
            lines[int(entry_json["id"])] = evidence_rules.sha256_hex(line)
            audit_lines.append(line + b"\n")
        writer.add_lines(evidence_rules.AUDIT, audit_lines)
        del audit_lines
        first_id = int(facts.audit[0]["id"]) if facts.audit else int(head["id"])
        with writer.stream(evidence_rules.LINKS) as out:
            async for link in links(first_id, int(head["id"])):
                out.write(link.encode("ascii"))
        await job_service.report_progress(job_id, 0.9)
        employee = records["employee"]
        manifest = evidence_rules.build_manifest(
            writer.entries, created_at=utcnow().isoformat(),
            creator={"userId": requester.id if requester else None,
                     "username": requester.username if requester else "system", "packageId": package.id},
            employee={"id": employee["id"], "employeeNo": employee["employeeNo"], "name": employee["name"]},
            system={**SYSTEM_INFO, "company": company_name}, audit_head=head, audit_lines=lines)
        manifest_bytes = evidence_rules.canonical_json(manifest, pretty=True)
        writer.add_bytes(evidence_rules.MANIFEST, manifest_bytes, listed=False)
        if settings.tsa_url:
            token = await evidence_tsa.timestamp(settings.tsa_url, manifest_bytes)
            writer.add_bytes(evidence_rules.TIMESTAMP, token, listed=False)
    return manifest_bytes


# ---------------------------------------------------------------- verifying


def _anchor_check(head: Any) -> Message | None:
    try:
        anchor = SimpleNamespace(at=datetime.fromisoformat(head["anchorAt"]), head_id=int(head["id"]),
                                 head_hash=head["hash"], count=int(head["count"]),
                                 boundary_id=int(head["boundaryId"]), key_id=head["keyId"],
                                 signature=head["signature"])
    except (KeyError, TypeError, ValueError):
        return _m("清单中的锚点信息不完整")
    return None if audit.anchor_signature_ok(anchor) else _m("锚点签名无效（第 %(entry)s 条）", entry=head.get("id"))


def verify_package(source: str | Path | IO[bytes] | bytes) -> evidence_rules.Verdict:
    """The check behind `verify-evidence` and the verification page. With the audit key configured the
    seals and the anchor are re-computed; with TSA_CA_FILE the timestamp token's signature is verified."""
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(bytes(source))
    small, actual = read_package(source)
    keyed = bool(get_settings().audit_keys)
    return evidence_rules.verify(
        small, actual, seal_check=audit.exported_seal_problem if keyed else None,
        anchor_check=_anchor_check if keyed else None, timestamp_check=evidence_tsa.checker())


def report_lines(verdict: evidence_rules.Verdict, locale: str) -> list[str]:
    """The verdict as the CLI prints it, in `locale`."""
    from server import i18n

    if verdict.ok:
        lines = [i18n.render(_m("校验通过：%(files)s 个文件与清单一致，%(entries)s 条审计记录在链上。",
                                files=verdict.checked_files, entries=verdict.checked_entries), locale)]
    else:
        lines = [i18n.render(_m("校验未通过：发现 %(n)s 处不一致。", n=len(verdict.problems)), locale)]
        lines += [f"  {p.code}: {i18n.render(p.message, locale)}" for p in verdict.problems]
    if verdict.timestamp:
        lines.append(i18n.render(_m("可信时间戳：%(when)s", when=verdict.timestamp), locale))
    lines += [i18n.render(note, locale) for note in verdict.notes]
    return lines
