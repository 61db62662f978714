"""The incident store: incidents, roles, the scribe's timeline and status updates, on SQLAlchemy 2.

SQLite by default (a file, WAL mode, so readers never wait for the writer), PostgreSQL by URL when
several replicas share one store. The schema is versioned with Alembic and brought up to date when
the store opens (under an advisory lock on PostgreSQL, so replicas starting together migrate once).

Every write takes an idempotency key. The row and its key are inserted in one statement that does
nothing on a conflict, then read back by key: a write retried with the same key, however many
times and from however many clients at once, stores its row exactly once and answers that row.
Calls are blocking; the async API runs them in worker threads.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from opscontext_mcp.store.records import EventRow, IncidentRecord, IncidentRow, RoleRow, UpdateRow
from opscontext_mcp.store.schema import counters, events, incidents, roles, updates

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
ROLES = ("incident_commander", "technical_lead", "comms_lead", "scribe")
STATUSES = ("investigating", "identified", "monitoring", "resolved")
_MIGRATION_LOCK = 7_460_301
"""The PostgreSQL advisory lock id replicas take while migrating."""


class UnknownIncident(LookupError):
    pass


def exists(url: str, base_dir: Path | None = None) -> bool:
    """Whether the store is there to read without creating it: a SQLite file that exists, or a server."""
    parsed = make_url(_resolved(url, base_dir))
    return parsed.get_backend_name() != "sqlite" or bool(parsed.database and Path(parsed.database).exists())


class IncidentStore:
    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        self.url = _resolved(url, base_dir)
        self.engine = _engine(self.url)
        self._migrated = False
        self._lock = threading.Lock()

    def migrate(self) -> None:
        """Bring the schema to the latest version, once per store."""
        with self._lock:
            if self._migrated:
                return
            with self.engine.connect() as connection, connection.execution_options(opscontext_writes=True).begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
                config = Config(stdout=sys.stderr)  # on stdio, stdout is the protocol
                config.set_main_option("script_location", str(MIGRATIONS))
                config.attributes["connection"] = connection
                try:
                    command.upgrade(config, "head")
                except CommandError as exc:
                    if "Can't locate revision" not in str(exc):
                        raise
                    # A newer replica migrated past this code's head during a rolling deploy: the schema
                    # only grew, so this version's statements still work on it.
                    logger.warning("incident store schema is newer than this version knows (%s); using it as is", exc)
            self._migrated = True

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        self.migrate()
        with self.engine.connect() as connection:
            connection.execution_options(opscontext_writes=True)
            with connection.begin():
                yield connection

    def declare(
        self,
        key: str,
        title: str,
        severity: str,
        services: Sequence[str],
        at: datetime,
        summary: str | None = None,
        channel: str | None = None,
        itsm_ref: str | None = None,
    ) -> tuple[IncidentRow, bool]:
        """The incident declared under `key`, and whether this call declared it (False: a retry)."""
        with self._writing() as connection:
            # The counter's row lock first: a concurrent declare with the same key waits here, then finds the
            # incident the first one committed, instead of both missing it and both taking a number.
            self._lock_counter(connection)
            found = connection.execute(select(incidents).where(incidents.c.idempotency_key == key)).first()
            created = found is None
            if found is None:
                number = self._next_number(connection)
                row = {
                    "id": f"INC-{number}",
                    "title": title,
                    "severity": severity,
                    "status": "investigating",
                    "services": ",".join(services),
                    "summary": summary,
                    "channel": channel,
                    "itsm_ref": itsm_ref,
                    "declared_at": _utc(at),
                    "resolved_at": None,
                    "updated_at": _utc(at),
                    "idempotency_key": key,
                }
                connection.execute(_insert_once(connection, incidents, row))
                found = connection.execute(select(incidents).where(incidents.c.idempotency_key == key)).one()
            return _incident(found), created

    def update(
        self,
        key: str,
        incident_id: str,
        at: datetime,
        status: str | None = None,
        severity: str | None = None,
        summary: str | None = None,
        channel: str | None = None,
        itsm_ref: str | None = None,
    ) -> tuple[IncidentRow, bool]:
        """Change what is given; the change is logged on the timeline under `key`, so a retry changes nothing.
        Answers the incident and whether this call changed it."""
        with self._writing() as connection:
            current = _incident(self._row(connection, incident_id))
            changes: dict[str, Any] = {}
            given = (("status", status), ("severity", severity), ("summary", summary), ("channel", channel))
            for name, value in (*given, ("itsm_ref", itsm_ref)):
                if value is not None and value != getattr(current, name):
                    changes[name] = value
            said = "; ".join(f"{name}: {getattr(current, name) or '-'} → {value}" for name, value in changes.items())
            logged = self._event_once(
                connection, f"update:{key}", incident_id, at, "system", "update", said or "no change"
            )
            if logged and changes:
                if changes.get("status") == "resolved":
                    changes["resolved_at"] = _utc(at)
                elif "status" in changes:
                    changes["resolved_at"] = None  # reopened: open again everywhere
                changes["updated_at"] = _utc(at)
                connection.execute(update(incidents).where(incidents.c.id == incident_id).values(**changes))
            return _incident(self._row(connection, incident_id)), logged

    def assign(self, key: str, incident_id: str, role: str, person: str, at: datetime) -> RoleRow:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        with self._writing() as connection:
            self._row(connection, incident_id)
            key = f"role:{key}"
            row = {"incident_id": incident_id, "role": role, "person": person, "assigned_at": _utc(at)}
            if _per_incident(connection, roles, {**row, "idempotency_key": key}):  # on the timeline too
                self._event_once(
                    connection, key, incident_id, at, "system", "role", f"{role.replace('_', ' ')}: {person}"
                )
            found = connection.execute(_keyed(roles, incident_id, key)).one()
            return RoleRow(found.role, found.person, _aware(found.assigned_at))

    def log_event(
        self, key: str, incident_id: str, at: datetime, who: str, kind: str, what: str
    ) -> tuple[EventRow, bool]:
        """The event stored under `key`, and whether this call stored it (False: a retry)."""
        with self._writing() as connection:
            self._row(connection, incident_id)
            stored = self._event_once(connection, f"event:{key}", incident_id, at, who, kind, what)
            found = connection.execute(_keyed(events, incident_id, f"event:{key}")).one()
            return _event(found), stored

    def add_update(
        self, key: str, incident_id: str, at: datetime, status: str, text_: str, posted_to: str | None
    ) -> tuple[UpdateRow, bool]:
        """The status update stored under `key`, and whether this call stored it (False: a retry)."""
        with self._writing() as connection:
            self._row(connection, incident_id)
            row = {
                "incident_id": incident_id,
                "at": _utc(at),
                "status": status,
                "text": text_,
                "posted_to": posted_to,
                "idempotency_key": key,
            }
            stored = _per_incident(connection, updates, row)
            found = connection.execute(_keyed(updates, incident_id, key)).one()
            return _update(found), stored

    def delivered(self, incident_id: str, what: str, key: str, field: str, at: datetime) -> None:
        """Note that `what` ("declaration", "event" or "update", under `key`) reached its channel or ITSM (`field`:
        posted_at or mirrored_at), so a retry does not send it again."""
        tables = {"declaration": incidents, "event": events, "update": updates}
        table = tables[what]
        condition = table.c.id == incident_id if what == "declaration" else table.c.incident_id == incident_id
        if what != "declaration":
            stored_key = f"event:{key}" if what == "event" else key
            condition = condition & (table.c.idempotency_key == stored_key)
        with self._writing() as connection:
            connection.execute(update(table).where(condition, table.c[field].is_(None)).values({field: _utc(at)}))

    def record(self, incident_id: str) -> IncidentRecord:
        self.migrate()
        with self.engine.connect() as connection:
            incident = _incident(self._row(connection, incident_id))
            current: dict[str, RoleRow] = {}
            for row in connection.execute(
                select(roles).where(roles.c.incident_id == incident_id).order_by(roles.c.assigned_at, roles.c.id)
            ):
                current[row.role] = RoleRow(row.role, row.person, _aware(row.assigned_at))
            timeline = tuple(
                _event(row)
                for row in connection.execute(
                    select(events).where(events.c.incident_id == incident_id).order_by(events.c.at, events.c.id)
                )
            )
            posted = tuple(
                _update(row)
                for row in connection.execute(
                    select(updates).where(updates.c.incident_id == incident_id).order_by(updates.c.at, updates.c.id)
                )
            )
            return IncidentRecord(incident, current, timeline, posted)

    def open_incidents(self) -> list[IncidentRow]:
        self.migrate()
        with self.engine.connect() as connection:
            query = select(incidents).where(incidents.c.resolved_at.is_(None)).order_by(incidents.c.declared_at)
            return [_incident(row) for row in connection.execute(query)]

    async def run(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """`call(*args, **kwargs)` in a worker thread: the database never blocks the event loop."""
        return await anyio.to_thread.run_sync(lambda: call(*args, **kwargs))

    def _row(self, connection: Connection, incident_id: str) -> Any:
        found = connection.execute(select(incidents).where(incidents.c.id == incident_id)).first()
        if found is None:
            raise UnknownIncident(f"no incident {incident_id!r} in the store")
        return found

    def _event_once(
        self, connection: Connection, key: str, incident_id: str, at: datetime, who: str, kind: str, what: str
    ) -> bool:
        row = {
            "incident_id": incident_id,
            "at": _utc(at),
            "who": who,
            "kind": kind,
            "what": what,
            "idempotency_key": key,
        }
        return _per_incident(connection, events, row)

    def _lock_counter(self, connection: Connection) -> None:
        """Hold the incident counter's row until the transaction ends (SQLite's write lock already does)."""
        connection.execute(_insert_once(connection, counters, {"name": "incident", "value": 0}, key="name"))
        if connection.dialect.name == "postgresql":
            connection.execute(select(counters.c.value).where(counters.c.name == "incident").with_for_update())

    def _next_number(self, connection: Connection) -> int:
        """Taken inside the declaring transaction, under the counter's lock."""
        connection.execute(update(counters).where(counters.c.name == "incident").values(value=counters.c.value + 1))
        return int(connection.execute(select(counters.c.value).where(counters.c.name == "incident")).scalar_one())


def _per_incident(connection: Connection, table: Any, row: dict[str, Any]) -> bool:
    """Insert `row` unless its incident already has a row under its key; whether this call stored it."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    target = ["incident_id", "idempotency_key"]
    statement = dialect.insert(table).values(**row).on_conflict_do_nothing(index_elements=target)
    return connection.execute(statement.returning(table.c.id)).first() is not None


def _keyed(table: Any, incident_id: str, key: str) -> Any:
    return select(table).where(table.c.incident_id == incident_id, table.c.idempotency_key == key)


def _insert_once(connection: Connection, table: Any, row: dict[str, Any], key: str = "idempotency_key") -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    if connection.dialect.name not in ("postgresql", "sqlite"):
        raise ValueError(f"the store runs on SQLite or PostgreSQL, not {connection.dialect.name}")
    return dialect.insert(table).values(**row).on_conflict_do_nothing(index_elements=[key])


def _resolved(url: str, base_dir: Path | None) -> str:
    """A relative SQLite path is relative to the config file's folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.is_absolute() and base_dir is not None:
            return parsed.set(database=str(base_dir / path)).render_as_string(hide_password=False)
    return url


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError(
                "store.url: expected a SQLite file (sqlite:///incidents.db); an in-memory store loses its incidents"
            )
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _: Any) -> None:
            dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _write_lock_first(connection: Connection) -> None:
            # A writer takes the write lock before it reads (BEGIN IMMEDIATE), so two writers never deadlock
            # upgrading a read lock; readers begin deferred and, in WAL mode, never wait for a writer.
            writes = connection.get_execution_options().get("opscontext_writes", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise ValueError(
        f"store.url: expected sqlite:///… or postgresql+psycopg://…, got a {parsed.get_backend_name()} URL"
    )


def _incident(row: Any) -> IncidentRow:
    return IncidentRow(
        id=row.id,
        title=row.title,
        severity=row.severity,
        status=row.status,
        services=tuple(s for s in row.services.split(",") if s),
        summary=row.summary,
        channel=row.channel,
        itsm_ref=row.itsm_ref,
        declared_at=_aware(row.declared_at),
        resolved_at=_aware(row.resolved_at) if row.resolved_at else None,
        updated_at=_aware(row.updated_at),
        posted_at=_maybe(row.posted_at),
    )


def _event(row: Any) -> EventRow:
    return EventRow(row.id, _aware(row.at), row.who, row.kind, row.what, _maybe(row.mirrored_at))


def _update(row: Any) -> UpdateRow:
    return UpdateRow(
        row.id, _aware(row.at), row.status, row.text, row.posted_to, _maybe(row.posted_at), _maybe(row.mirrored_at)
    )


def _maybe(moment: datetime | None) -> datetime | None:
    return _aware(moment) if moment is not None else None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times in the store are timezone-aware")
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    """In UTC: SQLite hands back naive datetimes (stored as UTC), PostgreSQL the session's time zone."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
