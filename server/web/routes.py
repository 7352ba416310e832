"""The pages' explicit route table. Every endpoint goes through `view()`: viewer, CSRF on POST, errors."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from server.web import (
    account,
    admin,
    alerts,
    analytics,
    audit_log,
    deductions,
    delivery,
    evidence,
    home,
    imports,
    journal,
    ledger,
    loans,
    offboarding,
    payees,
    print_forms,
    reimbursements,
    risk,
    webhooks,
)
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
        Route("/loans/{loan_id}/print", view(print_forms.loan_form), methods=["GET"]),
        Route("/loans/{loan_id}/deductions", view(deductions.deductions_fragment), methods=["GET"]),
        Route("/loans/{loan_id}/deductions/{entry_id}/consent", view(deductions.deduction_consent), methods=["POST"]),
        Route("/loans/{loan_id}/cancel", view(loans.cancel), methods=["POST"]),
        Route("/loans/{loan_id}/settlements/{settlement_id}/reverse", view(loans.reverse), methods=["POST"]),
        Route("/loans/{loan_id}/write-off/approve", view(loans.approve_write_off), methods=["POST"]),
        Route("/loans/{loan_id}/write-off/reject", view(loans.reject_write_off), methods=["POST"]),
        Route("/approvals", view(loans.inbox), methods=["GET"]),
        Route("/approvals/batch", view(loans.decide_batch), methods=["POST"]),  # before /approvals/{loan_id}
        Route("/approvals/{loan_id}", view(loans.decide), methods=["POST"]),
        Route("/finance", view(loans.finance_page), methods=["GET"]),
        Route("/finance/journal", view(journal.journal_page), methods=["GET"]),
        Route("/finance/journal/download", view(journal.journal_download), methods=["GET"]),
        Route("/finance/bank-batch", view(payees.bank_batch_download), methods=["GET"]),
        Route("/account/payee", view(payees.payee_page), methods=["GET"]),
        Route("/account/payee", view(payees.payee_save), methods=["POST"]),
        Route("/finance/{loan_id}/disburse", view(loans.disburse), methods=["POST"]),
        Route("/finance/{loan_id}/settle", view(loans.settle), methods=["POST"]),
        Route("/finance/{loan_id}/deduction-check", view(deductions.deduction_check), methods=["GET"]),
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
        Route("/reimbursements/{reimbursement_id}/print", view(print_forms.reimbursement_form), methods=["GET"]),
        Route("/approvals/reimbursements", view(reimbursements.inbox), methods=["GET"]),
        Route("/approvals/reimbursements/batch", view(reimbursements.decide_batch), methods=["POST"]),
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
        # public: a certificate's verification code (no login)
        Route("/verify/{code:str}", view(offboarding.verify_certificate, login=False), methods=["GET"]),
        # alerts and notifications
        Route("/alerts", view(alerts.alerts_page), methods=["GET"]),
        Route("/alerts/{alert_id}/resolve", view(alerts.resolve), methods=["POST"]),
        Route("/alerts/scan", view(alerts.run_scan), methods=["POST"]),
        Route("/notifications", view(alerts.notifications_page), methods=["GET"]),
        Route("/notifications/{notification_id}/read", view(alerts.mark_read), methods=["POST"]),
        # evidence packages (证据包)
        Route("/employees/{employee_id}/evidence", view(evidence.request_page), methods=["GET"]),
        Route("/employees/{employee_id}/evidence", view(evidence.request_submit), methods=["POST"]),
        Route("/evidence/verify", view(evidence.verify_page), methods=["GET"]),
        Route("/evidence/verify", view(evidence.verify_submit, max_files=evidence.VERIFY_MAX_FILES), methods=["POST"]),
        Route("/evidence/{package_id:int}", view(evidence.package_page), methods=["GET"]),
        # login=False: the handler accepts a bearer token as well as the session cookie
        Route("/evidence/{package_id:int}/download", view(evidence.download, login=False), methods=["GET"]),
        # 借款台账 / 报销台账 (VIEW_LEDGER)
        Route("/ledger", view(ledger.loans_page), methods=["GET"]),
        Route("/ledger/export.{kind:str}", view(ledger.loans_export), methods=["GET"]),
        Route("/ledger/reimbursements", view(ledger.reimbursements_page), methods=["GET"]),
        Route("/ledger/reimbursements/export.{kind:str}", view(ledger.reimbursements_export), methods=["GET"]),
        # 审计日志 (VIEW_AUDIT_LOG)
        Route("/audit", view(audit_log.audit_page), methods=["GET"]),
        Route("/audit/export.csv", view(audit_log.export), methods=["GET"]),
        Route("/audit/verify", view(audit_log.verify), methods=["POST"]),
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
        # imports (导入) and the set-password links of imported accounts
        Route("/imports", view(imports.imports_page), methods=["GET"]),
        Route("/imports", view(imports.import_submit, max_files=imports.MAX_FILES), methods=["POST"]),
        Route("/imports/templates/{kind:str}", view(imports.template), methods=["GET"]),
        Route("/imports/{report_id:str}", view(imports.report_page), methods=["GET"]),
        Route("/imports/{report_id:str}/links", view(imports.issue_links), methods=["POST"]),
        Route("/set-password/{token:str}", view(imports.set_password_page, login=False), methods=["GET"]),
        Route("/set-password/{token:str}", view(imports.set_password_submit, login=False), methods=["POST"]),
        Route("/admin/settings", view(admin.settings_save), methods=["POST"]),
        # delivery channels (ADMIN) and the bell's polled fragment
        Route("/admin/channels", view(delivery.channels_page), methods=["GET"]),
        Route("/admin/channels", view(delivery.channel_create), methods=["POST"]),
        Route("/admin/channels/{channel_id}", view(delivery.channel_action), methods=["POST"]),
        Route("/notifications/bell", view(delivery.bell), methods=["GET"]),
        # outgoing webhooks (issue 15, erp)
        Route("/admin/webhooks", view(webhooks.webhooks_page), methods=["GET"]),
        Route("/admin/webhooks", view(webhooks.webhook_create), methods=["POST"]),
        Route("/admin/webhooks/deliveries/{delivery_id}/replay", view(webhooks.delivery_replay), methods=["POST"]),
        Route("/admin/webhooks/{endpoint_id}", view(webhooks.webhook_update), methods=["POST"]),
        Route("/admin/settings/risk", view(risk.save_risk_setting), methods=["POST"]),
        Route("/employees/{employee_id}/risk", view(risk.employee_risk), methods=["GET"]),
        Route("/employees/{employee_id}/business", view(risk.record_business), methods=["POST"]),
        Route("/admin/{kind:str}", view(admin.codes_page), methods=["GET"]),
        Route("/admin/{kind:str}", view(admin.codes_save), methods=["POST"]),
        # analytics (分析) and the monthly loan-risk reports
        Route("/analytics", view(analytics.analytics_page), methods=["GET"]),
        Route("/analytics/export/{name:str}.{fmt:str}", view(analytics.export), methods=["GET"]),
        Route("/analytics/reports", view(analytics.generate), methods=["POST"]),
        Route("/analytics/reports/{month:str}.{fmt:str}", view(analytics.report_file), methods=["GET"]),
        Route("/analytics/reports/{month:str}", view(analytics.report_page), methods=["GET"]),
    ]
