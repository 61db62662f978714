"""Dynatrace selector syntax: every value that goes into one is quoted, so no value can change it.

Inside a quoted selector value a tilde escapes the two characters that would end or escape it,
`~` and `"`; commas and parentheses in quotes are plain text. Entity ids read from Dynatrace are
also checked against the form Dynatrace gives them (`SERVICE-5A1B2C3D4E5F6071`) before they are
put in a selector, and a selector is never longer than Dynatrace accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

MAX_SELECTOR_CHARS = 2000
"""Dynatrace refuses a longer entitySelector; lists of ids are split across requests to stay inside it."""
ENTITY_ID = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9A-Za-z]{1,64}$")


def quoted(value: str) -> str:
    """`value` as a quoted selector string: `team "a"~b` becomes `"team ~"a~"~~b"`."""
    return '"' + value.replace("~", "~~").replace('"', '~"') + '"'


def criterion(name: str, values: Iterable[str]) -> str:
    """`name("v1","v2")`, each value quoted."""
    return f"{name}({','.join(quoted(value) for value in values)})"


def entity_id(value: str) -> str:
    """An entity id fit for a selector; anything else is refused rather than sent."""
    if not ENTITY_ID.match(value):
        raise ValueError(f"{value!r:.80} is not a Dynatrace entity id")
    return value


def services_selector(base: str, management_zone: str | None, tags: Sequence[str]) -> str:
    """The configured selector, narrowed to a management zone and to entities carrying every tag."""
    parts = [base.strip()]
    if management_zone:
        parts.append(criterion("mzName", [management_zone]))
    parts.extend(criterion("tag", [tag]) for tag in tags)
    return ",".join(parts)


def selectors_for_ids(base: str, relation: str | None, ids: Sequence[str]) -> list[str]:
    """`base` narrowed to the entities with these ids, or related to them by `fromRelationships.<relation>`.

    As many ids go in each selector as fit in `MAX_SELECTOR_CHARS`.
    """

    def build(chunk: list[str]) -> str:
        wanted = criterion("entityId", chunk)
        return f"{base},{f'fromRelationships.{relation}({wanted})' if relation else wanted}"

    selectors: list[str] = []
    chunk: list[str] = []
    for value in ids:
        if chunk and len(build([*chunk, value])) > MAX_SELECTOR_CHARS:
            selectors.append(build(chunk))
            chunk = []
        chunk.append(value)
    if chunk:
        selectors.append(build(chunk))
    return selectors
