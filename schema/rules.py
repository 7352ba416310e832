"""Validation rules of our own, added to graphql-core's."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule

from server.domain.messages import _m


class NoNulInStrings(ValidationRule):
    """A string literal in the document may not hold NUL (written "\\u0000"): text columns cannot store it.

    Variables are checked, with the whole JSON body, by the HTTP view (server/app.py).
    """

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if "\x00" in node.value:
            message = _m("字符串含有 NUL 字符")
            self.report_error(GraphQLError(str(message), node, extensions={"messageId": message.msgid, "params": {}}))
