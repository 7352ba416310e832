"""Building and advancing an approval chain (the same engine for loans and reimbursements)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from server.domain.errors import DomainError, Forbidden, InvalidTransition, ValidationFailed
from server.domain.messages import Message, _m
from server.domain.roles import ALL_ROLES, AUDITOR, EMPLOYEE, SUPERVISOR
from server.domain.vocab import Decision, LoanStatus

APPROVE = Decision.APPROVE
REJECT = Decision.REJECT
# Stored as the step's comment (a text column) and translated when shown (schema: step comment).
SKIPPED_NO_SUPERVISOR = _m("无直属上级，跳过此步").msgid


@dataclass
class Step:
    order: int
    role: str
    approver_employee_id: int | None = None  # fixed for SUPERVISOR steps, else whoever decides
    decided_by_user_id: int | None = None
    decision: str | None = None
    comment: str | None = None
    decided_at: datetime | None = None
    skipped: bool = False


@dataclass(frozen=True)
class Actor:
    user_id: int
    employee_id: int | None
    roles: frozenset[str] = field(default_factory=frozenset)


def validate_chain(chain: list[str]) -> list[str]:
    if not chain:
        raise ValidationFailed(_m("审批链至少需要一步"), field="approvalChain")
    for role in chain:
        if role not in ALL_ROLES:
            raise ValidationFailed(_m("审批链中有未知角色 %(role)s", role=role), field="approvalChain")
        if role in (EMPLOYEE, AUDITOR):
            raise ValidationFailed(
                _m("审批链不能包含 %(role)s 步骤", role=role), field="approvalChain")
    if len(set(chain)) != len(chain):
        raise ValidationFailed(
            _m("审批链中同一角色不能出现两次"), field="approvalChain")
    if len(chain) > 6:
        raise ValidationFailed(_m("审批链最多 6 步"), field="approvalChain")
    return list(chain)


def build_chain(chain: list[str], supervisor_employee_id: int | None) -> list[Step]:
    steps: list[Step] = []
    for order, role in enumerate(chain, start=1):
        if role == SUPERVISOR:
            if supervisor_employee_id is None:
                steps.append(Step(order, role, skipped=True, comment=SKIPPED_NO_SUPERVISOR))
            else:
                steps.append(Step(order, role, approver_employee_id=supervisor_employee_id))
        else:
            steps.append(Step(order, role))
    return steps


def current_step(steps: list[Step]) -> Step | None:
    """The first step still waiting for a decision, or None when the chain has ended."""
    for step in sorted(steps, key=lambda s: s.order):
        if step.skipped:
            continue
        if step.decision == REJECT:
            return None
        if step.decision is None:
            return step
    return None


def earlier_deciders(steps: list[Step], step: Step) -> list[int | None]:
    """Accounts that decided another step of the chain (one person, one step)."""
    return [s.decided_by_user_id for s in steps if s.order != step.order and s.decision is not None]


def can_decide(step: Step, actor: Actor, applicant_employee_id: int, steps: list[Step] | None = None) -> bool:
    if actor.employee_id is not None and actor.employee_id == applicant_employee_id:
        return False  # nobody approves their own application
    if steps is not None and actor.user_id and actor.user_id in earlier_deciders(steps, step):
        return False  # one person, one step: the later step waits for another holder
    if step.role == SUPERVISOR:
        return actor.employee_id is not None and actor.employee_id == step.approver_employee_id
    return step.role in actor.roles


def decide_refusal(steps: list[Step], actor: Actor, applicant_employee_id: int) -> DomainError | None:
    """Why `actor` may not decide the chain's current step now, or None when they may."""
    step = current_step(steps)
    if step is None:
        return InvalidTransition(_m("审批流程已结束"))
    if actor.employee_id is not None and actor.employee_id == applicant_employee_id:
        return Forbidden(_m("不能审批自己的申请"))
    if actor.user_id and actor.user_id in earlier_deciders(steps, step):
        return Forbidden(_m("同一审批链中每人只能审批一步"))
    if not can_decide(step, actor, applicant_employee_id):
        return Forbidden(_m("当前审批步骤需要 %(role)s", role=step.role))
    return None


def decide(
    steps: list[Step], actor: Actor, applicant_employee_id: int, decision: str, comment: str | None,
    now: datetime,
) -> tuple[Step, str | None]:
    """Record `actor`'s decision on the current step.

    Returns the step decided and the outcome: "APPROVED" when the chain is complete,
    "REJECTED" on a rejection, None while steps remain.
    """
    if decision not in (APPROVE, REJECT):
        raise ValidationFailed(_m("未知的审批决定 %(decision)s", decision=decision), field="decision")
    refusal = decide_refusal(steps, actor, applicant_employee_id)
    if refusal is not None:
        raise refusal
    step = current_step(steps)
    assert step is not None  # decide_refusal refuses an ended chain
    if decision == REJECT and not (comment or "").strip():
        raise ValidationFailed(_m("驳回需要填写意见"), field="comment")
    step.decision = decision
    step.comment = (comment or "").strip() or None
    step.decided_at = now
    step.decided_by_user_id = actor.user_id or None
    if decision == REJECT:
        return step, LoanStatus.REJECTED
    return step, (LoanStatus.APPROVED if current_step(steps) is None else None)


def chain_outcome(steps: list[Step]) -> str | None:
    """APPROVED when every non-skipped step approved (or none was needed), REJECTED, else None."""
    if any(s.decision == REJECT for s in steps):
        return LoanStatus.REJECTED
    if current_step(steps) is None:
        return LoanStatus.APPROVED
    return None


# ---------------------------------------------------------------- batch decisions

BATCH_MAX = 100  # items per batch decision: each is its own transaction and audit entry


def check_batch(ids: list[str]) -> list[str]:
    """The ids of a batch decision, duplicates dropped in order; refused when empty or over BATCH_MAX."""
    unique = list(dict.fromkeys(str(i) for i in ids))
    if not unique:
        raise ValidationFailed(_m("请至少选择一项"), field="ids")
    if len(unique) > BATCH_MAX:
        raise ValidationFailed(_m("一次最多批量处理 %(max)s 项", max=BATCH_MAX), field="ids")
    return unique


def batch_warning(alerts: int = 0, duplicates: int = 0, missing_vouchers: int = 0) -> Message | None:
    """Why an item may not be approved in a batch (what the inbox shows as a warning), or None.

    Unresolved risk alerts on the loan or its applicant, an invoice or voucher also used elsewhere,
    a line without a voucher: a person looks at such an item and decides it alone."""
    if alerts:
        return _m("有 %(n)s 条未处理的预警，请逐笔审批", n=alerts)
    if duplicates:
        return _m("有 %(n)s 行发票号或凭证重复，请逐笔审批", n=duplicates)
    if missing_vouchers:
        return _m("有 %(n)s 行没有凭证，请逐笔审批", n=missing_vouchers)
    return None


# ---------------------------------------------------------------- re-routing SUPERVISOR steps


def pick_approver(candidates: list[int], usable: set[int], applicant_employee_id: int,
                  excluded: set[int] | None = None) -> int | None:
    """Who takes over a waiting SUPERVISOR step: the first of `candidates` (the new supervisor, then the
    one above, and so on up) who can still decide (`usable`: an active account), is not the applicant
    (nobody approves their own money) and did not decide another step of the chain (`excluded`).
    None when nobody is left: the step then stays where it is and its blocked reason says why."""
    skip = excluded or set()
    for candidate in candidates:
        if candidate == applicant_employee_id or candidate in skip or candidate not in usable:
            continue
        return candidate
    return None


# ---------------------------------------------------------------- deputies

MAX_DEPUTY_DAYS = 180


def deputy_refusal(approver_employee_id: int | None, deputy_employee_id: int, deputy_usable: bool,
                   starts_on: date, ends_on: date, today: date) -> DomainError | None:
    """Why an approver may not name this deputy for this period, or None.

    Never oneself; only someone who can still decide (an active account); a period from today or
    later, at most MAX_DEPUTY_DAYS long. Whether the deputy may take a given step (never their own
    application, never a second step of one chain) is decided per step by pick_approver."""
    if approver_employee_id is None:
        return Forbidden(_m("该账号没有员工档案，不能指定代理人"))
    if deputy_employee_id == approver_employee_id:
        return ValidationFailed(_m("不能指定自己为代理人"), field="deputyId")
    if not deputy_usable:
        return ValidationFailed(_m("代理人须为在职且账号可用的员工"), field="deputyId")
    if starts_on < today:
        return ValidationFailed(_m("代理开始日期不能早于今天"), field="startsOn")
    if ends_on < starts_on:
        return ValidationFailed(_m("代理结束日期不能早于开始日期"), field="endsOn")
    if (ends_on - starts_on).days + 1 > MAX_DEPUTY_DAYS:
        return ValidationFailed(_m("代理期限最长 %(days)s 天", days=MAX_DEPUTY_DAYS), field="endsOn")
    return None
