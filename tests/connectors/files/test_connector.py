from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opscontext_connectors.files import FilesConnector, FilesSettings

from opscontext_mcp.protocols import Capability, ConnectorContext

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
CHANGES = [
    {"id": "new", "service": "cart", "kind": "deploy", "summary": "s", "at": "2026-11-27T09:00:00Z"},
    {"id": "old", "service": "cart", "kind": "deploy", "summary": "s", "at": "2026-10-01T09:00:00Z"},
]


def connector(root: Path) -> FilesConnector:
    return FilesConnector(FilesSettings(name="local", type="files", path=root), ConnectorContext(base_dir=Path("/")))


async def test_capabilities_follow_the_files_present(write_tree: Callable[..., Path]) -> None:
    root = write_tree({"changes/a.yaml": CHANGES, "oncall.yaml": {"schedules": []}})
    files = connector(root)
    assert files.capabilities == {Capability.CHANGES, Capability.ONCALL}
    health = await files.check()
    assert health.ok and "changes, oncall" in health.detail
    with pytest.raises(ValueError, match="does not exist"):
        connector(root / "absent")
    (root / "oncall.yaml").unlink()
    shutil.rmtree(root / "changes")
    gone = await files.check()
    assert not gone.ok and "no known files" in gone.detail


async def test_changes_are_served_for_the_asked_window(write_tree: Callable[..., Path]) -> None:
    files = connector(write_tree({"changes/a.yaml": CHANGES}))
    batch = await files.fetch_changes(NOW - timedelta(days=1), NOW)
    assert [c.id for c in batch.records] == ["new"]
    wider = await files.fetch_changes(NOW - timedelta(days=90), NOW)
    assert sorted(c.id for c in wider.records) == ["new", "old"]


async def test_unchanged_files_are_not_parsed_again_and_an_edit_is_picked_up(write_tree: Callable[..., Path]) -> None:
    root = write_tree({"changes/a.yaml": CHANGES[:1]})
    files = connector(root)
    first = await files.fetch_changes(NOW - timedelta(days=1), NOW)
    again = await files.fetch_changes(NOW - timedelta(days=1), NOW)
    assert again.records[0] is first.records[0]
    path = root / "changes" / "a.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("summary: s", "summary: edited"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    edited = await files.fetch_changes(NOW - timedelta(days=1), NOW)
    assert edited.records[0].summary == "edited"


async def test_only_limits_a_folder_to_the_capabilities_asked_for(write_tree: Callable[..., Path]) -> None:
    root = write_tree({"changes/a.yaml": CHANGES, "oncall.yaml": {"schedules": []}})
    files = FilesConnector(
        FilesSettings(name="local", type="files", path=root, only=[Capability.CHANGES]),
        ConnectorContext(base_dir=Path("/")),
    )
    assert files.capabilities == {Capability.CHANGES}
