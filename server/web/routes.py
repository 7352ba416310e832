"""The pages' explicit route table. Every endpoint goes through `view()`: viewer, CSRF on POST, errors."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from server.web import account, admin, alerts, home, loans, offboarding, reimbursements, risk
from server.web.core import view


def web_routes() -> list[Any]:
    return [
        Route("/", view(home.home), methods=["GET"]),
        Route("/login", view(account.login_page, login=False), methods=["GET"]),
        Route("/login", view(account.login_submit, login=False), methods=["POST"]),
        Route("/logout", view(account.logout, login=False), methods=["POST"]),
        Route("/locale", view(account.switch_locale, login=False), methods=["POST"]),
        Route("/account/security", view(account.security_page), methods=["GET"]),
        Route("/account/password", view(account.change_password), methods=["POST"]),
        Route("/account/signout-everywhere", view(account.sign_out_everywhere), methods=["POST"]),
        Route("/account/{kind:str}/{item_id:str}/revoke", view(account.revoke), methods=["POST"]),
        # loans
        Route("/loans", view(loans.my_loans), methods=["GET"]),
        Route("/loans/new", view(loans.apply_page), methods=["GET"]),
        Route("/loans/new", view(loans.apply_submit), methods=["POST"]),
        Route("/loans/{loan_id}", view(loans.loan_page), methods=["GET"]),
        Route("/loans/{loan_id}/cancel", view(loans.cancel), methods=["POST"]),
        Route("/loans/{loan_id}/settlements/{settlement_id}/reverse", view(loans.reverse), methods=["POST"]),
        Route("/loans/{loan_id}/write-off/approve", view(loans.approve_write_off), methods=["POST"]),
        Route("/loans/{loan_id}/write-off/reject", view(loans.reject_write_off), methods=["POST"]),
        Route("/approvals", view(loans.inbox), methods=["GET"]),
        Route("/approvals/{loan_id}", view(loans.decide), methods=["POST"]),
        Route("/finance", view(loans.finance_page), methods=["GET"]),
        Route("/finance/{loan_id}/disburse", view(loans.disburse), methods=["POST"]),
        Route("/finance/{loan_id}/settle", view(loans.settle), methods=["POST"]),
        # login=False: the handler accepts a bearer token as well as the session cookie
        Route("/files/{file_id}/{name}", view(loans.download, login=False), methods=["GET"]),
        # reimbursements (报销冲借款)
        Route("/reimbursements", view(reimbursements.my_reimbursements), methods=["GET"]),
        Route("/reimbursements/new", view(reimbursements.new_page), methods=["GET"]),
        Route("/reimbursements/new", view(reimbursements.submit, max_files=reimbursements.FORM_MAX_FILES),
              methods=["POST"]),
        Route("/reimbursements/new/line", view(reimbursements.new_line), methods=["GET"]),
        Route("/reimbursements/new/line/remove", view(reimbursements.remove_line), methods=["GET"]),
        Route("/reimbursements/new/offsets", view(reimbursements.offsets_panel), methods=["GET"]),
        Route("/reimbursements/{reimbursement_id}", view(reimbursements.detail), methods=["GET"]),
        Route("/approvals/reimbursements", view(reimbursements.inbox), methods=["GET"]),
        Route("/approvals/reimbursements/{reimbursement_id}", view(reimbursements.decide), methods=["POST"]),
        Route("/finance/reimbursements", view(reimbursements.finance_page), methods=["GET"]),
        Route("/finance/reimbursements/{reimbursement_id}/pay", view(reimbursements.pay), methods=["POST"]),
        # offboarding (离职清款)
        Route("/offboarding", view(offboarding.offboarding_list), methods=["GET"]),
        Route("/offboarding/new", view(offboarding.start_page), methods=["GET"]),
        Route("/offboarding/new", view(offboarding.start_submit), methods=["POST"]),
        Route("/offboarding/resign", view(offboarding.resign_page), methods=["GET"]),
        Route("/offboarding/resign", view(offboarding.resign_submit), methods=["POST"]),
        Route("/offboarding/{offboarding_id}", view(offboarding.clearance), methods=["GET"]),
        Route("/offboarding/{offboarding_id}/loans/{loan_id}/settle", view(offboarding.settle), methods=["POST"]),
        Route("/offboarding/{offboarding_id}/confirm", view(offboarding.confirm), methods=["POST"]),
        Route("/offboarding/{offboarding_id}/complete", view(offboarding.complete), methods=["POST"]),
        Route("/offboarding/{offboarding_id}/cancel", view(offboarding.cancel), methods=["POST"]),
        Route("/offboarding/{offboarding_id}/certificate", view(offboarding.certificate), methods=["GET"]),
        # alerts and notifications
        Route("/alerts", view(alerts.alerts_page), methods=["GET"]),
        Route("/alerts/{alert_id}/resolve", view(alerts.resolve), methods=["POST"]),
        Route("/alerts/scan", view(alerts.run_scan), methods=["POST"]),
        Route("/notifications", view(alerts.notifications_page), methods=["GET"]),
        Route("/notifications/{notification_id}/read", view(alerts.mark_read), methods=["POST"]),
        # organization (ADMIN, HR)
        Route("/admin", view(admin.admin_index), methods=["GET"]),
        Route("/admin/positions", view(admin.positions_page), methods=["GET"]),
        Route("/admin/positions", view(admin.position_save), methods=["POST"]),
        Route("/admin/positions/new", view(admin.position_edit), methods=["GET"]),
        Route("/admin/positions/{code}", view(admin.position_edit), methods=["GET"]),
        Route("/admin/employees", view(admin.employees_page), methods=["GET"]),
        Route("/admin/employees", view(admin.employee_create), methods=["POST"]),
        Route("/admin/employees/{employee_id}", view(admin.employee_edit), methods=["GET"]),
        Route("/admin/employees/{employee_id}", view(admin.employee_update), methods=["POST"]),
        Route("/admin/settings", view(admin.settings_page), methods=["GET"]),
        Route("/admin/settings", view(admin.settings_save), methods=["POST"]),
        Route("/admin/settings/risk", view(risk.save_risk_setting), methods=["POST"]),
        Route("/employees/{employee_id}/risk", view(risk.employee_risk), methods=["GET"]),
        Route("/employees/{employee_id}/business", view(risk.record_business), methods=["POST"]),
        Route("/admin/{kind:str}", view(admin.codes_page), methods=["GET"]),
        Route("/admin/{kind:str}", view(admin.codes_save), methods=["POST"]),
    ]
