"""Reverse ETL source writes (a warehouse connection) and its connection test.

Permissioned as sources: Workspace Owners, or Source Admin on all sources,
create, change and delete them; secrets (password, DSN) are encrypted at rest
and never shown again (the API answers ``password_set``/``dsn_set``).
"""

from __future__ import annotations

from typing import Any, cast

from django.db import IntegrityError, connection, transaction
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from connections.reverse_etl import credentials
from connections.reverse_etl.choices import AuditAction
from connections.reverse_etl.models import RetlSource
from connections.reverse_etl.warehouses import catalog
from connections.reverse_etl.warehouses.base import (
    Bookkeeping,
    BookkeepingOptions,
    ConnectionReport,
    ConnectionSettings,
    Warehouse,
)
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, InvalidArgument, PermissionDenied, Unimplemented
from switchyard.validation import clean_text
from workspace.models import Workspace
from workspace.services import audit

DISPLAY_NAME_MAX = 100
TEXT_MAX = 255
SECRET_MAX = 4096
UPDATABLE = {
    "display_name",
    "host",
    "port",
    "database",
    "username",
    "ssl_mode",
    "password",
    "dsn",
}
MANAGE_DENIED = "managing Reverse ETL sources needs Workspace Owner or Source Admin on all sources"


def snapshot(source: RetlSource) -> dict[str, Any]:
    """What the audit trail keeps: the settings, never the secrets."""
    return {
        "slug": source.slug,
        "display_name": source.display_name,
        "warehouse": source.warehouse,
        "host": source.host,
        "port": source.port,
        "database": source.database,
        "username": source.username,
        "ssl_mode": source.ssl_mode,
        "password": "set" if source.password_set else "",
        "dsn": "set" if source.dsn_set else "",
    }


def clean_warehouse(value: object) -> str:
    kind = catalog.BY_SLUG.get(value) if isinstance(value, str) else None
    if kind is None:
        known = ", ".join(w.slug for w in catalog.WAREHOUSES)
        raise InvalidArgument(
            f"unknown warehouse {value!r}; choose one of: {known}", field="warehouse"
        )
    if not kind.implemented:
        built = ", ".join(w.slug for w in catalog.WAREHOUSES if w.implemented)
        raise Unimplemented(
            f"{kind.name} Reverse ETL sources are not implemented yet; implemented: {built}"
        )
    return kind.slug


def _clean_port(value: object) -> int:
    if type(value) is not int or not 1 <= value <= 65535:
        raise InvalidArgument("port must be a whole number from 1 to 65535", field="port")
    return value


def _clean_ssl_mode(value: object) -> str:
    if value not in RetlSource.SslMode.values:
        choices = ", ".join(RetlSource.SslMode.values)
        raise InvalidArgument(f"ssl_mode must be one of: {choices}", field="ssl_mode")
    return str(value)


def _clean_optional(value: object, field: str, limit: int = TEXT_MAX) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be a string", field=field)
    return clean_text(value, field=field, limit=limit, required=False)


def _clean_dsn(value: object) -> str:
    dsn = _clean_optional(value, "dsn", SECRET_MAX)
    if dsn:
        try:
            conninfo_to_dict(dsn)
        except Exception as exc:  # psycopg.ProgrammingError: the parser's message
            raise InvalidArgument(
                "dsn must be a libpq connection string (host=... dbname=...) or a "
                "postgresql:// URI",
                field="dsn",
            ) from exc
    return dsn


def _clean_password(value: object) -> str:
    if not isinstance(value, str) or len(value) > SECRET_MAX or "\x00" in value:
        raise InvalidArgument(
            f"password must be a string of at most {SECRET_MAX} characters", field="password"
        )
    return value


def _require_complete(values: dict[str, Any]) -> None:
    """A DSN, or else host, database and user, say where to connect."""
    if values["dsn"]:
        return
    missing = [f for f in ("host", "database", "username") if not values[f]]
    if missing:
        raise InvalidArgument(
            f"give a dsn, or host, database and username (missing: {', '.join(missing)})",
            field=missing[0],
        )


def _require_manage(principal: Principal, workspace: Workspace) -> None:
    if not access.can_create(principal, "source", workspace):
        if principal.read_only:
            access.require(principal, "create", workspace)  # raises insufficient scope
        raise PermissionDenied(MANAGE_DENIED)


def do_create_retl_source(
    *,
    principal: Principal,
    workspace: Workspace,
    slug: object,
    display_name: object,
    warehouse: object = "postgres",
    host: object = "",
    port: object = 5432,
    database: object = "",
    username: object = "",
    password: object = "",
    dsn: object = "",
    ssl_mode: object = RetlSource.SslMode.PREFER,
) -> RetlSource:
    _require_manage(principal, workspace)
    plain = {
        "host": _clean_optional(host, "host"),
        "database": _clean_optional(database, "database"),
        "username": _clean_optional(username, "username"),
        "dsn": _clean_dsn(dsn),
    }
    _require_complete(plain)
    source = RetlSource(
        key_id=names.generate_id("rsrc"),
        workspace=workspace,
        slug=names.validate_slug(slug, field="name"),
        display_name=clean_text(display_name, field="display_name", limit=DISPLAY_NAME_MAX),
        warehouse=clean_warehouse(warehouse),
        host=plain["host"],
        port=_clean_port(port),
        database=plain["database"],
        username=plain["username"],
        ssl_mode=_clean_ssl_mode(ssl_mode),
        password_encrypted=credentials.encrypt(_clean_password(password)),
        dsn_encrypted=credentials.encrypt(plain["dsn"]),
    )
    try:
        with transaction.atomic():
            source.save()
            audit.record(
                principal,
                AuditAction.RETL_SOURCE_CREATED,
                workspace=workspace,
                resource_name=source.resource_name,
                after=snapshot(source),
            )
    except IntegrityError as exc:
        raise AlreadyExists(
            f"Reverse ETL source {source.resource_name!r} already exists", field="name"
        ) from exc
    return source


def do_update_retl_source(
    *, principal: Principal, source: RetlSource, changes: dict[str, Any]
) -> RetlSource:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidArgument(
            f"cannot update Reverse ETL source field(s) {sorted(unknown)}: the slug and "
            "warehouse are immutable"
        )
    with transaction.atomic():
        locked = locking.lock_for_update(principal, "change", source, related=("workspace",))
        before = snapshot(locked)
        values: dict[str, Any] = {}
        if "display_name" in changes:
            values["display_name"] = clean_text(
                changes["display_name"], field="display_name", limit=DISPLAY_NAME_MAX
            )
        for field in ("host", "database", "username"):
            if field in changes:
                values[field] = _clean_optional(changes[field], field)
        if "port" in changes:
            values["port"] = _clean_port(changes["port"])
        if "ssl_mode" in changes:
            values["ssl_mode"] = _clean_ssl_mode(changes["ssl_mode"])
        secrets_changed: dict[str, str] = {}
        if "password" in changes:
            password = _clean_password(changes["password"])
            if password != credentials.decrypt(locked.password_encrypted):
                values["password_encrypted"] = credentials.encrypt(password)
                secrets_changed["password"] = "changed" if password else ""
        if "dsn" in changes:
            dsn = _clean_dsn(changes["dsn"])
            if dsn != credentials.decrypt(locked.dsn_encrypted):
                values["dsn_encrypted"] = credentials.encrypt(dsn)
                secrets_changed["dsn"] = "changed" if dsn else ""
        merged = {
            "host": values.get("host", locked.host),
            "database": values.get("database", locked.database),
            "username": values.get("username", locked.username),
            "dsn": secrets_changed.get("dsn", "set" if locked.dsn_set else ""),
        }
        _require_complete(merged)
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AuditAction.RETL_SOURCE_UPDATED,
                workspace=locked.workspace,
                resource_name=locked.resource_name,
                before=before,
                after={**snapshot(locked), **secrets_changed},
            )
    return locked


def do_delete_retl_source(*, principal: Principal, source: RetlSource) -> None:
    """Deletes the source and its models. The bookkeeping tables stay in the
    warehouse's ``__switchyard_retl`` schema (the warehouse may be unreachable)."""
    with transaction.atomic():
        locked = locking.lock_for_update(principal, "delete", source, related=("workspace",))
        audit.record(
            principal,
            AuditAction.RETL_SOURCE_DELETED,
            workspace=locked.workspace,
            resource_name=locked.resource_name,
            before=snapshot(locked),
        )
        locked.delete()


def connection_settings(source: RetlSource) -> ConnectionSettings:
    return ConnectionSettings(
        host=source.host,
        port=source.port,
        database=source.database,
        username=source.username,
        password=credentials.decrypt(source.password_encrypted),
        dsn=credentials.decrypt(source.dsn_encrypted),
        ssl_mode=source.ssl_mode,
    )


def switchyard_database_dsn() -> str:
    """Switchyard's own database (PostgreSQL: DATABASE_URL's or the embedded one)
    as a libpq connection string: where read-only sources keep their bookkeeping."""
    params = connection.get_connection_params()
    keep = ("host", "port", "user", "password", "dbname", "sslmode", "sslrootcert", "options")
    return make_conninfo(**{k: str(params[k]) for k in keep if params.get(k) not in (None, "")})


def record_bookkeeping(source: RetlSource, mode: Bookkeeping) -> None:
    """Records where the source's snapshots live, once (the first test connection or
    extract decides; moving them later would send every row again)."""
    if source.bookkeeping:
        return
    RetlSource.objects.filter(pk=source.pk, bookkeeping="").update(bookkeeping=mode)
    source.bookkeeping = mode


def warehouse_of(source: RetlSource) -> Warehouse:
    bookkeeping = BookkeepingOptions(
        mode=cast(Bookkeeping, source.bookkeeping) if source.bookkeeping else None,
        local_dsn=switchyard_database_dsn(),
        on_decided=lambda mode: record_bookkeeping(source, mode),
    )
    return catalog.connector(source.warehouse, connection_settings(source), bookkeeping)


def do_test_connection(*, principal: Principal, source: RetlSource) -> ConnectionReport:
    """The setup guide's checks, each reported. Needs the right to change the source:
    the check connects with its credentials and may create the bookkeeping schema.
    The first test decides where the source's bookkeeping lives."""
    access.require(principal, "change", source, write=True)
    report = warehouse_of(source).test_connection()
    if report.checks[0].passed:
        record_bookkeeping(source, report.bookkeeping)
    return report
