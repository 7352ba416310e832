"""`schema = strawberry.Schema(...)` with depth, alias and token limits.

Each area module contributes a Query and a Mutation class; they are merged here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.tools import merge_types

from schema.errors import ErrorCodes
from schema.scalars import DecimalScalar
from schema.types.alerts import AlertMutation, AlertQuery
from schema.types.corrections import CorrectionMutation, CorrectionQuery
from schema.types.jobs import JobMutation, JobQuery
from schema.types.loans import LoanMutation, LoanQuery
from schema.types.offboarding import OffboardingMutation, OffboardingQuery
from schema.types.org import OrgMutation, OrgQuery
from schema.types.reimbursements import ReimbursementMutation, ReimbursementQuery
from server.settings import get_settings

QUERIES: tuple[type, ...] = (
    OrgQuery, LoanQuery, ReimbursementQuery, OffboardingQuery, AlertQuery, JobQuery, CorrectionQuery,
)
MUTATIONS: tuple[type, ...] = (
    OrgMutation, LoanMutation, ReimbursementMutation, OffboardingMutation, AlertMutation, JobMutation,
    CorrectionMutation,
)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)


class QingkuanSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        # ErrorCodes already logged what was unexpected; domain errors are not worth a traceback.
        return None


def _limits() -> list[Any]:
    settings = get_settings()
    return [
        lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
    ]


schema = QingkuanSchema(
    query=Query, mutation=Mutation, extensions=[ErrorCodes, *_limits()],
    scalar_overrides={Decimal: DecimalScalar},
)
