"""`schema = strawberry.Schema(...)` with depth, alias and token limits.

Each area module contributes a Query and a Mutation class; they are merged here.
"""

from __future__ import annotations

import importlib
from collections import OrderedDict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.tools import merge_types

from schema.errors import ErrorCodes
from schema.rules import NoNulInStrings
from schema.scalars import DecimalScalar
from schema.types.accounts import AccountMutation, AccountQuery
from schema.types.alerts import AlertMutation, AlertQuery
from schema.types.analytics import AnalyticsMutation, AnalyticsQuery
from schema.types.approvals import ApprovalsMutation, ApprovalsQuery
from schema.types.audit_log import AuditLogQuery
from schema.types.certificates import CertificateQuery
from schema.types.company import CompanyMutation, CompanyQuery
from schema.types.corrections import CorrectionMutation, CorrectionQuery
from schema.types.deductions import DeductionMutation, DeductionQuery
from schema.types.delivery import DeliveryMutation, DeliveryQuery
from schema.types.evidence import EvidenceMutation, EvidenceQuery
from schema.types.imports import ImportMutation, ImportQuery
from schema.types.jobs import JobMutation, JobQuery
from schema.types.journal import JournalQuery
from schema.types.ledger import LedgerQuery
from schema.types.loans import LoanMutation, LoanQuery
from schema.types.offboarding import OffboardingMutation, OffboardingQuery
from schema.types.org import OrgMutation, OrgQuery
from schema.types.payees import PayeeMutation, PayeeQuery
from schema.types.reimbursements import ReimbursementMutation, ReimbursementQuery
from schema.types.risk import RiskMutation, RiskQuery
from schema.types.webhooks import WebhookMutation, WebhookQuery
from server.settings import get_settings

QUERIES: tuple[type, ...] = (
    OrgQuery, LoanQuery, ReimbursementQuery, OffboardingQuery, AlertQuery, JobQuery, CompanyQuery, CorrectionQuery,
)
MUTATIONS: tuple[type, ...] = (
    OrgMutation, LoanMutation, ReimbursementMutation, OffboardingMutation, AlertMutation, JobMutation,
    CompanyMutation, CorrectionMutation,
)
QUERIES += (AccountQuery,)
QUERIES += (LedgerQuery,)
QUERIES += (AuditLogQuery,)
QUERIES += (CertificateQuery,)
MUTATIONS += (AccountMutation,)
QUERIES += (EvidenceQuery,)
MUTATIONS += (EvidenceMutation,)
QUERIES += (DeliveryQuery,)
MUTATIONS += (DeliveryMutation,)
QUERIES += (ImportQuery,)
MUTATIONS += (ImportMutation,)
QUERIES += (AnalyticsQuery,)
MUTATIONS += (AnalyticsMutation,)
# Issue 15 part B (erp): outgoing webhooks.
QUERIES += (WebhookQuery, JournalQuery, PayeeQuery, DeductionQuery)
MUTATIONS += (WebhookMutation, PayeeMutation, DeductionMutation)
QUERIES += (RiskQuery,)
MUTATIONS += (RiskMutation,)
# Issue 12: batch decisions, deputies, settle-date extensions.
MUTATIONS += (ApprovalsMutation,)
QUERIES += (ApprovalsQuery,)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)


class QingkuanSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        # ErrorCodes already logged what was unexpected; domain errors are not worth a traceback.
        return None


class CachedValidation(SchemaExtension):
    """Validate each distinct document once per process.

    strawberry's ValidationCache keys on the validation rules too, and the depth/alias limiters build
    a new rule class for every request, so it would never hit. The rules here are fixed by the
    settings for the process's life; the key is the (cached, hence identical) parsed document.
    """

    _cache: OrderedDict[Any, list[Any]] = OrderedDict()
    MAXSIZE = 256

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        key = (id(ctx.schema), ctx.graphql_document)
        errors = self._cache.get(key)
        if errors is None:
            errors = validate_document(ctx.schema._schema, ctx.graphql_document, ctx.validation_rules)
            self._cache[key] = errors
            if len(self._cache) > self.MAXSIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        ctx.pre_execution_errors = list(errors)
        yield


def _limits() -> list[Any]:
    settings = get_settings()
    return [
        lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
    ]


def show_schema_hints(debug: bool) -> None:
    """"Did you mean …" suggestions only with DEBUG: clients read the published schema.graphql.

    graphql-core builds every suggestion (fields, arguments, enum values, input fields, types) with
    `did_you_mean`, which offers none when its MAX_LENGTH is 0; strawberry's validation call has no
    `hide_suggestions` argument to pass instead.
    """
    # The module, not the function of the same name that graphql.pyutils exports.
    importlib.import_module("graphql.pyutils.did_you_mean").MAX_LENGTH = 5 if debug else 0
    # Validation errors are cached per document (CachedValidation): those worded the other way are stale.
    CachedValidation._cache.clear()


def _introspection() -> list[Any]:
    # Introspection (and GraphiQL, which needs it) only with DEBUG or GRAPHQL_INTROSPECTION.
    settings = get_settings()
    return [] if settings.debug or settings.graphql_introspection else [DisableIntrospection]


show_schema_hints(get_settings().debug)

schema = QingkuanSchema(
    query=Query, mutation=Mutation,
    # Parsing and validating the same documents again on every request was half of a page's Python time.
    extensions=[ErrorCodes, *_introspection(), *_limits(), lambda: AddValidationRules([NoNulInStrings]),
                lambda: ParserCache(maxsize=256), CachedValidation],
    scalar_overrides={Decimal: DecimalScalar},
    config=StrawberryConfig(disable_field_suggestions=not get_settings().debug),
)
