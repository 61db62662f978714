"""The incident store on a SQLite file and on the PostgreSQL server at 127.0.0.1:5432 (database `test`)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from opscontext_mcp.store import IncidentStore, UnknownIncident
from opscontext_mcp.store.schema import metadata

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 11, 27, 9, 45, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IncidentStore]:
    if request.param == "sqlite":
        opened = IncidentStore("sqlite:///store.db", base_dir=tmp_path)
        yield opened
        opened.close()
        return
    schema = f"opscontext_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES)
    try:
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    except sqlalchemy.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 (database test) is needed for the store tests: {exc}")
    opened = IncidentStore(f"{POSTGRES}?options=-csearch_path%3D{schema}")
    try:
        yield opened
    finally:
        opened.close()
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_declaring_twice_with_one_key_is_one_incident_and_numbers_follow_on(store: IncidentStore) -> None:
    first, created = store.declare("declare-1", "Checkout failing", "SEV1", ["checkout", "payment"], T0)
    again, created_again = store.declare("declare-1", "Retried", "SEV2", ["checkout"], T0 + timedelta(seconds=5))
    second, _ = store.declare("declare-2", "Search slow", "SEV3", ["search"], T0 + timedelta(minutes=1))
    assert (first.id, again.id, second.id) == ("INC-1", "INC-1", "INC-2") and created and not created_again
    assert again == first and first.services == ("checkout", "payment") and first.status == "investigating"
    assert first.declared_at == T0 and [i.id for i in store.open_incidents()] == ["INC-1", "INC-2"]


def test_roles_updates_and_the_timeline_keep_one_row_per_key_and_say_what_changed(store: IncidentStore) -> None:
    incident, _ = store.declare("d", "Checkout failing", "SEV1", ["checkout"], T0)
    store.assign("r1", incident.id, "incident_commander", "diego.alvarez", T0)
    store.assign("r2", incident.id, "incident_commander", "priya.raman", T0 + timedelta(minutes=2))
    store.assign("r2", incident.id, "incident_commander", "priya.raman", T0 + timedelta(minutes=2))
    store.log_event("e1", incident.id, T0 + timedelta(minutes=1), "diego.alvarez", "action", "paged payments")
    store.log_event("e1", incident.id, T0 + timedelta(minutes=1), "diego.alvarez", "action", "paged payments")
    store.update("u1", incident.id, T0 + timedelta(minutes=3), status="identified", severity="SEV1")
    store.update("u1", incident.id, T0 + timedelta(minutes=3), status="identified")
    resolved, changed = store.update("u2", incident.id, T0 + timedelta(minutes=40), status="resolved")

    record = store.record(incident.id)
    assert record.roles["incident_commander"].person == "priya.raman"
    assert [(e.kind, e.what) for e in record.events] == [
        ("role", "incident commander: diego.alvarez"),
        ("action", "paged payments"),
        ("role", "incident commander: priya.raman"),
        ("update", "status: investigating → identified"),
        ("update", "status: identified → resolved"),
    ]
    assert changed and resolved.resolved_at == T0 + timedelta(minutes=40) and store.open_incidents() == []


def test_status_updates_say_whether_this_call_stored_them(store: IncidentStore) -> None:
    incident, _ = store.declare("d", "Checkout failing", "SEV1", ["checkout"], T0)
    first, stored = store.add_update("s1", incident.id, T0, "investigating", "Checkout errors; payments paged.", "#inc")
    again, stored_again = store.add_update("s1", incident.id, T0, "investigating", "other text", None)
    assert stored and not stored_again and again == first and again.text == "Checkout errors; payments paged."


def test_two_writers_appending_500_events_each_store_all_1000_exactly_once_and_retries_add_nothing(
    store: IncidentStore,
) -> None:
    incident, _ = store.declare("d", "Checkout failing", "SEV1", ["checkout"], T0)
    failures: list[BaseException] = []

    def write(writer: str, keys: range) -> None:
        try:
            for i in keys:
                at = T0 + timedelta(milliseconds=i)
                store.log_event(f"{writer}-{i}", incident.id, at, writer, "note", f"{writer} note {i}")
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(name, range(500))) for name in ("scribe-a", "scribe-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    retries = [threading.Thread(target=write, args=(name, range(0, 500, 7))) for name in ("scribe-a", "scribe-b")]
    for thread in retries:
        thread.start()
    for thread in retries:
        thread.join()

    assert failures == []
    events = store.record(incident.id).events
    assert len(events) == 1000
    assert len({(e.who, e.what) for e in events}) == 1000


def test_an_unknown_incident_is_named_in_the_error(store: IncidentStore) -> None:
    with pytest.raises(UnknownIncident, match="no incident 'INC-99' in the store"):
        store.log_event("e", "INC-99", T0, "diego", "note", "hello")


def test_the_schema_is_versioned_and_the_migrations_build_exactly_the_tables_the_code_uses(
    store: IncidentStore,
) -> None:
    store.migrate()
    with store.engine.connect() as connection:
        version = connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).scalar_one()
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert version == "0004"
    assert differences == []


def test_a_url_of_another_database_is_refused_saying_what_is_expected() -> None:
    with pytest.raises(ValueError, match=r"store.url: expected sqlite:///… or postgresql\+psycopg://…"):
        IncidentStore("mysql://root@127.0.0.1/test")


def test_a_store_at_an_older_schema_is_migrated_keeping_its_incidents(store: IncidentStore) -> None:
    from alembic import command
    from alembic.config import Config

    from opscontext_mcp.store import MIGRATIONS

    with store.engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            sqlalchemy.text(
                "INSERT INTO incidents (id, title, severity, status, services, declared_at, updated_at, idempotency_key)"
                " VALUES ('INC-1', 'Old', 'SEV2', 'investigating', 'checkout', :at, :at, 'old')"
            ),
            {"at": T0},
        )

    store.migrate()
    incident = store.record("INC-1").incident
    assert (incident.title, incident.itsm_ref) == ("Old", None)
    with store.engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"


def test_concurrent_declares_with_one_key_are_one_incident_and_only_one_of_them_says_it_declared_it(
    store: IncidentStore,
) -> None:
    results: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def declare() -> None:
        incident, created = store.declare("same-key", "Checkout failing", "SEV1", ["checkout"], T0)
        with lock:
            results.append((incident.id, created))

    store.migrate()
    threads = [threading.Thread(target=declare) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [("INC-1", False), ("INC-1", False), ("INC-1", False), ("INC-1", True)]
    assert store.declare("next-key", "Other", "SEV3", ["search"], T0)[0].id == "INC-2"  # no number burnt


def test_a_key_reused_on_another_incident_or_by_another_tool_is_its_own_write(store: IncidentStore) -> None:
    first, _ = store.declare("a", "One", "SEV2", ["checkout"], T0)
    second, _ = store.declare("b", "Two", "SEV2", ["search"], T0)
    store.log_event("k", first.id, T0, "me", "note", "on the first")
    _, stored = store.log_event("k", second.id, T0, "me", "note", "on the second")
    store.assign("k:incident_commander", second.id, "incident_commander", "diego", T0)
    _, updated = store.update("k", second.id, T0, status="identified")
    assert stored and updated
    assert [e.what for e in store.record(second.id).events] == [
        "on the second",
        "incident commander: diego",
        "status: investigating → identified",
    ]
    assert store.record(second.id).roles["incident_commander"].person == "diego"


def test_a_reopened_incident_is_open_again(store: IncidentStore) -> None:
    incident, _ = store.declare("d", "Checkout failing", "SEV1", ["checkout"], T0)
    store.update("u1", incident.id, T0 + timedelta(minutes=30), status="resolved")
    reopened, _ = store.update("u2", incident.id, T0 + timedelta(minutes=40), status="investigating")
    assert reopened.resolved_at is None and [i.id for i in store.open_incidents()] == [incident.id]


def test_times_come_back_in_utc_whatever_the_database_sessions_time_zone(tmp_path: Path) -> None:
    schema = f"opscontext_tz_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    store = IncidentStore(f"{POSTGRES}?options=-csearch_path%3D{schema}%20-ctimezone%3DAmerica/New_York")
    try:
        incident, _ = store.declare("d", "Checkout failing", "SEV1", ["checkout"], T0)
        assert store.record(incident.id).incident.declared_at.isoformat() == "2026-11-27T09:45:00+00:00"
    finally:
        store.close()
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
