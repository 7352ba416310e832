"""The access matrix: every Query and Mutation field of the served schema and every route of the app, called
by each kind of caller on real objects of the demo company, against a table written here by hand.

An operation or route the table does not list fails `test_every_operation_and_route_has_a_row`, naming it:
add its row (in ROWS or ROUTE_ROWS) with the outcome you expect for each caller.

Callers (columns, in this order):
  anon   nobody logged in
  own    王强 wangqiang (E006, 销售部, EMPLOYEE): the subject — every object below is his
  other  冯磊 fenglei (E021, 技术部, EMPLOYEE): someone else's object
  sup    张伟 zhangwei (E003, SUPERVISOR): 王强's supervisor
  supx   郑强 zhengqiang (E020, SUPERVISOR of 技术部): not 王强's supervisor
  fin    孙丽 sunli (E017, FINANCE)
  hr     吴芳 wufang (E019, HR)
  admin  the system administrator (ADMIN, no employee record)
  aud    钱慎 qianshen (E029, AUDITOR)

GraphQL outcomes: ok (an answer), null (hidden: no error, no object), or the error's extensions.code —
UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, VALIDATION, INVALID_TRANSITION, CONFLICT ...; `any` is a caller who
passes authorization but whose business outcome depends on what the earlier allowed caller did (not one of
UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, null).
Route outcomes: the HTTP status, `login` for a redirect to the login page, `any` as above (not 401/403/404,
not the login page).

Mutations run the refused callers first and the allowed ones last, so a refusal is checked against the
object before anyone changes it. Rows marked `fresh` get a new token per caller (logout and friends).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType, get_named_type
from starlette.routing import Mount, Route

from server.auth import SESSION_COOKIE
from server.models import Employee, Notification, User
from server.services import alerts, sessions
from server.services.base import SYSTEM, today
from tests.factories import PASSWORD
from tests.services.test_reimbursements import png_bytes

CALLERS = ("anon", "own", "other", "sup", "supx", "fin", "hr", "admin", "aud")
USERNAMES = {"own": "wangqiang", "other": "fenglei", "sup": "zhangwei", "supx": "zhengqiang", "fin": "sunli",
             "hr": "wufang", "admin": "admin", "aud": "qianshen"}
DENIED = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "null", "hidden", "401", "403", "404", "login"}
U, F, N = "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"
_SHORT = {"U": U, "F": F, "N": N, "V": "VALIDATION", "IT": "INVALID_TRANSITION", "C": "CONFLICT"}

Args = Callable[["World", str], Awaitable[dict[str, Any]]]


def _expect(spec: str) -> dict[str, str]:
    cells = spec.split()
    assert len(cells) == len(CALLERS), f"{spec!r}: one cell per caller {CALLERS}"
    return {caller: _SHORT.get(cell, cell) for caller, cell in zip(CALLERS, cells, strict=True)}


@dataclass
class Row:
    kind: str  # "Query" | "Mutation"
    name: str
    expect: dict[str, str]
    args: Args | dict[str, Any] = field(default_factory=dict)
    fresh: bool = False  # a new token per call: the call may revoke it
    # A list: (the world's object, the selection): `ok` when the answer holds that object, `hidden` when not.
    sees: tuple[str, str] | None = None
    # A batch mutation answers per item: the outcome is the (single) item's error code, or ok.
    batch: bool = False


def q(name: str, spec: str, args: Args | dict[str, Any] | None = None, sees: str | None = None) -> Row:
    """`sees="loan_open"`: a list answered `ok` only when it holds that object (`hidden` otherwise)."""
    selection = None
    if sees is not None:
        selection = LIST_SELECTION.get(name, "{ edges { node { id } } }")
    return Row("Query", name, _expect(spec), args or {}, sees=(sees, selection) if sees and selection else None)


LIST_SELECTION = {name: "{ id }" for name in ("employees", "pendingLoanApprovals", "pendingReimbursementApprovals",
                                               "pendingLoanExtensionApprovals",
                                               "pendingWriteOffs", "importReports", "channels", "webhookEndpoints")}


def m(name: str, spec: str, args: Args | dict[str, Any] | None = None, *, fresh: bool = False,
      batch: bool = False) -> Row:
    return Row("Mutation", name, _expect(spec), args or {}, fresh, batch=batch)


def ids(name: str, arg: str, **extra: Any) -> Args:
    """`{arg: [<id of the world's object name>]}`: a batch of one."""

    async def build(world: World, caller: str) -> dict[str, Any]:
        return {arg: [str(await world.get(name))], **extra}

    return build


def later(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


def obj(name: str, arg: str = "id", **extra: Any) -> Args:
    """`{arg: <id of the world's object name>}` plus constant arguments."""

    async def build(world: World, caller: str) -> dict[str, Any]:
        return {arg: str(await world.get(name)), **extra}

    return build


def per_caller(make: Callable[[str, int], dict[str, Any]]) -> Args:
    """Arguments unique to each call (codes, numbers), so an allowed second caller is not a duplicate."""
    counter = itertools.count(1)

    async def build(world: World, caller: str) -> dict[str, Any]:
        return make(caller, next(counter))

    return build


def day(n: int = 1) -> str:
    return (today() - timedelta(days=n)).isoformat()


LOAN_INPUT = {"input": {"amount": "100.00", "purpose": "CLIENT_VISIT", "description": "拜访客户"}}
CLAIM = {"input": {"lines": [{"category": "CLIENT_VISIT", "amount": "20.00", "incurredOn": day(),
                              "description": "客户拜访"}]}}
CSV_FILE = ("people.csv", b"employeeNo,name\n", "text/csv")


# ------------------------------------------------------------------------------------------------- the table
#                                            anon own other sup supx fin hr admin aud
ROWS: list[Row] = [
    q("me",                                   "U ok ok ok ok ok ok ok ok"),
    q("employee",                             "U ok F ok F ok ok ok ok", obj("subject")),
    q("employeeByNo",                         "U ok F ok F ok ok ok ok", {"employeeNo": "E006"}),
    q("employees",                            "U ok hidden ok hidden ok ok ok ok", sees="subject"),
    q("employeesPage",                        "U ok hidden ok hidden ok ok ok ok", sees="subject"),
    q("employeeCount",                        "U ok ok ok ok ok ok ok ok"),
    q("departments",                          "U ok ok ok ok ok ok ok ok"),
    q("regions",                              "U ok ok ok ok ok ok ok ok"),
    q("positions",                            "U ok ok ok ok ok ok ok ok"),
    q("loan",                                 "U ok F ok F ok ok ok ok", obj("loan_open")),
    q("loans",                                "U ok hidden ok hidden ok ok ok ok", sees="loan_open"),
    q("pendingLoanApprovals",                 "U hidden hidden ok hidden hidden hidden hidden hidden", sees="loan_pending"),
    q("loanApprovalInbox",                    "U hidden hidden ok hidden hidden hidden hidden hidden", sees="loan_pending"),
    q("openLoansByOverdue",                   "U ok ok ok ok ok ok ok ok"),
    q("loanPreview",                          "U ok ok ok ok ok ok F ok", {"amount": "100.00"}),
    q("reimbursement",                        "U ok F ok F ok ok ok ok", obj("reimbursement")),
    q("pendingReimbursementApprovals",        "U hidden hidden ok hidden hidden hidden hidden hidden", sees="reimbursement"),
    q("reimbursementApprovalInbox",           "U hidden hidden ok hidden hidden hidden hidden hidden", sees="reimbursement"),
    q("reimbursements",                       "U ok hidden ok hidden ok ok ok ok", sees="reimbursement"),
    q("offsetPreview",                        "U ok ok ok ok ok ok F ok", {"total": "10.00"}),
    # The alert's recipients (finance, HR, admin) and the roles that see everything; not the subject himself.
    q("alerts",                               "U hidden hidden hidden hidden ok ok ok ok", sees="alert"),
    q("notifications",                        "U ok hidden hidden hidden hidden hidden hidden hidden", sees="notification"),
    q("unreadNotificationCount",              "U ok ok ok ok ok ok ok ok"),
    q("job",                                  "U null null null null ok ok ok ok", obj("job")),
    q("companySettings",                      "U ok ok ok ok ok ok ok ok"),
    q("pendingWriteOffs",                     "U F F F F ok F ok F", sees="loan_write_off"),
    q("mySessions",                           "U ok ok ok ok ok ok ok ok"),
    q("myTokens",                             "U ok ok ok ok ok ok ok ok"),
    q("loanLedger",                           "U F F F F ok F ok ok", sees="loan_open"),
    q("reimbursementLedger",                  "U F F F F ok F ok ok", sees="reimbursement"),
    q("auditLog",                             "U F F F F F F ok ok"),
    q("auditObjectTypes",                     "U F F F F F F ok ok"),
    q("lastAuditVerification",                "U F F F F F F null null"),
    q("runningAuditVerification",             "U F F F F F F null null"),
    q("certificateVerification",              "null null null null null null null null null",
      {"code": "NO-SUCH-CODE"}),
    q("evidencePackage",                      "U F F F F ok ok ok ok", obj("evidence")),
    q("channels",                             "U F F F F F F ok F", sees="channel"),
    q("deliveries",                           "U F F F F F F ok F"),
    # A static vocabulary and a flag that is false for anybody not logged in: nothing to hide from anonymous.
    q("importKinds",                          "ok ok ok ok ok ok ok ok ok"),
    q("importReports",                        "U hidden hidden hidden hidden hidden ok ok hidden", sees="import_report"),
    q("importReport",                         "U null null null null null ok ok null", obj("import_report")),
    q("riskBreakdown",                        "U F F ok ok ok ok ok ok", {"dimension": "DEPARTMENT"}),
    q("analytics",                            "U F F ok ok ok ok ok ok"),
    q("webhookEndpoints",                     "U F F F F F F ok F", sees="webhook"),
    q("webhookDeliveries",                    "U F F F F F F ok F"),
    q("journalExport",                        "U F F F F ok F ok ok",
      {"from": day(30), "to": day(0), "layout": "KINGDEE"}),
    q("bankBatchFile",                        "U F F F F ok F F F", {"format": "CSV"}),
    q("salaryDeductionCheck",                 "U F F F F ok F F F", obj("loan_open", "loanId", amount="10.00")),
    q("loanSalaryDeductions",                 "U ok F ok F ok ok ok ok", obj("loan_open", "loanId")),
    q("viewerCanRunRiskScan",                 "ok ok ok ok ok ok ok ok ok"),
    # ---- mutations
    m("login",                                "ok ok ok ok ok ok ok ok ok",
      {"username": "wangqiang", "password": "demo1234"}),
    m("upsertDepartment",                     "U F F F F F ok ok F", {"code": "OPS", "name": "运营部"}),
    m("upsertRegion",                         "U F F F F F ok ok F", {"code": "SE", "name": "华东区"}),
    m("upsertPosition",                       "U F F F F F F ok F", {"input": {
        "code": "OPS", "name": "运营专员", "level": 3, "loanLimit": "3000.00", "approvalChain": ["SUPERVISOR"],
        "settleDays": 15}}),
    m("createEmployee",                       "U F F F F F ok ok F", per_caller(lambda caller, n: {"input": {
        "employeeNo": f"X{n:03d}", "name": "新员工", "departmentCode": "SALES", "regionCode": "XA",
        "positionCode": "SALES", "monthlySalary": "6000.00", "hireDate": "2026-01-05",
        "username": f"newbie{n}", "password": "Newbie-pass-2026", "roles": ["EMPLOYEE"]}})),
    m("updateEmployee",                       "U F F F F F ok ok F", obj("subject", input={"name": "王强"})),
    m("applyForLoan",                         "U ok ok ok ok ok ok F ok", LOAN_INPUT),
    m("decideLoan",                           "U F F ok F F F F F", obj("loan_to_decide", "loanId",
                                                                          decision="APPROVE")),
    m("cancelLoan",                           "U ok F F F F F F F", obj("loan_to_cancel", "loanId")),
    m("decideLoans",                          "U F F ok F F F F F", ids("loan_to_batch", "loanIds",
                                                                          decision="APPROVE"), batch=True),
    m("decideReimbursements",                 "U F F ok F F F F F", ids("reimbursement_to_batch",
                                                                          "reimbursementIds", decision="REJECT",
                                                                          comment="不符"), batch=True),
    m("requestLoanExtension",                 "U ok F F F F F F F", obj("loan_to_extend", "loanId",
                                                                          newDate=later(90), reason="客户回款延后")),
    m("decideLoanExtension",                  "U F F ok F F F F F", obj("extension", "extensionId",
                                                                          decision="APPROVE")),
    q("pendingLoanExtensionApprovals",        "U hidden hidden ok hidden hidden hidden hidden hidden",
      sees="extension_pending"),
    q("deputySettings",                       "U ok ok ok ok ok ok ok ok"),
    m("setDeputy",                            "U F F ok ok F F F F", {"deputyNo": "E017", "startsOn": later(0),
                                                                      "endsOn": later(7)}),
    # Nothing to clear for someone who may not name a deputy: null, as for an approver without one.
    m("clearDeputy",                          "U null null ok ok null null null null"),
    m("disburseLoan",                         "U F F F F ok F F F", obj("loan_approved", "loanId")),
    m("settleLoan",                           "U F F F F ok F F F", obj("loan_open", "loanId",
                                                                          method="CASH_RETURN", amount="10.00")),
    m("submitReimbursement",                  "U ok ok ok ok ok ok F ok", CLAIM),
    m("decideReimbursement",                  "U F F ok F F F F F", obj("reimbursement_to_decide",
                                                                          "reimbursementId", decision="APPROVE")),
    m("payReimbursement",                     "U F F F F ok F F F", obj("reimbursement_approved",
                                                                          "reimbursementId")),
    m("resolveAlert",                         "U F F F F ok any any F", obj("alert", "alertId", note="已处理")),
    m("holdVouchers",                         "U ok ok ok ok ok ok F ok", {"files": [("v.png", png_bytes(5), "image/png")]}),
    m("markNotificationRead",                 "U ok F F F F F F F", obj("notification", "notificationId")),
    m("verifyAuditChain",                     "U F F F F F F ok ok"),
    m("setCompanySetting",                    "U F F F F F F ok F", {"key": "FOUR_EYES_PAYOUT", "value": False}),
    m("proposeWriteOff",                      "U F F F F ok F F F", obj("loan_open", "loanId", amount="10.00",
                                                                          reason="无法收回")),
    m("rejectWriteOff",                       "U F F F F F F ok F", obj("loan_open", "loanId", comment="不同意")),
    m("approveWriteOff",                      "U F F F F F F ok F", obj("loan_write_off", "loanId")),
    m("reverseSettlement",                    "U F F F F ok F F F", obj("settlement", "settlementId",
                                                                          reason="录错")),
    m("revokeSession",                        "U ok N N N N N N N", obj("subject_session")),
    m("revokeToken",                          "U ok N N N N N N N", obj("subject_token")),
    m("requestEvidencePackage",               "U F F F F ok ok ok ok", obj("subject", "employeeId")),
    m("createChannel",                        "U F F F F F F ok F", per_caller(lambda caller, n: {"input": {
        "kind": "EMAIL", "name": f"财务邮箱{n}", "target": "ops@example.com", "enabled": True,
        "digestMinutes": 60, "includeDetails": False}})),
    m("updateChannel",                        "U F F F F F F ok F", obj("channel", input={"enabled": True})),
    m("testSendChannel",                      "U F F F F F F ok F", obj("channel")),
    m("deleteChannel",                        "U F F F F F F ok F", obj("channel")),
    m("importCsv",                            "U F F F F F ok ok F", {"kind": "EMPLOYEES", "file": CSV_FILE,
                                                                       "dryRun": True}),
    m("issueSetPasswordLinks",                "U F F F F F any any F", obj("import_report", "importId")),
    m("generateRiskReport",                   "U F F F F ok F ok F", {"month": "2026-10"}),
    m("createWebhookEndpoint",                "U F F F F F F ok F", {"input": {"url": "https://erp.example.com/hook"}}),
    m("updateWebhookEndpoint",                "U F F F F F F ok F", obj("webhook", enabled=True)),
    m("replayWebhookDelivery",                "U F F F F F F N F", {"id": "999999"}),
    m("setPayeeAccount",                      "U ok F F F F ok F F", obj("subject", "employeeId", input={
        "accountName": "王强", "accountNo": "6222020200112233445", "bank": "中国工商银行西安分行"})),
    q("payeeAccount",                         "U ok N ok N ok ok ok ok", obj("subject", "employeeId")),
    m("recordDeductionConsent",               "U F F F F N N F F", {"ledgerEntryId": "999999", "note": "同意"}),
    m("confirmSalaryDeduction",               "U N N N N N N N N", {"ledgerEntryId": "999999"}),
    m("recordBusinessRecord",                 "U F F F F ok ok ok F", per_caller(lambda caller, n: {"input": {
        "employeeNo": "E006", "kind": "CONTRACT", "reference": f"HT-{n}", "amount": "1000.00",
        "signedOn": day(3)}})),
    m("runRiskScan",                          "U F F F F ok F ok F"),
    # ---- offboarding (last: an open offboarding changes what 王强 may still do)
    m("startOffboarding",                     "U ok F F F F C F F", obj("subject", "employeeId",
                                                                          lastWorkingDay=day(-30))),
    q("offboarding",                          "U ok F ok F ok ok ok ok", obj("offboarding")),
    q("offboardings",                         "U ok hidden ok hidden ok ok ok ok", sees="offboarding"),
    q("clearanceCertificate",                 "U C F C F C C C C", obj("offboarding", "offboardingId")),
    m("confirmClearance",                     "U F F F F any F F F", obj("offboarding", "offboardingId")),
    m("completeOffboarding",                  "U F F F F F any F F", obj("offboarding", "offboardingId")),
    m("cancelOffboarding",                    "U F F F F F ok F F", obj("offboarding", "offboardingId")),
    # ---- the caller's own account (last: these revoke tokens and change passwords)
    m("logout",                               "U ok ok ok ok ok ok ok ok", fresh=True),
    m("changePassword",                       "U V V V V V V V V", {"currentPassword": "wrong-password",
                                                                    "newPassword": "Changed-pass-2026"}),
    m("resetPassword",                        "U F F F F F F ok F", obj("subject", "employeeId",
                                                                          newPassword="Reset-pass-2026")),
    m("logoutEverywhere",                     "U ok ok ok ok ok ok ok ok", fresh=True),
]

# Routes: (method, path as in the route table) -> (the URL called, its {name} parts filled from the world),
# expected outcome per caller. POSTs are sent with the caller's CSRF token and no other field; a refused
# caller must be refused before any form is read.
#                                                                              anon  own other sup supx fin hr admin aud
ROUTE_ROWS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/graphql"): ("/graphql?query=%7B__typename%7D", "200 200 200 200 200 200 200 200 200"),
    ("POST", "/graphql"): ("/graphql", "400 400 400 400 400 400 400 400 400"),
    ("GET", "/healthz"): ("/healthz", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/static"): ("/static/app.css", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/"): ("/", "login 200 200 200 200 200 200 200 200"),
    ("GET", "/login"): ("/login", "200 303 303 303 303 303 303 303 303"),
    ("POST", "/login"): ("/login", "403 401|429 401|429 401|429 401|429 401|429 401|429 401|429 401|429"),
    ("POST", "/logout"): ("/logout", "403 login login login login login login login login"),
    ("POST", "/locale"): ("/locale", "403 303 303 303 303 303 303 303 303"),
    ("GET", "/account/security"): ("/account/security", "login 200 200 200 200 200 200 200 200"),
    ("POST", "/account/password"): ("/account/password", "403 400 400 400 400 400 400 400 400"),
    ("POST", "/account/signout-everywhere"): ("/account/signout-everywhere", "403 login login login login login login login login"),
    ("POST", "/account/{kind}/{item_id}/revoke"): ("/account/session/{subject_session}/revoke", "403 404 404 404 404 404 404 404 404"),
    ("GET", "/loans"): ("/loans", "login 200 200 200 200 200 200 403 200"),
    ("GET", "/loans/new"): ("/loans/new", "login 200 200 200 200 200 200 403 200"),
    ("POST", "/loans/new"): ("/loans/new", "403 422 422 422 422 422 422 403 422"),
    ("GET", "/loans/{loan_id}"): ("/loans/{loan_open}", "login 200 403 200 403 200 200 200 200"),
    ("GET", "/loans/{loan_id}/print"): ("/loans/{loan_open}/print", "login 200 403 200 403 200 200 200 200"),
    ("GET", "/loans/{loan_id}/deductions"): ("/loans/{loan_open}/deductions", "login 200 403 200 403 200 200 200 200"),
    ("POST", "/loans/{loan_id}/deductions/{entry_id}/consent"): ("/loans/{loan_open}/deductions/999999/consent", "403 422 403 422 403 422 422 422 422"),
    ("POST", "/loans/{loan_id}/cancel"): ("/loans/{loan_open}/cancel", "403 409 403 403 403 403 403 403 403"),
    ("POST", "/loans/{loan_id}/settlements/{settlement_id}/reverse"): ("/loans/{loan_open}/settlements/{settlement}/reverse", "403 404 403 404 403 404 404 404 404"),
    ("POST", "/loans/{loan_id}/write-off/approve"): ("/loans/{loan_open}/write-off/approve", "403 403 403 403 403 422 403 422 403"),
    ("POST", "/loans/{loan_id}/write-off/reject"): ("/loans/{loan_open}/write-off/reject", "403 403 403 403 403 422 403 422 403"),
    ("GET", "/approvals"): ("/approvals", "login 200 200 200 200 200 200 200 200"),
    ("POST", "/approvals/batch"): ("/approvals/batch", "403 422 422 422 422 422 422 422 422"),
    ("POST", "/approvals/reimbursements/batch"): ("/approvals/reimbursements/batch", "403 422 422 422 422 422 422 422 422"),
    ("GET", "/approvals/extensions"): ("/approvals/extensions", "login 200 200 200 200 200 200 200 200"),
    ("GET", "/loans/{loan_id}/extensions"): ("/loans/{loan_open}/extensions", "login 200 403 200 403 200 200 200 200"),
    # An empty form: who may see the loan is told what the form lacks (422), the others get 403; the decision
    # route refuses a form without a decision (400) before anything else (decideLoanExtension's row decides).
    ("POST", "/loans/{loan_id}/extensions"): ("/loans/{loan_open}/extensions", "403 422 403 422 403 422 422 422 422"),
    ("POST", "/loans/{loan_id}/extensions/{extension_id}"): ("/loans/{loan_open}/extensions/{extension}", "403 400 400 400 400 400 400 400 400"),
    ("GET", "/account/deputy"): ("/account/deputy", "login 200 200 200 200 200 200 200 200"),
    # Someone without SUPERVISOR steps is told so on the form (422, the service refused); clearing is a no-op.
    ("POST", "/account/deputy"): ("/account/deputy", "403 422 422 422 422 422 422 422 422"),
    ("POST", "/account/deputy/clear"): ("/account/deputy/clear", "403 303 303 303 303 303 303 303 303"),
    ("POST", "/approvals/{loan_id}"): ("/approvals/{loan_pending_late}", "403 422 422 303 422 303 422 422 422"),
    ("GET", "/finance"): ("/finance", "login 403 403 403 403 200 403 200 403"),
    ("GET", "/finance/journal"): ("/finance/journal", "login 403 403 403 403 200 403 200 200"),
    ("GET", "/finance/journal/download"): ("/finance/journal/download", "login 403 403 403 403 200 403 200 200"),
    ("GET", "/finance/bank-batch"): ("/finance/bank-batch", "login 403 403 403 403 200 403 403 403"),
    ("GET", "/account/payee"): ("/account/payee", "login 200 200 200 200 200 200 404 200"),
    ("POST", "/account/payee"): ("/account/payee", "403 422 422 422 422 422 422 404 422"),
    ("POST", "/finance/{loan_id}/disburse"): ("/finance/{loan_open}/disburse", "403 403 403 403 403 422 403 422 403"),
    ("POST", "/finance/{loan_id}/settle"): ("/finance/{loan_open}/settle", "403 403 403 403 403 303 403 422 403"),
    ("GET", "/finance/{loan_id}/deduction-check"): ("/finance/{loan_open}/deduction-check", "login 200 200 200 200 200 200 200 200"),
    ("GET", "/files/{file_id}/{name}"): ("{voucher_url}", "login 200 404 200 404 200 200 200 200"),
    ("GET", "/reimbursements"): ("/reimbursements", "login 200 200 200 200 200 200 403 200"),
    ("GET", "/reimbursements/new"): ("/reimbursements/new", "login 200 200 200 200 200 200 403 200"),
    ("POST", "/reimbursements/new"): ("/reimbursements/new", "403 422 422 422 422 422 422 403 422"),
    ("GET", "/reimbursements/new/line"): ("/reimbursements/new/line", "login 303 303 303 303 303 303 303 303"),
    ("GET", "/reimbursements/new/line/remove"): ("/reimbursements/new/line/remove", "login 303 303 303 303 303 303 303 303"),
    ("GET", "/reimbursements/new/offsets"): ("/reimbursements/new/offsets", "login 303 303 303 303 303 303 303 303"),
    ("GET", "/reimbursements/{reimbursement_id}"): ("/reimbursements/{reimbursement}", "login 200 403 200 403 200 200 200 200"),
    ("GET", "/reimbursements/{reimbursement_id}/print"): ("/reimbursements/{reimbursement}/print", "login 200 403 200 403 200 200 200 200"),
    ("GET", "/approvals/reimbursements"): ("/approvals/reimbursements", "login 200 200 200 200 200 200 200 200"),
    ("POST", "/approvals/reimbursements/{reimbursement_id}"): ("/approvals/reimbursements/{reimbursement_pending}", "403 422 422 303 422 303 422 422 422"),
    ("GET", "/finance/reimbursements"): ("/finance/reimbursements", "login 403 403 403 403 200 403 200 403"),
    ("POST", "/finance/reimbursements/{reimbursement_id}/pay"): ("/finance/reimbursements/{reimbursement}/pay", "403 403 403 403 403 422 403 422 403"),
    ("GET", "/offboarding"): ("/offboarding", "login 200 200 200 200 200 200 200 200"),
    ("GET", "/offboarding/new"): ("/offboarding/new", "login 403 403 403 403 403 200 403 403"),
    ("POST", "/offboarding/new"): ("/offboarding/new", "403 422 422 422 422 422 422 422 422"),
    ("GET", "/offboarding/resign"): ("/offboarding/resign", "login 200 200 200 200 200 200 403 200"),
    ("POST", "/offboarding/resign"): ("/offboarding/resign", "403 422 422 422 422 422 422 403 422"),
    ("GET", "/offboarding/{offboarding_id}"): ("/offboarding/{offboarding}", "login 200 403 200 403 200 200 200 200"),
    ("POST", "/offboarding/{offboarding_id}/loans/{loan_id}/settle"): ("/offboarding/{offboarding}/loans/{loan_open}/settle", "403 400 400 400 400 400 400 400 400"),
    ("POST", "/offboarding/{offboarding_id}/confirm"): ("/offboarding/{offboarding}/confirm", "403 403 403 403 403 409 403 403 403"),
    ("POST", "/offboarding/{offboarding_id}/complete"): ("/offboarding/{offboarding}/complete", "403 403 403 403 403 403 409 403 403"),
    ("POST", "/offboarding/{offboarding_id}/cancel"): ("/offboarding/{offboarding}/cancel", "403 403 403 403 403 403 409 403 403"),
    ("GET", "/offboarding/{offboarding_id}/certificate"): ("/offboarding/{offboarding}/certificate", "login 409 403 409 403 409 409 409 409"),
    ("GET", "/verify/{code}"): ("/verify/NO-SUCH-CODE", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/alerts"): ("/alerts", "login 200 200 200 200 200 200 200 200"),
    ("POST", "/alerts/{alert_id}/resolve"): ("/alerts/{alert}/resolve", "403 403 403 403 403 409 409 409 403"),
    ("POST", "/alerts/scan"): ("/alerts/scan", "403 403 403 403 403 303 403 303 403"),
    ("GET", "/notifications"): ("/notifications", "login 200 200 200 200 200 200 200 200"),
    ("POST", "/notifications/{notification_id}/read"): ("/notifications/{notification}/read", "403 303 403 403 403 403 403 403 403"),
    ("GET", "/employees/{employee_id}/evidence"): ("/employees/{subject}/evidence", "login 403 403 403 403 200 200 200 200"),
    ("POST", "/employees/{employee_id}/evidence"): ("/employees/{subject}/evidence", "403 403 403 403 403 303 303 303 303"),
    ("GET", "/evidence/verify"): ("/evidence/verify", "login 200 200 200 200 200 200 200 200"),
    ("POST", "/evidence/verify"): ("/evidence/verify", "403 422 422 422 422 422 422 422 422"),
    ("GET", "/evidence/{package_id}"): ("/evidence/{evidence}", "login 403 403 403 403 200 200 200 200"),
    ("GET", "/evidence/{package_id}/download"): ("/evidence/{evidence}/download", "login 403 403 403 403 409 409 409 409"),
    ("GET", "/ledger"): ("/ledger", "login 403 403 403 403 200 403 200 200"),
    ("GET", "/ledger/export.{kind}"): ("/ledger/export.csv", "login 403 403 403 403 200 403 200 200"),
    ("GET", "/ledger/reimbursements"): ("/ledger/reimbursements", "login 403 403 403 403 200 403 200 200"),
    ("GET", "/ledger/reimbursements/export.{kind}"): ("/ledger/reimbursements/export.csv", "login 403 403 403 403 200 403 200 200"),
    ("GET", "/audit"): ("/audit", "login 403 403 403 403 403 403 200 200"),
    ("GET", "/audit/export.csv"): ("/audit/export.csv", "login 403 403 403 403 403 403 200 200"),
    ("POST", "/audit/verify"): ("/audit/verify", "403 403 403 403 403 403 403 303 303"),
    ("GET", "/admin"): ("/admin", "login 303 303 303 303 303 303 303 303"),
    ("GET", "/admin/positions"): ("/admin/positions", "login 200 200 200 200 200 200 200 200"),
    ("POST", "/admin/positions"): ("/admin/positions", "403 422 422 422 422 422 422 422 422"),
    ("GET", "/admin/positions/new"): ("/admin/positions/new", "login 200 200 200 200 200 200 200 200"),
    ("GET", "/admin/positions/{code}"): ("/admin/positions/SALES", "login 200 200 200 200 200 200 200 200"),
    ("GET", "/admin/employees"): ("/admin/employees", "login 200 200 200 200 200 200 200 200"),
    ("POST", "/admin/employees"): ("/admin/employees", "403 422 422 422 422 422 422 422 422"),
    ("GET", "/admin/employees/{employee_id}"): ("/admin/employees/{subject}", "login 200 403 200 403 200 200 200 200"),
    ("GET", "/admin/employees/{employee_id}/supervisors"): ("/admin/employees/{subject}/supervisors?supervisor_q=%E5%BC%A0", "login 303 403 303 403 303 303 303 303"),
    ("POST", "/admin/employees/{employee_id}"): ("/admin/employees/{subject}", "403 422 403 422 403 422 422 422 422"),
    ("GET", "/admin/settings"): ("/admin/settings", "login 200 200 200 200 200 200 200 200"),
    ("POST", "/admin/settings"): ("/admin/settings", "403 403 403 403 403 403 403 422 403"),
    ("GET", "/imports"): ("/imports", "login 403 403 403 403 200 200 200 403"),
    ("POST", "/imports"): ("/imports", "403 403 403 403 403 400 400 400 403"),
    ("GET", "/imports/templates/{kind}"): ("/imports/templates/employees.csv", "login 200 200 200 200 200 200 200 200"),
    ("GET", "/imports/{report_id}"): ("/imports/{import_report}", "login 404 404 404 404 404 200 200 404"),
    ("POST", "/imports/{report_id}/links"): ("/imports/{import_report}/links", "403 403 403 403 403 403 200 200 403"),
    ("GET", "/set-password/{token}"): ("/set-password/no-such-token", "404 404 404 404 404 404 404 404 404"),
    ("POST", "/set-password/{token}"): ("/set-password/no-such-token", "403 404 404 404 404 404 404 404 404"),
    ("GET", "/admin/channels"): ("/admin/channels", "login 403 403 403 403 403 403 200 403"),
    ("POST", "/admin/channels"): ("/admin/channels", "403 403 403 403 403 403 403 422 403"),
    ("POST", "/admin/channels/{channel_id}"): ("/admin/channels/{channel}", "403 403 403 403 403 403 403 422 403"),
    ("GET", "/notifications/bell"): ("/notifications/bell", "login 200 200 200 200 200 200 200 200"),
    ("GET", "/admin/webhooks"): ("/admin/webhooks", "login 403 403 403 403 403 403 200 403"),
    ("POST", "/admin/webhooks"): ("/admin/webhooks", "403 403 403 403 403 403 403 422 403"),
    ("POST", "/admin/webhooks/deliveries/{delivery_id}/replay"): ("/admin/webhooks/deliveries/999999/replay", "403 403 403 403 403 403 403 422 403"),
    ("POST", "/admin/webhooks/{endpoint_id}"): ("/admin/webhooks/{webhook}", "403 403 403 403 403 403 403 303 403"),
    ("POST", "/admin/settings/risk"): ("/admin/settings/risk", "403 422 422 422 422 422 422 422 422"),
    ("GET", "/employees/{employee_id}/risk"): ("/employees/{subject}/risk", "login 200 403 200 403 200 200 200 200"),
    ("POST", "/employees/{employee_id}/business"): ("/employees/{subject}/business", "403 422 403 422 403 422 422 422 422"),
    ("GET", "/admin/{kind}"): ("/admin/departments", "login 200 200 200 200 200 200 200 200"),
    ("POST", "/admin/{kind}"): ("/admin/departments", "403 403 403 403 403 403 422 422 403"),
    ("GET", "/analytics"): ("/analytics", "login 403 403 200 200 200 200 200 200"),
    ("GET", "/analytics/export/{name}.{fmt}"): ("/analytics/export/all.xlsx", "login 403 403 200 200 200 200 200 200"),
    ("POST", "/analytics/reports"): ("/analytics/reports", "403 403 403 403 403 400 403 400 403"),
    ("GET", "/analytics/reports/{month}.{fmt}"): ("/analytics/reports/2026-10.pdf", "login 403 403 403 403 404 404 404 404"),
    ("GET", "/analytics/reports/{month}"): ("/analytics/reports/2026-10", "login 403 403 403 403 404 404 404 404"),
}

# A form sent with the POST instead of none: a refusal must come from the service, not from a missing field.
# (The approval inboxes show a refused decision inline, as 422 with the service's message: "不能审批自己的申请",
# "当前审批步骤需要 SUPERVISOR"; only 张伟, then 孙丽 at the finance step, get the 303 of a decision taken.)
ROUTE_FORMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/approvals/{loan_id}"): {"decision": "APPROVE", "comment": "同意"},
    ("POST", "/approvals/reimbursements/{reimbursement_id}"): {"decision": "APPROVE"},
    ("POST", "/finance/{loan_id}/settle"): {"method": "CASH_RETURN", "amount": "1.00", "note": "收据"},
    ("POST", "/loans/{loan_id}/settlements/{settlement_id}/reverse"): {"reason": "录错"},
    ("POST", "/loans/{loan_id}/write-off/reject"): {"comment": "不同意"},
    ("POST", "/alerts/{alert_id}/resolve"): {"note": "已处理"},
}


# ------------------------------------------------------------------------------------------------- the world

class World:
    """The demo company's people and, built on first use, each object a row names."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}
        self.objects: dict[str, Any] = {}
        self.builders: dict[str, Callable[[], Awaitable[Any]]] = {
            name.removeprefix("make_"): getattr(self, name) for name in dir(self) if name.startswith("make_")}

    async def get(self, name: str) -> Any:
        if name not in self.objects:
            self.objects[name] = await self.builders[name]()
        return self.objects[name]

    async def token(self, caller: str) -> str:
        if caller not in self.tokens:
            self.tokens[caller] = await sessions.issue_token(await User.get(username=USERNAMES[caller]))
        return self.tokens[caller]

    async def gql(self, query: str, variables: dict | None = None, caller: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self.token(caller)}"} if caller else {}
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                          headers=headers)
        return response.json()

    async def ok(self, query: str, variables: dict | None = None, caller: str | None = None) -> dict[str, Any]:
        body = await self.gql(query, variables, caller)
        assert not body.get("errors"), (query, body["errors"])
        return body["data"]

    # --- the objects, all 王强's
    async def make_subject(self) -> int:
        return (await Employee.get(employee_no="E006")).id

    async def _apply(self, amount: str = "100.00") -> str:
        data = await self.ok("mutation($a:Decimal!){applyForLoan(input:{amount:$a,purpose:CLIENT_VISIT,"
                             "description:\"拜访客户\"}){id status}}", {"a": amount}, "own")
        assert data["applyForLoan"]["status"] == "PENDING_APPROVAL", data
        return data["applyForLoan"]["id"]

    async def _decide_loan(self, loan_id: str, caller: str) -> None:
        await self.ok("mutation($id:ID!){decideLoan(loanId:$id,decision:APPROVE){id}}", {"id": loan_id}, caller)

    async def _finance_approver(self) -> str:
        # 赵敏 (E016) approves the finance step, so 孙丽 (the `fin` caller) stays free to pay out.
        if "zhaomin" not in self.tokens:
            self.tokens["zhaomin"] = await sessions.issue_token(await User.get(username="zhaomin"))
        USERNAMES.setdefault("zhaomin", "zhaomin")
        return "zhaomin"

    async def make_loan_pending(self) -> str:
        return await self._apply()

    async def make_loan_pending_late(self) -> str:
        """Pending at 张伟 for the pages (starting 王强's offboarding cancelled his earlier applications)."""
        return await self._apply()

    async def make_loan_to_decide(self) -> str:
        return await self._apply()

    async def make_loan_to_cancel(self) -> str:
        return await self._apply()

    async def make_loan_approved(self) -> str:
        loan_id = await self._apply("300.00")
        await self._decide_loan(loan_id, "sup")
        await self._decide_loan(loan_id, await self._finance_approver())
        return loan_id

    async def make_loan_open(self) -> str:
        loan_id = await self.make_loan_approved()
        await self.ok("mutation($id:ID!){disburseLoan(loanId:$id){id}}", {"id": loan_id}, "fin")
        return loan_id

    async def make_loan_write_off(self) -> str:
        loan_id = await self.make_loan_open()
        await self.ok("mutation($id:ID!){proposeWriteOff(loanId:$id,amount:\"10.00\",reason:\"无法收回\"){id}}",
                      {"id": loan_id}, "fin")
        return loan_id

    async def make_settlement(self) -> str:
        loan_id = await self.make_loan_open()
        data = await self.ok("mutation($id:ID!){settleLoan(loanId:$id,method:CASH_RETURN,amount:\"20.00\","
                             "note:\"收据\"){ledger{id kind}}}", {"id": loan_id}, "fin")
        return next(e["id"] for e in data["settleLoan"]["ledger"] if e["kind"] == "CASH_RETURN")

    async def make_reimbursement(self) -> str:
        """With one voucher, so its download URL is a route of the matrix too."""
        await self.get("loan_open")  # offsets against it
        query = ("mutation($input:ReimbursementInput!){submitReimbursement(input:$input){id "
                 "lines{vouchers{id url}}}}")
        variables = json.loads(json.dumps(CLAIM))
        variables["input"]["lines"][0]["vouchers"] = [None]
        response = await self.client.post(
            "/graphql", headers={"Authorization": f"Bearer {await self.token('own')}"},
            data={"operations": json.dumps({"query": query, "variables": variables}),
                  "map": json.dumps({"0": ["variables.input.lines.0.vouchers.0"]})},
            files={"0": ("receipt.png", png_bytes(3), "image/png")})
        body = response.json()
        assert not body.get("errors"), body
        self.objects["voucher_url"] = body["data"]["submitReimbursement"]["lines"][0]["vouchers"][0]["url"]
        return body["data"]["submitReimbursement"]["id"]

    async def make_voucher_url(self) -> str:
        await self.get("reimbursement")
        return self.objects["voucher_url"]

    async def make_reimbursement_pending(self) -> str:
        return await self._submit()

    async def _submit(self) -> str:
        data = await self.ok("mutation($input:ReimbursementInput!){submitReimbursement(input:$input){id}}",
                             CLAIM, "own")
        return data["submitReimbursement"]["id"]

    async def make_reimbursement_to_decide(self) -> str:
        return await self._submit()

    async def make_reimbursement_to_batch(self) -> str:
        return await self._submit()

    async def make_loan_to_batch(self) -> str:
        return await self._apply()

    async def make_loan_to_extend(self) -> str:
        return await self.make_loan_open()  # a disbursed loan of his own, not the shared one

    async def _extension(self) -> str:
        loan_id = await self.make_loan_open()
        data = await self.ok("mutation($id:ID!,$d:Date!){requestLoanExtension(loanId:$id,newDate:$d,"
                             "reason:\"客户回款延后\"){id}}", {"id": loan_id, "d": later(60)}, "own")
        return data["requestLoanExtension"]["id"]

    async def make_extension(self) -> str:
        return await self._extension()

    async def make_extension_pending(self) -> str:
        return await self._extension()

    async def make_reimbursement_approved(self) -> str:
        """Approved with something to pay: 冯磊's claim (he owes nothing; 王强's would be fully offset against his
        open loans, and a fully offset claim is PAID at its approval)."""
        data = await self.ok("mutation($input:ReimbursementInput!){submitReimbursement(input:$input){id}}",
                             CLAIM, "other")
        rid = data["submitReimbursement"]["id"]
        for caller in ("supx", await self._finance_approver()):
            await self.ok("mutation($id:ID!){decideReimbursement(reimbursementId:$id,decision:APPROVE){id}}",
                          {"id": rid}, caller)
        return rid

    async def make_alert(self) -> int:
        raised = await alerts.raise_alert(
            SYSTEM, kind="OVERDUE", severity="WARNING", message="逾期", dedupe_key="matrix-1",
            employee_id=await self.get("subject"), recipients=await alerts.role_recipients("FINANCE", "HR", "ADMIN"))
        return raised.alert.id

    async def make_notification(self) -> int:
        await self.get("loan_open")  # its decisions notified him
        user = await User.get(username="wangqiang")
        row = await Notification.filter(user_id=user.id).order_by("id").first()
        assert row is not None, "王强 was notified of nothing"
        return row.id

    async def make_job(self) -> str:
        return (await self.ok("mutation{runRiskScan{id}}", None, "fin"))["runRiskScan"]["id"]

    async def make_evidence(self) -> str:
        data = await self.ok("mutation($e:ID!){requestEvidencePackage(employeeId:$e){id}}",
                             {"e": str(await self.get("subject"))}, "fin")
        return data["requestEvidencePackage"]["id"]

    async def make_import_report(self) -> str:
        query = "mutation($f:Upload!){importCsv(kind:EMPLOYEES,file:$f,dryRun:true){id}}"
        response = await self.client.post(
            "/graphql", headers={"Authorization": f"Bearer {await self.token('hr')}"},
            data={"operations": json.dumps({"query": query, "variables": {"f": None}}),
                  "map": json.dumps({"0": ["variables.f"]})}, files={"0": CSV_FILE})
        body = response.json()
        assert not body.get("errors"), body
        return body["data"]["importCsv"]["id"]

    async def make_channel(self) -> str:
        data = await self.ok("mutation{createChannel(input:{kind:EMAIL,name:\"审计邮箱\",target:\"audit@example.com\","
                             "enabled:true,digestMinutes:60,includeDetails:false}){id}}", None, "admin")
        return data["createChannel"]["id"]

    async def make_webhook(self) -> str:
        data = await self.ok("mutation{createWebhookEndpoint(input:{url:\"https://erp.example.com/matrix\"})"
                             "{endpoint{id}}}", None, "admin")
        return data["createWebhookEndpoint"]["endpoint"]["id"]

    async def make_subject_session(self) -> int:
        _, session = await sessions.create_session(await User.get(username="wangqiang"), 1)
        return session.id

    async def make_subject_token(self) -> int:
        user = await User.get(username="wangqiang")
        await sessions.issue_token(user)
        rows = await self.ok("{myTokens{id}}", None, "own")
        return max(int(t["id"]) for t in rows["myTokens"])

    async def make_offboarding(self) -> str:
        data = await self.ok("{offboardings(first:5){edges{node{id status employee{employeeNo}}}}}", None, "hr")
        found = [e["node"]["id"] for e in data["offboardings"]["edges"] if e["node"]["employee"]["employeeNo"] == "E006"]
        assert found, "no offboarding of 王强: the startOffboarding row makes it (run the whole module, in order)"
        return found[0]


# ------------------------------------------------------------------------------------------------- running

def _document(kind: str, name: str, variables: dict[str, Any], selection: str | None = None) -> str:
    from schema import schema

    root = schema._schema.query_type if kind == "Query" else schema._schema.mutation_type
    fld = root.fields[name]
    declared = ", ".join(f"${a}: {fld.args[a].type}" for a in variables)
    passed = ", ".join(f"{a}: ${a}" for a in variables)
    if selection is not None:
        selection = " " + selection
    else:
        selection = " { __typename }" if isinstance(get_named_type(fld.type), GraphQLObjectType) else ""
    op = "query" if kind == "Query" else "mutation"
    return f"{op}{'(' + declared + ')' if declared else ''} {{ {name}{'(' + passed + ')' if passed else ''}{selection} }}"


def _outcome(body: dict[str, Any], name: str) -> str:
    if body.get("errors"):
        return (body["errors"][0].get("extensions") or {}).get("code") or "ERROR:" + body["errors"][0]["message"]
    return "null" if (body.get("data") or {}).get(name) is None else "ok"


async def _call(world: World, row: Row, caller: str) -> str:
    variables = await row.args(world, caller) if callable(row.args) else dict(row.args)
    wanted = str(await world.get(row.sees[0])) if row.sees else None  # built before the list is asked for
    # Uploads per the GraphQL multipart spec: a variable that is a file, or a list of files.
    files = {k: v for k, v in variables.items() if isinstance(v, tuple)}
    files |= {f"{k}.{i}": f for k, v in variables.items() if isinstance(v, list)
              for i, f in enumerate(v) if isinstance(f, tuple)}
    plain = {k: (None if k in files else [None] * len(v) if isinstance(v, list) and f"{k}.0" in files else v)
             for k, v in variables.items()}
    query = _document(row.kind, row.name, variables,
                      "{ ok error { code } }" if row.batch else row.sees[1] if row.sees else None)
    headers = {}
    if caller != "anon":
        token = (await sessions.issue_token(await User.get(username=USERNAMES[caller]))) if row.fresh \
            else await world.token(caller)
        headers["Authorization"] = f"Bearer {token}"
    if files:
        response = await world.client.post("/graphql", headers=headers, data={
            "operations": json.dumps({"query": query, "variables": plain}),
            "map": json.dumps({str(i): [f"variables.{k}"] for i, k in enumerate(files)})},
            files={str(i): spec for i, spec in enumerate(files.values())})
    else:
        response = await world.client.post("/graphql", json={"query": query, "variables": plain}, headers=headers)
    assert response.status_code in (200, 400), (row.name, caller, response.status_code, response.text[:300])
    got = _outcome(response.json(), row.name)
    if got == "ok" and row.batch:
        (item,) = response.json()["data"][row.name]
        got = "ok" if item["ok"] else item["error"]["code"]
    if got == "ok" and wanted is not None:
        got = "ok" if wanted in _ids(response.json()["data"]) else "hidden"
    return got


def _ids(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {str(v) for k, v in value.items() if k == "id"} | {i for v in value.values() for i in _ids(v)}
    if isinstance(value, list):
        return {i for v in value for i in _ids(v)}
    return set()


def _matches(expected: str, got: str) -> bool:
    if expected == "any":
        return got not in DENIED
    return got in expected.split("|")


def _order(row: Row) -> list[str]:
    """Refused callers first: nobody allowed has touched the object yet."""
    if row.kind == "Query":
        return list(CALLERS)
    return sorted(CALLERS, key=lambda c: row.expect[c] not in DENIED)


@pytest.fixture(scope="module")
async def world(app, database):
    from tortoise.contrib.test import truncate_all_models

    from server.demo import org as demo_org
    from server.services import org

    await truncate_all_models()
    await demo_org.seed()
    await org.create_admin("admin", PASSWORD, SYSTEM, enforce_policy=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as client:
        yield World(client)
    await truncate_all_models()


CONVERTER = re.compile(r"\{(\w+):\w+\}")


def _route_keys(app) -> set[tuple[str, str]]:
    keys = set()
    for route in app.routes:
        if isinstance(route, Mount):
            keys.add(("GET", route.path))
        elif isinstance(route, Route):
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    keys.add((method, CONVERTER.sub(r"{\1}", route.path)))
    return keys


def test_every_operation_and_route_has_a_row(app):
    from schema import schema

    served = {("Query", n) for n in schema._schema.query_type.fields} | \
             {("Mutation", n) for n in schema._schema.mutation_type.fields}
    listed = [(r.kind, r.name) for r in ROWS]
    assert len(listed) == len(set(listed)), "a row is listed twice"
    missing = sorted(served - set(listed))
    assert not missing, "operations without a row in ROWS (add one with each caller's expected outcome): " + \
        ", ".join(f"{k} {n}" for k, n in missing)
    assert not set(listed) - served, f"rows for operations the schema does not serve: {set(listed) - served}"
    routes = _route_keys(app)
    missing_routes = sorted(routes - set(ROUTE_ROWS))
    assert not missing_routes, "routes without a row in ROUTE_ROWS: " + \
        ", ".join(f"{m} {p}" for m, p in missing_routes)
    assert not set(ROUTE_ROWS) - routes, f"rows for routes the app does not have: {set(ROUTE_ROWS) - routes}"


async def test_graphql_access_matrix(world):
    mismatches = []
    for row in ROWS:
        for caller in _order(row):
            got = await _call(world, row, caller)
            if not _matches(row.expect[caller], got):
                mismatches.append(f"{row.kind} {row.name}: {caller} expected {row.expect[caller]}, got {got}")
    assert not mismatches, f"{len(mismatches)} cells differ:\n" + "\n".join(mismatches)


PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def _route_outcome(response: httpx.Response) -> str:
    if response.status_code in (302, 303) and response.headers.get("location", "").startswith("/login"):
        return "login"
    return str(response.status_code)


# Run last: the sign-out and password rows revoke the caller's sessions.
_LAST = [("POST", "/account/password"), ("POST", "/account/signout-everywhere"), ("POST", "/logout")]


async def test_route_access_matrix(world, app):
    """After the GraphQL matrix (its objects exist): each route per caller, a fresh browser session per call."""
    world.tokens.clear()  # the GraphQL matrix ended by revoking them; objects built from here need new ones
    mismatches, table = [], []
    reading: dict[str, tuple[str, Any]] = {}
    keys = sorted(ROUTE_ROWS, key=lambda k: (k in _LAST, k[0] != "GET", k))
    for method, path in keys:
        template, spec = ROUTE_ROWS[(method, path)]
        expect = _expect(spec)
        url = template
        for name in PARAM.findall(template):
            url = url.replace("{" + name + "}", str(await world.get(name)), 1)
        got_row = []
        for caller in CALLERS:
            headers, cookies = {}, {}
            if caller != "anon":
                if method != "GET" or caller not in reading:  # a GET changes no session: one per caller
                    reading[caller] = await sessions.create_session(await User.get(username=USERNAMES[caller]), 1)
                key, session = reading.pop(caller) if method != "GET" else reading[caller]
                cookies[SESSION_COOKIE] = key
                headers["x-csrf-token"] = session.csrf_token
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver",
                                         cookies=cookies) as browser:
                response = await browser.request(method, url, headers=headers,
                                                 data=ROUTE_FORMS.get((method, path)) if method == "POST" else None)
            got = _route_outcome(response)
            got_row.append(got)
            if not _matches(expect[caller], got):
                text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style|header)[^>]*>.*?</\1>",
                                                                            "", response.text)))
                mismatches.append(f"{method} {path} ({url}): {caller} expected {expect[caller]}, got {got}"
                                  f" — {text.strip()[:160]}")
        table.append(f'    ("{method}", "{path}"): ("{template}", "{" ".join(got_row)}"),')
    assert not mismatches, f"{len(mismatches)} cells differ:\n" + "\n".join(mismatches) + \
        "\n\nactual:\n" + "\n".join(table)
