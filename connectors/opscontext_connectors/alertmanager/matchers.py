"""Alertmanager's matcher syntax (`service=~"checkout|payment"`), checked when the config is read.

A matcher Alertmanager cannot parse makes every `GET /api/v2/alerts` fail with a bare 400, so
a typo is caught at load time instead, as a config error naming the key. The grammar is the
one Alertmanager's `filter` parameter has always accepted: a label name, one of `=`, `!=`,
`=~`, `!~`, and a value, optionally double-quoted, with `\\"`, `\\n` and `\\\\` escapes.
"""

from __future__ import annotations

import re
import warnings

_MATCHER = re.compile(
    r"[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*(=~|=|!=|!~)[\t\n\f\r ]*(.*?)[\t\n\f\r ]*", re.S
)
_ESCAPES = {"n": "\n", '"': '"', "\\": "\\"}
_DIALECT_ONLY = ("bad escape", "global flags not at the start")
"""Python `re` errors about syntax Go's RE2 accepts (`\\pL`, `\\z`, inline flags mid-pattern)."""


def check_matcher(matcher: str) -> str:
    """The matcher unchanged, or `ValueError` saying what is wrong with it."""
    found = _MATCHER.fullmatch(matcher)
    if found is None:
        raise ValueError(
            f"{matcher!r} is not a matcher: expected one label, an operator (=, !=, =~, !~) and a value, "
            'e.g. service=~"checkout|payment"'
        )
    _, operator, raw = found.groups()
    value = _unquoted(raw, matcher)
    if operator in ("=~", "!~"):
        check_regex(value, f"the regex of {matcher!r}")
    return matcher


def check_regex(pattern: str, what: str = "regex") -> str:
    """The pattern unchanged, or `ValueError` for a mistake both Python and Alertmanager (RE2) refuse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Python warns on POSIX classes such as [[:alpha:]], which RE2 has
            re.compile(pattern)
    except re.error as exc:
        if not exc.msg.startswith(_DIALECT_ONLY):
            raise ValueError(f"{what} is not a valid regular expression: {exc}") from None
    return pattern


def _unquoted(raw: str, matcher: str) -> str:
    """The value as Alertmanager reads it: an unescaped `"` may only open and close it."""
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    value: list[str] = []
    escaped = closed = False
    for index, char in enumerate(body):
        last = index == len(body) - 1
        if escaped:
            escaped = False
            value.append(_ESCAPES.get(char, "\\" + char))
        elif char == "\\" and not last:
            escaped = True
        elif char == '"':
            if not quoted or not last:
                raise ValueError(f'{matcher!r}: the value has an unescaped double quote (write \\" inside it)')
            closed = True
        else:
            value.append(char)
    if quoted and not closed:
        raise ValueError(f"{matcher!r}: the value opens a double quote it does not close")
    return "".join(value)
