"""CMDB rows as catalog records: CIs → services, groups → teams, "Depends on" relations → dependencies."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from opscontext_mcp.model import Dependency, DependencyKind, EntityKind, Link, Service, Team
from opscontext_mcp.protocols import Problem

from .records import Origin, each_row, required
from .values import Ref, Row, display, ref, value

CI_FIELDS = (
    "sys_id",
    "name",
    "sys_class_name",
    "short_description",
    "busines_criticality",  # sic: the CMDB's own spelling
    "operational_status",
    "support_group",
    "assignment_group",
    "managed_by",
    "managed_by.email",
    "owned_by",
    "owned_by.email",
)
GROUP_FIELDS = ("sys_id", "name", "email", "manager", "manager.email", "parent")
RELATION_FIELDS = ("sys_id", "parent", "child", "type")
GROUP_TABLE = "sys_user_group"
RELATION_TABLE = "cmdb_rel_ci"
DEPENDS_ON = "Depends on::Used by"
"""The relation type whose parent depends on its child."""

_LEADING_NUMBER = re.compile(r"\s*(\d+)")


def map_groups(rows: list[Any], origin: Origin, problems: list[Problem]) -> dict[str, Team]:
    """Teams by sys_id."""

    def build(row: Row, sys_id: str) -> Team:
        manager = ref(row, "manager")
        member = display(row, "manager.email") or manager.display
        return Team(
            name=required(row, "name"),
            title=value(row, "name"),
            email=value(row, "email"),
            parent=ref(row, "parent").label,
            members=(member,) if member else (),
            links=(Link(url=origin.url(GROUP_TABLE, sys_id), title="ServiceNow group"),),
            provenance=origin.provenance(GROUP_TABLE, sys_id),
        )

    return dict(each_row(GROUP_TABLE, rows, problems, build))


def map_cis(
    table: str, rows: list[Any], origin: Origin, groups: dict[str, Team], problems: list[Problem]
) -> list[tuple[str, Service]]:
    """Services with their CI sys_id."""

    def build(row: Row, sys_id: str) -> Service:
        name = required(row, "name")
        class_name = value(row, "sys_class_name")
        kind, kind_type = _kind_and_type(class_name, display(row, "sys_class_name"))
        owner, support_group = _owner(row, groups)
        annotations = {"servicenow.com/ci-sys-id": sys_id}
        if class_name:
            annotations["servicenow.com/ci-class"] = class_name
        if support_group:
            annotations["servicenow.com/support-group"] = support_group
        status = display(row, "operational_status")
        return Service(
            name=name,
            kind=kind,
            title=name,
            description=display(row, "short_description"),
            type=kind_type,
            lifecycle=status.lower() if status else None,
            tier=_tier(value(row, "busines_criticality") or display(row, "busines_criticality")),
            owner=owner,
            annotations=annotations,
            links=(Link(url=origin.url(table, sys_id), title="ServiceNow CI"),),
            external_ids={"servicenow": sys_id},
            provenance=origin.provenance(table, sys_id),
        )

    return each_row(table, rows, problems, build)


def duplicate_names(services: list[Service]) -> list[Problem]:
    """Two CIs of one name are two services to the CMDB but one name to everyone else: say so."""
    counts = Counter(s.name.lower() for s in services)
    spelled = {s.name.lower(): s.name for s in reversed(services)}
    return [
        Problem(location=f"CI {spelled[key]!r}", reason=f"{count} CIs have this name", severity="warning")
        for key, count in sorted(counts.items())
        if count > 1
    ]


def map_relations(
    rows: list[Any], origin: Origin, names: dict[str, str], tables: list[str], problems: list[Problem]
) -> list[Dependency]:
    """Declared dependencies between served CIs (`names`: CI sys_id → service name); other relation types are ignored."""
    elsewhere = 0

    def build(row: Row, sys_id: str) -> Dependency | None:
        nonlocal elsewhere
        relation = ref(row, "type").display
        if relation is None:
            raise ValueError("type has no name")
        if relation.strip() != DEPENDS_ON:
            return None
        parent, child = ref(row, "parent"), ref(row, "child")
        if parent.sys_id is None or child.sys_id is None:
            raise ValueError("parent or child is empty")
        if parent.sys_id not in names or child.sys_id not in names:
            elsewhere += 1
            return None
        return Dependency(
            caller=names[parent.sys_id],
            callee=names[child.sys_id],
            kind=DependencyKind.DECLARED,
            relation="Depends on",
            provenance=origin.provenance(RELATION_TABLE, sys_id),
        )

    dependencies = [d for _, d in each_row(RELATION_TABLE, rows, problems, build)]
    if elsewhere:
        problems.append(
            Problem(
                location=RELATION_TABLE,
                reason=f"{elsewhere} '{DEPENDS_ON}' relations name a CI not served from {', '.join(tables)}; left out",
                severity="warning",
            )
        )
    return dependencies


def _owner(row: Row, groups: dict[str, Team]) -> tuple[str | None, str | None]:
    """The owner reference and the support group's name; groups first, then the CI's people."""
    for field in ("support_group", "assignment_group"):
        group = _group_name(ref(row, field), groups)
        if group:
            return f"group:default/{group}", group if field == "support_group" else None
    for field in ("managed_by", "owned_by"):
        person = display(row, f"{field}.email") or ref(row, field).label
        if person:
            return f"user:default/{person}", None
    return None, None


def _group_name(group: Ref, groups: dict[str, Team]) -> str | None:
    if group.display:
        return group.display
    known = groups.get(group.sys_id) if group.sys_id else None
    return known.name if known else group.sys_id


def _tier(criticality: str | None) -> int | None:
    """`1 - most critical` → 1."""
    match = _LEADING_NUMBER.match(criticality or "")
    return int(match.group(1)) if match else None


def _kind_and_type(class_name: str | None, class_label: str | None) -> tuple[EntityKind, str | None]:
    if class_name is None:
        return EntityKind.COMPONENT, None
    if class_name.startswith("cmdb_ci_db"):
        return EntityKind.RESOURCE, "database"
    if class_name.startswith("cmdb_ci_service"):
        return EntityKind.COMPONENT, "service"
    if class_name.startswith("cmdb_ci_appl"):
        return EntityKind.COMPONENT, "application"
    return EntityKind.COMPONENT, (class_label or class_name).lower()
