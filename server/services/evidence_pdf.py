"""The package's Chinese summary (证据摘要), drawn from the same records as records.json.

One PDF while the employee has few loans; beyond SPLIT_AT loans an overview (employee, loan list,
reimbursements, reminders, offboarding, file index) plus one PDF per loan, so no single document
grows without bound and each is built and written on its own (bounded memory).

No time of generation or package id is printed: the same records give the same bytes
(server/pdf.py pins the PDF's own metadata).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server import pdf
from server.domain import vocab
from server.settings import get_settings

SPLIT_AT = 20
SYSTEM_NAME = "清款 Qingkuan（员工借款与报销冲抵系统）"
A4_WIDTH_MM = 178


def _t(value: str | None) -> str:
    if not value:
        return "—"
    if len(value) == 10:  # a date
        return value
    return datetime.fromisoformat(value).astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M:%S")


def _who(person: dict[str, Any] | None) -> str:
    if not person:
        return "系统"
    name, username = person.get("name"), person.get("username")
    if name and username:
        return f"{name}（{username}）"
    return str(name or username or f"用户 {person.get('userId')}")


# The summary is a Chinese court document: these labels are not translated.
OFFBOARDING_LABELS = {"CLEARANCE_PENDING": "待清款", "CLEARED": "已确认清款", "COMPLETED": "已办结", "CANCELLED": "已撤销"}
OFFSET_LABELS = {"RESERVED": "已预留", "APPLIED": "已冲抵", "RELEASED": "已释放"}


def _yuan(value: str | None) -> str:
    if value is None:
        return "—"
    return f"-¥{value[1:]}" if value.startswith("-") else f"¥{value}"


def _entered(row: dict[str, Any]) -> str:
    return f"录入：{_who(row.get('enteredBy'))}，{_t(row.get('enteredAt'))}"


def _widths(*parts: float) -> list[float]:
    total = sum(parts)
    return [pdf.mm * A4_WIDTH_MM * p / total for p in parts]


def _header(records: dict[str, Any], company: str) -> list[Any]:
    e = records["employee"]
    story = [
        pdf.para("员工借款证据摘要", "title"),
        pdf.para(f"出具单位：{company or '（未设置公司名称）'}"),
        pdf.para(f"出具系统：{SYSTEM_NAME}"),
        pdf.para("本摘要由系统依据正常业务活动中形成并保存的电子数据自动生成。原始文件、数据记录（records.json）与"
                 "审计日志（audit.jsonl）逐一列于 manifest.json，附 SHA-256 哈希值；审计日志为哈希链并以密钥签封，"
                 "链头已锚定。可用 “python main.py verify-evidence 证据包.zip” 或系统的“证据包校验”页面核验。", "small"),
        pdf.spacer(),
        pdf.para("一、员工信息", "h1"),
        pdf.table(["项目", "内容"], [
            ["姓名", e["name"]], ["工号", e["employeeNo"]], ["部门", e["department"]["name"]],
            ["岗位", e["position"]["name"]], ["地区", e["region"]["name"]], ["入职日期", _t(e["hireDate"])],
            ["最后工作日", _t(e["lastWorkingDay"])], ["状态", vocab.label("status", e["status"])],
            ["系统账号", e.get("username") or "—"], ["档案录入", _entered(e)],
            ["当前未结清借款余额", _yuan(records["balance"]["outstanding"])],
        ], _widths(1, 3)),
    ]
    return story


def _loan_list(records: dict[str, Any]) -> list[Any]:
    rows = [[x["number"], _yuan(x["amount"]), vocab.label("purpose", x["purpose"]), _t(x["createdAt"]),
             vocab.label("status", x["status"]), _yuan(x["outstanding"])] for x in records["loans"]]
    return [pdf.para("二、借款一览", "h1"),
            pdf.table(["借款单号", "金额", "用途", "申请时间", "状态", "未结清"], rows or [["—"] * 6],
                      _widths(2.2, 1.4, 1.2, 2, 1.2, 1.4))]


def loan_story(loan: dict[str, Any]) -> list[Any]:
    story = [
        pdf.para(f"借款 {loan['number']}", "h2"),
        pdf.table(["项目", "内容"], [
            ["借款单号", loan["number"]], ["金额", _yuan(loan["amount"])],
            ["用途", vocab.label("purpose", loan["purpose"])], ["用途说明", loan["description"]],
            ["预计报销日期", _t(loan["expectedSettleDate"])], ["申请时间", _t(loan["createdAt"])],
            ["状态", vocab.label("status", loan["status"])], ["驳回原因", loan.get("rejectionReason") or "—"],
            ["放款", (f"{_who(loan['disbursement']['by'])}，{_t(loan['disbursement']['at'])}"
                      if loan.get("disbursement") else "—")],
            ["当前未结清", _yuan(loan["outstanding"])], ["申请录入", _entered(loan)],
        ], _widths(1, 3)),
        pdf.spacer(2),
        pdf.para("业务单据（原件见证据包同名路径）", "body"),
        pdf.table(["文件", "大小（字节）", "SHA-256", "上传"], [
            [d["path"], d["size"], d["sha256"], f"{_who(d['uploadedBy'])}，{_t(d['uploadedAt'])}"]
            for d in loan["documents"]] or [["无", "", "", ""]], _widths(2.2, 0.9, 3.2, 1.8)),
        pdf.spacer(2),
        pdf.para("审批记录", "body"),
        pdf.table(["步骤", "角色", "审批人", "决定", "意见", "时间"], [
            [s["order"], vocab.label("role", s["role"]),
             s["approver"] or _who(s["decidedBy"]) if (s["approver"] or s["decidedBy"]) else "—",
             "跳过" if s["skipped"] else (vocab.label("decision", s["decision"]) if s["decision"] else "待定"),
             s["comment"] or "", _t(s["decidedAt"])] for s in loan["approvals"]] or [["无", "", "", "", "", ""]],
            _widths(0.6, 1, 1.8, 0.8, 2, 1.8)),
        pdf.spacer(2),
        pdf.para("台账（放款、报销冲抵、现金归还、工资扣款、核销、冲销）", "body"),
        pdf.table(["时间", "类型", "金额", "关联", "经办"], [
            [_t(x["recordedAt"]), vocab.label("entry", x["kind"]), _yuan(x["amount"]),
             "；".join(p for p in (x["reimbursement"] and f"报销单 {x['reimbursement']}", x["reference"], x["note"],
                                   x["reverses"] and f"冲销台账 #{x['reverses']}") if p) or "—",
             _who(x["recordedBy"])] for x in loan["ledger"]] or [["无", "", "", "", ""]],
            _widths(1.8, 1, 1.2, 2.6, 1.6)),
        pdf.spacer(2),
        pdf.para("催款提醒", "body"),
        pdf.table(["发送时间", "接收人", "渠道", "送达", "内容"], [
            [_t(r["sentAt"]), _who(r["to"]), "站内通知" if r["channel"] == "IN_APP" else r["channel"],
             "已送达" if r["delivered"] else "未送达", r["title"]] for r in loan["reminders"]] or [["无", "", "", "", ""]],
            _widths(1.8, 1.8, 1, 0.8, 2.8)),
    ]
    return story


def _tail(records: dict[str, Any], files: list[dict[str, Any]]) -> list[Any]:
    story: list[Any] = [pdf.para("四、报销单及凭证", "h1")]
    for r in records["reimbursements"]:
        story += [
            pdf.para(f"报销单 {r['number']}：合计 {_yuan(r['total'])}，{vocab.label('status', r['status'])}；"
                     f"提交 {_t(r['createdAt'])}；付款 {_t(r['paidAt'])}；{_entered(r)}", "body"),
            pdf.table(["行", "类别", "金额", "发生日期", "发票号", "凭证"], [
                [x["order"], vocab.label("purpose", x["category"]), _yuan(x["amount"]), _t(x["incurredOn"]), x["invoiceNo"] or "—",
                 "\n".join(v["path"] for v in x["vouchers"]) or "无"] for x in r["lines"]],
                _widths(0.5, 1, 1.1, 1.2, 1.4, 3.4)),
            pdf.para("冲抵借款：" + ("；".join(f"{o['loan']} {_yuan(o['amount'])}（{OFFSET_LABELS.get(o['state'], o['state'])}）" for o in r["offsets"])
                                   or "无"), "small"),
            pdf.para("审批：" + ("；".join(
                f"{s['order']}. {vocab.label('role', s['role'])} {s['approver'] or _who(s['decidedBy'])} "
                f"{vocab.label('decision', s['decision']) if s['decision'] else ('跳过' if s['skipped'] else '待定')} "
                f"{_t(s['decidedAt'])}" for s in r["approvals"]) or "无"), "small"),
        ]
    if not records["reimbursements"]:
        story.append(pdf.para("无"))
    story += [pdf.para("五、风险预警与提醒", "h1"), pdf.table(["时间", "类型", "借款", "内容", "提醒"], [
        [_t(a["createdAt"]), vocab.label("alert_kind", a["kind"]), a["loan"] or "—", a["message"],
         "；".join(f"{_t(r['sentAt'])} → {_who(r['to'])}（站内通知，已送达）" for r in a["reminders"]) or "—"]
        for a in records["alerts"]] or [["无", "", "", "", ""]], _widths(1.5, 1.2, 1.6, 2.4, 2.5))]
    story += [pdf.para("六、离职清款", "h1"), pdf.table(["项目", "内容"], [
        row for o in records["offboardings"] for row in (
            ["离职办理", f"#{o['id']}，{OFFBOARDING_LABELS.get(o['status'], o['status'])}"], ["最后工作日", _t(o["lastWorkingDay"])],
            ["原因", o["reason"] or "—"], ["发起", f"{_who(o['startedBy'])}，{_t(o['createdAt'])}"],
            ["财务确认清款", f"{o['clearedBy'] or _who(o['clearedByUser'])}，{_t(o['clearedAt'])}"
             if o["clearedAt"] else "—"],
            ["办结", _t(o["completedAt"])], ["撤销", _t(o["cancelledAt"])])] or [["无", ""]], _widths(1, 3))]
    story += [pdf.para("七、附件索引（原件与 SHA-256）", "h1"), pdf.table(["路径", "大小（字节）", "SHA-256"], [
        [f["path"], f["size"], f["sha256"]] for f in files] or [["无", "", ""]], _widths(2.6, 0.9, 3.3))]
    return story


def _files(records: dict[str, Any]) -> list[dict[str, Any]]:
    out = [d for loan in records["loans"] for d in loan["documents"]]
    out += [v for r in records["reimbursements"] for x in r["lines"] for v in x["vouchers"]]
    return sorted(out, key=lambda f: f["path"])


def is_split(records: dict[str, Any]) -> bool:
    return len(records["loans"]) > SPLIT_AT


def overview(records: dict[str, Any], company: str) -> bytes:
    story = _header(records, company) + _loan_list(records)
    story.append(pdf.para("三、借款明细", "h1"))
    if is_split(records):
        story.append(pdf.para("借款较多，每笔借款的明细单独成册，见“证据摘要-借款/借款单号.pdf”。"))
    else:
        for loan in records["loans"]:
            story += loan_story(loan)
    story += _tail(records, _files(records))
    e = records["employee"]
    return pdf.build(story, title=f"证据摘要 {e['name']} {e['employeeNo']}", footer=f"证据摘要 · {e['employeeNo']}")


def loan_pdf(records: dict[str, Any], loan: dict[str, Any], company: str) -> bytes:
    e = records["employee"]
    story = [pdf.para(f"借款明细 {loan['number']}", "title"),
             pdf.para(f"出具单位：{company or '（未设置公司名称）'}；出具系统：{SYSTEM_NAME}"),
             pdf.para(f"员工：{e['name']}（工号 {e['employeeNo']}），{e['department']['name']}，{e['position']['name']}")]
    story += loan_story(loan)
    return pdf.build(story, title=f"借款明细 {loan['number']}", footer=f"证据摘要 · {loan['number']}")
