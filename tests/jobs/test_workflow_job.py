"""The daily settle reminder as a real ARQ job: written once, however often it runs."""

from __future__ import annotations

from datetime import timedelta

from arq.connections import create_pool

from server.models import Loan, Notification, SettleReminder, User
from server.queue import redis_settings_for
from server.services import loans, sessions
from server.services.base import today
from tests.factories import make_org
from tests.jobs.conftest import token


async def viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def test_remind_job_runs_on_a_real_worker(db, job_settings, run_burst):
    await make_org()
    loan = await loans.apply_for_loan(await viewer("sales"), loans.LoanApplication("100.00", "TRAVEL", "出差"))
    await loans.decide_loan(await viewer("manager"), loan.id, "APPROVE")
    await loans.decide_loan(await viewer("finance"), loan.id, "APPROVE")
    await loans.disburse_loan(await viewer("finance"), loan.id)
    await Loan.filter(id=loan.id).update(expected_settle_date=today() + timedelta(days=1))
    pool = await create_pool(redis_settings_for(job_settings.redis_url), default_queue_name=job_settings.job_queue)
    try:
        for run in range(2):  # a second delivery writes nothing
            await pool.enqueue_job("remind_settle_dates", _job_id=f"remind-{token(job_settings)}-{run}")
            await run_burst()
    finally:
        await pool.aclose()
    assert await SettleReminder.filter(loan_id=loan.id).count() == 1
    reminders = await Notification.filter(title__contains="到期")
    assert [(n.link, n.user_id) for n in reminders] == [(f"/loans/{loan.id}", (await User.get(username="sales")).id)]
