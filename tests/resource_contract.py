"""The contract every Config API resource keeps, run against each one.

A test module lists its resources as ``Resource`` descriptors and subclasses
``ResourceContract``; ``pytest_generate_tests`` (imported into that module)
turns each descriptor into one case per check and operation:

a. every write (Create, Update, Delete) records an audit entry naming the resource;
b. List costs the same number of queries for 1 row as for 5;
c. what the caller cannot see is 404 (code 5): a stranger's token on the owner's
   URL, and the stranger naming the owner's object under its own workspace;
d. a read-only token gets 403 "insufficient scope" (code 7) on every write;
e. concurrent PATCHes of different fields all survive;
f. the real answers validate against the generated OpenAPI document;
g. a workspace member sees and acts as its role allows: without grants it gets
   the resource's ``member_get`` status, with ``reader_role`` it reads but gets
   403 (code 7) on every write.

A check a resource cannot take is declared in ``not_applicable`` with the reason;
a check that finds a defect is declared in ``known_defects`` (xfail, strict), so
it flips the day the defect is fixed. Nothing is skipped silently.

Fixtures build data only through the HTTP API and the ``do_*`` services.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from connections.models import Destination, Source
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import AccessToken, AuditEntry, Membership, UserGroup, Workspace
from workspace.services.grants import do_create_grant
from workspace.services.groups import do_create_group
from workspace.services.members import do_accept_invitation, do_invite_member
from workspace.services.tokens import do_create_access_token
from workspace.services.workspaces import do_create_workspace

API = "/v1beta/"
EQUALS = {"definition": "actions-equals", "settings": {"url": "https://equals.example/in"}}
# Defects every resource shares, by "<check>-<operation>"; each is an xfail(strict)
# case on every resource it concerns, so fixing it flips them all.
SHARED_DEFECTS: dict[str, str] = {}
CHECKS = ("audit", "list_queries", "not_found", "read_only", "concurrent", "openapi", "access")
WRITES = ("create", "update", "delete")


# -- the world the checks run in --------------------------------------------------------------


@dataclass
class Tenant:
    """One workspace with an owner, a source, a destination on it and a user group."""

    owner: User
    workspace: Workspace
    source: Source
    destination: Destination
    group: UserGroup

    @property
    def principal(self) -> Principal:
        return Principal(self.owner)

    @property
    def path_vars(self) -> dict[str, str]:
        return {
            "workspace": self.workspace.slug,
            "source": self.source.slug,
            "destination": self.destination.key_id,
            "group": str(self.group.pk),
        }


_serial = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


def make_account(username: str | None = None, email: str = "") -> User:
    # No password: hashing one (Argon2) would cost more than the whole check.
    return User.objects.create_user(username or unique("user"), email=email)


def make_tenant(slug: str) -> Tenant:
    owner = make_account(unique(f"{slug}-owner"))
    principal = Principal(owner)
    workspace = do_create_workspace(principal=principal, slug=slug, display_name=slug.title())
    source = do_create_source(
        principal=principal, workspace=workspace, slug="web", display_name="Web"
    )
    destination = do_create_destination(principal=principal, source=source, **EQUALS)
    group = do_create_group(principal=principal, workspace=workspace, name="Team")
    return Tenant(owner, workspace, source, destination, group)


def join(tenant: Tenant) -> Membership:
    """A new account joins the workspace the one way there is: an accepted invitation."""
    user = make_account(email=f"{unique('member')}@example.com")
    _invitation, secret = do_invite_member(
        principal=tenant.principal, workspace=tenant.workspace, email=user.email
    )
    return do_accept_invitation(secret=secret, user=user)


def client_for(user: User, *, read_only: bool = False) -> tuple[APIClient, AccessToken, str]:
    scope = AccessToken.Scope.WORKSPACE_READ if read_only else AccessToken.Scope.WORKSPACE
    token, secret = do_create_access_token(
        principal=Principal(user), user=user, description="contract", scope=scope
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client, token, secret


@dataclass
class World:
    acme: Tenant  # the owner's workspace: every checked row lives here
    globex: Tenant  # a stranger's workspace, with the same shape
    owner: APIClient  # acme's owner, full scope
    owner_token: AccessToken
    owner_secret: str
    read_only: APIClient  # acme's owner, workspace:read
    stranger: APIClient  # globex's owner, never a member of acme


def build_world() -> World:
    acme, globex = make_tenant("acme"), make_tenant("globex")
    owner, owner_token, owner_secret = client_for(acme.owner)
    read_only, _, _ = client_for(acme.owner, read_only=True)
    stranger, _, _ = client_for(globex.owner)
    return World(acme, globex, owner, owner_token, owner_secret, read_only, stranger)


@pytest.fixture
def world(db: None) -> World:
    return build_world()


# -- a resource, described --------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One masked field a PATCH changes; Get answers ``value`` at ``path`` afterwards."""

    path: str  # inside the resource: "display_name", "settings.timezone"
    value: Any


def _default_name(_tenant: Tenant, body: Mapping[str, Any]) -> str:
    return str(body["name"])


@dataclass(frozen=True)
class Resource:
    id: str
    # The collection's path under /v1beta/, with the OpenAPI document's parameter names.
    collection: str
    resource_key: str  # the object's key in Create and Update bodies
    collection_key: str  # the list's key in List answers
    # Stores one row in the tenant through the services; ``n`` makes it unique.
    make: Callable[[Tenant, int], Any] | None
    key_of: Callable[[Any], str]  # a made row's last path segment
    create: Callable[[Tenant, int], dict[str, Any]] | None = None  # Create's object
    update: tuple[Change, ...] = ()  # a valid Update
    concurrent: tuple[Change, ...] = ()  # fields PATCHed at once by separate requests
    delete: bool = False
    audit: Mapping[str, str] = field(default_factory=dict)  # write -> action
    audit_name: Callable[[Tenant, Mapping[str, Any]], str] = _default_name
    readable: bool = True  # has List and Get
    item_param: str = ""  # the item's path parameter when it is not the singular collection
    not_applicable: Mapping[str, str] = field(default_factory=dict)  # check -> why
    # What a workspace member without grants gets from Get: 200, 403 (an owners' area)
    # or 404 (rows only grants show, like sources).
    member_get: int = 200
    # A role (granted on all of the workspace) that may read the resource but not write it.
    reader_role: str | None = None
    # "<check>:<case id>" -> the defect it finds (the case is xfail, strict)
    known_defects: Mapping[str, str] = field(default_factory=dict)

    def collection_url(self, tenant: Tenant | None) -> str:
        values = tenant.path_vars if tenant else {}
        return API + self.collection.format(**values)

    def item_url(self, tenant: Tenant | None, key: str) -> str:
        return f"{self.collection_url(tenant)}/{key}"

    @property
    def writes(self) -> tuple[str, ...]:
        present = {"create": self.create is not None, "update": bool(self.update)}
        present["delete"] = self.delete
        return tuple(w for w in WRITES if present[w])

    def update_body(self, changes: tuple[Change, ...] | None = None) -> dict[str, Any]:
        return patch_body(self.resource_key, self.update if changes is None else changes)

    def openapi_paths(self) -> tuple[str, str]:
        param = self.item_param or self.collection.rsplit("/", 1)[-1].replace("-", "_")[:-1]
        return API + self.collection, f"{API}{self.collection}/{{{param}}}"

    def sample_key(self, tenant: Tenant, n: int = 1) -> str:
        """The key of a row to act on: a fresh one, or a fixed one of a static catalogue."""
        return self.key_of(self.make(tenant, n) if self.make else None)


def patch_body(resource_key: str, changes: tuple[Change, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for change in changes:
        *parents, leaf = change.path.split(".")
        target = data
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = change.value
    paths = [f"{resource_key}.{c.path}" for c in changes]
    return {resource_key: data, "update_mask": {"paths": paths}}


def dig(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


# -- cases ------------------------------------------------------------------------------------


def _cases(resource: Resource, check: str) -> list[tuple[str, ...]]:
    """The operations one check runs on one resource ([] when it cannot apply)."""
    if check in resource.not_applicable:
        return []
    readable = ("list", "get") if resource.readable else ()
    if check == "audit":
        return [(w,) for w in resource.writes]
    if check == "list_queries":
        return [("list",)] if resource.make and resource.readable else []
    if check == "not_found":
        item_ops = [*readable[1:], *(w for w in resource.writes if w != "create")]
        collection_ops = [*readable[:1], *(w for w in resource.writes if w == "create")]
        scoped = "{" in resource.collection  # a global collection is everyone's
        cases = [("stranger", op) for op in (*(collection_ops if scoped else ()), *item_ops)]
        if resource.make and scoped:
            cases += [("foreign-name", op) for op in item_ops]
        return cases
    if check == "read_only":
        return [(w,) for w in resource.writes]
    if check == "concurrent":
        return [("patch",)] if len(resource.concurrent) >= 2 else []
    if check == "access":
        cases = [("member", "get")] if resource.readable else []
        # Create is a question for the collection: a member who cannot see the parent
        # gets 404, one who can gets 403; only the second is asked here.
        writes = [w for w in resource.writes if w != "create" or resource.member_get != 404]
        cases += [("member", w) for w in writes]
        if resource.reader_role:
            cases += [("reader", op) for op in ("get", *resource.writes)]
        return cases
    if check == "openapi":
        ops = [*readable, *(w for w in resource.writes if w != "delete")]
        return [(op,) for op in ops]
    raise AssertionError(check)


def case_id(resource: Resource, case: tuple[str, ...]) -> str:
    return "-".join((resource.id, *case))


def generate(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``ResourceContract`` methods over the class's RESOURCES."""
    check = getattr(metafunc.function, "contract_check", None)
    if check is None or metafunc.cls is None:
        return
    params = []
    for resource in metafunc.cls.RESOURCES:
        for case in _cases(resource, check):
            ident = case_id(resource, case)
            marks = []
            defect = resource.known_defects.get(f"{check}:{ident}") or SHARED_DEFECTS.get(
                "-".join((check, *case))
            )
            if defect:
                marks.append(pytest.mark.xfail(strict=True, reason=defect))
            params.append(pytest.param(resource, case, id=ident, marks=marks))
    metafunc.parametrize(("resource", "case"), params)


def contract_check(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def mark(function: Callable[..., None]) -> Callable[..., None]:
        function.contract_check = name  # type: ignore[attr-defined]
        return function

    return mark


# -- the OpenAPI document ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def openapi_document() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return openapi_to_json_schema(SchemaGenerator().get_schema(request=None, public=True))


def openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's dialect as JSON Schema: ``nullable`` becomes a null type, and an
    object that lists its properties allows no others (an undocumented field fails)."""
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi_to_json_schema(v) for k, v in node.items()}
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    elif out.get("type") == "object" and "properties" in out:
        out.setdefault("additionalProperties", False)
    return out


def response_schema(
    document: dict[str, Any], path: str, method: str, status: int
) -> dict[str, Any]:
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, (
        f"{method} {path} answers {status}; documented: {list(responses)}"
    )
    return dict(responses[str(status)]["content"]["application/json"]["schema"])


def assert_valid(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    root = {**schema, "components": document["components"]}  # where "#/components/..." points
    validator = jsonschema.Draft202012Validator(root)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
    )


# -- helpers the checks share -----------------------------------------------------------------


def error_of(response: Any) -> dict[str, Any]:
    return dict(response.json())


def body_for(op: str, resource: Resource, tenant: Tenant) -> dict[str, Any] | None:
    """A valid request body (made before the request: making one may write rows)."""
    if op == "create":
        assert resource.create is not None
        return {resource.resource_key: resource.create(tenant, 900)}
    return resource.update_body() if op == "update" else None


def call(
    client: APIClient,
    op: str,
    resource: Resource,
    tenant: Tenant,
    key: str | None,
    body: dict[str, Any] | None = None,
) -> Any:
    if op == "list":
        return client.get(resource.collection_url(tenant), {"page_size": 100})
    if op == "create":
        return client.post(resource.collection_url(tenant), body, format="json")
    assert key is not None
    url = resource.item_url(tenant, key)
    if op == "get":
        return client.get(url)
    if op == "update":
        return client.patch(url, body, format="json")
    if op == "delete":
        return client.delete(url)
    raise AssertionError(op)


def state(world: World, resource: Resource, key: str | None) -> tuple[Any, ...]:
    """What a failed request must leave alone: the trail, the list, the row."""
    trail = AuditEntry.objects.count()
    listed = (
        world.owner.get(resource.collection_url(world.acme), {"page_size": 100}).json()
        if resource.readable
        else None
    )
    row = world.owner.get(resource.item_url(world.acme, key)).json() if key else None
    return trail, listed, row


def wait_for_lock_waiters(threads: list[threading.Thread], answers: dict[str, Any]) -> None:
    """Return once every thread's request waits on a lock in this database.

    Not a timing assumption: it polls PostgreSQL for the state the test needs;
    the deadline only turns a hang into a failure.
    """
    deadline = time.monotonic() + 60
    with connection.cursor() as cursor:
        while True:
            # Activity is a snapshot per transaction, and this one holds the lock.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            (waiting,) = cursor.fetchone()
            if waiting >= len(threads):
                return
            finished = {path: getattr(r, "content", r) for path, r in answers.items()}
            assert not finished, f"finished without waiting for the row: {finished}"
            assert time.monotonic() < deadline, f"only {waiting} of {len(threads)} requests waited"
            time.sleep(0.01)


# -- the contract -----------------------------------------------------------------------------


class ResourceContract:
    RESOURCES: tuple[Resource, ...] = ()

    def test_resources_match_the_document_and_every_check_runs_or_says_why(
        self, openapi_document: dict[str, Any]
    ) -> None:
        for resource in self.RESOURCES:
            described = operations_described(resource)
            assert described == operations_in_document(openapi_document, resource), resource.id
            for check in CHECKS:
                assert _cases(resource, check) or check in resource.not_applicable, (
                    f"{resource.id}: the {check!r} check neither runs nor says why not"
                )
            ids = {
                f"{check}:{case_id(resource, c)}"
                for check in CHECKS
                for c in _cases(resource, check)
            }
            assert set(resource.known_defects) <= ids, resource.id

    @contract_check("audit")
    def test_every_write_is_audited(
        self, world: World, resource: Resource, case: tuple[str, ...]
    ) -> None:
        (write,) = case
        acme = world.acme
        if write == "create":
            assert resource.create is not None
            body = {resource.resource_key: resource.create(acme, 1)}
            before = AuditEntry.objects.count()
            response = world.owner.post(resource.collection_url(acme), body, format="json")
            assert response.status_code == 200, response.content
            named = resource.audit_name(acme, response.json())
        else:
            assert resource.make is not None
            key = resource.key_of(resource.make(acme, 1))
            url = resource.item_url(acme, key)
            named = resource.audit_name(acme, world.owner.get(url).json())
            before = AuditEntry.objects.count()
            if write == "update":
                response = world.owner.patch(url, resource.update_body(), format="json")
            else:
                response = world.owner.delete(url)
            assert response.status_code == 200, response.content
        entries = list(AuditEntry.objects.order_by("pk")[before:])
        matching = [
            e for e in entries if e.action == resource.audit[write] and e.resource_name == named
        ]
        assert len(matching) == 1, [(e.action, e.resource_name) for e in entries]
        assert {e.actor_token_id for e in entries} == {world.owner_token.pk}
        # Filed under the workspace the resource lives in.
        assert matching[0].workspace_slug == named.split("/")[1]

    @contract_check("list_queries")
    def test_list_query_count_does_not_grow_with_rows(
        self, world: World, resource: Resource, case: tuple[str, ...]
    ) -> None:
        assert resource.make is not None
        url = resource.collection_url(world.acme)

        def listed() -> tuple[int, int]:
            with CaptureQueriesContext(connection) as queries:
                response = world.owner.get(url, {"page_size": 100})
            assert response.status_code == 200, response.content
            return len(queries), len(response.json()[resource.collection_key])

        resource.make(world.acme, 0)
        listed()  # the first request of a token may do one-off work
        one_row, shown = listed()
        for n in range(1, 5):
            resource.make(world.acme, n)
        five_rows, shown_later = listed()
        assert shown_later == shown + 4, "the rows made must be listed"
        assert five_rows == one_row

    @contract_check("not_found")
    def test_what_you_cannot_see_is_not_found(
        self, world: World, resource: Resource, case: tuple[str, ...]
    ) -> None:
        variant, op = case
        key = resource.sample_key(world.acme)
        # The stranger asks for the owner's object: on the owner's URL, or by its
        # key under the stranger's own workspace (ids are global for some rows).
        tenant = world.acme if variant == "stranger" else world.globex
        body = body_for(op, resource, world.acme)
        before = state(world, resource, key)
        response = call(world.stranger, op, resource, tenant, key, body)
        assert response.status_code == 404, response.content
        assert error_of(response)["code"] == 5
        assert state(world, resource, key) == before

    @contract_check("read_only")
    def test_read_only_token_cannot_write(
        self, world: World, resource: Resource, case: tuple[str, ...]
    ) -> None:
        (write,) = case
        key = resource.sample_key(world.acme)
        body = body_for(write, resource, world.acme)
        before = state(world, resource, key)
        response = call(world.read_only, write, resource, world.acme, key, body)
        assert response.status_code == 403, response.content
        assert error_of(response)["code"] == 7
        assert "insufficient scope" in error_of(response)["error"]
        assert state(world, resource, key) == before

    @pytest.mark.django_db(transaction=True)
    @contract_check("concurrent")
    def test_concurrent_patches_of_different_fields_all_survive(
        self, world: World, resource: Resource, case: tuple[str, ...]
    ) -> None:
        assert resource.make is not None
        row = resource.make(world.acme, 1)
        url = resource.item_url(world.acme, resource.key_of(row))
        credentials = {"HTTP_AUTHORIZATION": f"Bearer {world.owner_secret}"}
        start = threading.Barrier(len(resource.concurrent) + 1)
        answers: dict[str, Any] = {}

        def patch(change: Change) -> None:
            client = APIClient()
            client.credentials(**credentials)
            try:
                start.wait()
                body = patch_body(resource.resource_key, (change,))
                answers[change.path] = client.patch(url, body, format="json")
            except Exception as error:  # the main thread reports it
                answers[change.path] = error
                raise
            finally:
                connections.close_all()

        threads = [threading.Thread(target=patch, args=(c,)) for c in resource.concurrent]
        # Hold the row while every request reads it and then queues on its write:
        # each one starts from the same stale copy, whatever the scheduler does.
        with transaction.atomic():
            type(row).objects.select_for_update().filter(pk=row.pk).get()
            for thread in threads:
                thread.start()
            start.wait()
            wait_for_lock_waiters(threads, answers)
        for thread in threads:
            thread.join(timeout=60)
        assert all(not t.is_alive() for t in threads)
        assert {path: r.status_code for path, r in answers.items()} == {
            c.path: 200 for c in resource.concurrent
        }, {path: r.content for path, r in answers.items()}
        stored = world.owner.get(url).json()
        survived = {c.path: dig(stored, c.path) for c in resource.concurrent}
        assert survived == {c.path: c.value for c in resource.concurrent}

    @contract_check("access")
    def test_members_see_and_act_as_their_roles_allow(
        self, world: World, resource: Resource, case: tuple[str, ...]
    ) -> None:
        who, op = case
        member = join(world.acme).user
        if who == "reader":
            assert resource.reader_role is not None
            do_create_grant(
                principal=world.acme.principal,
                workspace=world.acme.workspace,
                grantee=member,
                role=resource.reader_role,
                scope="all",
            )
        client, _, _ = client_for(member)
        key = resource.sample_key(world.acme)
        body = body_for(op, resource, world.acme)
        before = state(world, resource, key)
        response = call(client, op, resource, world.acme, key, body)
        if op == "get":
            expected = 200 if who == "reader" else resource.member_get
        else:  # a write: refused, as 404 when the member cannot see the row at all
            expected = 404 if who == "member" and resource.member_get == 404 else 403
        assert response.status_code == expected, response.content
        if expected != 200:
            assert error_of(response)["code"] == {403: 7, 404: 5}[expected]
            assert state(world, resource, key) == before

    @contract_check("openapi")
    def test_answers_match_the_openapi_document(
        self,
        world: World,
        resource: Resource,
        case: tuple[str, ...],
        openapi_document: dict[str, Any],
    ) -> None:
        (op,) = case
        collection_path, item_path = resource.openapi_paths()
        assert collection_path in openapi_document["paths"], collection_path
        key = resource.sample_key(world.acme)
        response = call(
            world.owner, op, resource, world.acme, key, body_for(op, resource, world.acme)
        )
        assert response.status_code == 200, response.content
        path, method = {
            "list": (collection_path, "get"),
            "create": (collection_path, "post"),
            "get": (item_path, "get"),
            "update": (item_path, "patch"),
        }[op]
        schema = response_schema(openapi_document, path, method, response.status_code)
        assert_valid(openapi_document, schema, response.json())


def operations_in_document(document: dict[str, Any], resource: Resource) -> set[str]:
    """The Config API operations the document offers on a resource's paths."""
    collection_path, item_path = resource.openapi_paths()
    on_collection = document["paths"].get(collection_path, {})
    on_item = document["paths"].get(item_path, {})
    found = {"list"} if "get" in on_collection else set()
    found |= {"create"} if "post" in on_collection else set()
    found |= {"get"} if "get" in on_item else set()
    found |= {"update"} if "patch" in on_item else set()
    found |= {"delete"} if "delete" in on_item else set()
    return found


def operations_described(resource: Resource) -> set[str]:
    readable = {"list", "get"} if resource.readable else set()
    return readable | set(resource.writes)
