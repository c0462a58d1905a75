"""The audiences and computed traits Config API: create with precise definition
errors, cycles, immutable fields, preview on the compiled query, :compute, runs,
members (paged), Engage Users' and read-only roles' access, and the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest

from engage.models import Computation, ComputationKey, ComputationRun, RunTrigger
from engage.services import computation_runs
from tests.engage.compute_support import NOW, World, ago, audience, did, trait, within
from tests.engage.spaces_support import Acme, make_acme
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db

BASE = "/v1beta/workspaces/acme/spaces/main"
AUDIENCES = f"{BASE}/audiences"
TRAITS = f"{BASE}/computed-traits"


@pytest.fixture
def acme() -> Acme:
    acme = make_acme()
    acme.space("main")
    return acme


@pytest.fixture
def world(acme: Acme) -> World:
    return World(acme.workspace.spaces.get(slug="main"))


BUYERS = audience(did("Order Completed", window=within(7)))
COUNTER = {
    "version": 1,
    "type": "users",
    "kind": "event_counter",
    "event": "Order Completed",
    "where": None,
    "window": within(30),
}


def post_audience(api: Any, name: str, definition: Any, **extra: Any) -> Any:
    body = {"audience": {"display_name": name, "definition": definition, **extra}}
    return api.post(AUDIENCES, body, format="json")


def test_create_get_list_and_the_first_run_queued(acme: Acme) -> None:
    api = acme.client()
    created = post_audience(api, "Recent Buyers", BUYERS, folder="Sales")
    assert created.status_code == 200, created.json()
    body = created.json()
    assert body["name"] == "workspaces/acme/spaces/main/audiences/recent_buyers"
    assert body["id"].startswith("aud_")
    assert (body["key"], body["compute_mode"], body["status"]) == (
        "recent_buyers",
        "realtime",
        "PREPARING",
    )
    assert body["folder"] == "Sales"
    assert api.get(f"{AUDIENCES}/recent_buyers").json()["definition"] == BUYERS
    assert [a["key"] for a in api.get(AUDIENCES).json()["audiences"]] == ["recent_buyers"]
    run = ComputationRun.objects.get(computation__key="recent_buyers")
    assert run.trigger == RunTrigger.CREATE
    entry = AuditEntry.objects.get(action="audience.created")
    assert entry.resource_name == body["name"]


def test_definition_errors_name_each_json_pointer(acme: Acme) -> None:
    bad = audience(
        {
            "op": "and",
            "args": [
                did("Order Completed", window={"type": "within", "value": 0, "unit": "weeks"}),
                trait("plan", "in", "pro"),
            ],
        }
    )
    response = post_audience(acme.client(), "Bad", bad)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == 3
    assert "definition/root/args/0/window" in error["error"]
    assert "definition/root/args/1/value" in error["error"]
    assert not Computation.objects.exists()


def test_unknown_audiences_and_cycles_are_refused(acme: Acme) -> None:
    api = acme.client()
    member_of = {"kind": "audience", "audience_key": "b", "member": True}
    unknown = post_audience(api, "A", audience(member_of))
    assert unknown.status_code == 400
    assert "there is no audience 'b'" in unknown.json()["error"]
    assert post_audience(api, "B", BUYERS).status_code == 200
    assert post_audience(api, "A", audience(member_of)).status_code == 200
    # b -> a -> b
    body = {
        "audience": {
            "definition": audience({"kind": "audience", "audience_key": "a", "member": True})
        },
        "update_mask": {"paths": ["audience.definition"]},
    }
    response = api.patch(f"{AUDIENCES}/b", body, format="json")
    assert response.status_code == 400
    assert (
        "The audience would create a cycle by referencing another audience"
        in (response.json()["error"])
    )
    assert "definition/root/audience_key" in response.json()["error"]
    # Self-reference at creation.
    itself = post_audience(
        api, "C", audience({"kind": "audience", "audience_key": "c", "member": True})
    )
    assert "would create a cycle" in itself.json()["error"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("audience.key", "other", "a key cannot be changed"),
        ("audience.compute_mode", "batch", "real-time and batch cannot be switched"),
    ],
)
def test_immutable_fields(acme: Acme, path: str, value: str, message: str) -> None:
    api = acme.client()
    post_audience(api, "Buyers", BUYERS)
    body = {"audience": {path.split(".")[1]: value}, "update_mask": {"paths": [path]}}
    response = api.patch(f"{AUDIENCES}/buyers", body, format="json")
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert Computation.objects.get().key == "buyers"


def test_an_edit_cannot_switch_mode_or_include_anonymous(acme: Acme) -> None:
    api = acme.client()
    post_audience(api, "Buyers", BUYERS)
    between = {
        "type": "between",
        "start": {"value": 1, "unit": "days"},
        "end": {"value": 9, "unit": "days"},
    }
    batch = audience(did("Order Completed", window=between))
    mask = {"paths": ["audience.definition"]}
    response = api.patch(
        f"{AUDIENCES}/buyers",
        {"audience": {"definition": batch}, "update_mask": mask},
        format="json",
    )
    assert response.status_code == 400
    assert "would be computed batch but the audience is realtime" in response.json()["error"]
    anonymous = {**BUYERS, "include_anonymous": True}
    response = api.patch(
        f"{AUDIENCES}/buyers",
        {"audience": {"definition": anonymous}, "update_mask": mask},
        format="json",
    )
    assert "include_anonymous cannot be changed" in response.json()["error"]
    # A nested path edits the stored definition; the edit is audited and re-run.
    response = api.patch(
        f"{AUDIENCES}/buyers",
        {
            "audience": {"definition": {"root": did("Order Completed", window=within(3))}},
            "update_mask": {"paths": ["audience.definition.root"]},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["definition"]["root"]["window"]["value"] == 3
    assert AuditEntry.objects.filter(action="audience.updated").count() == 1


def test_keys_are_never_reused(acme: Acme) -> None:
    api = acme.client()
    post_audience(api, "Buyers", BUYERS)
    assert (
        api.post(
            TRAITS,
            {"computed_trait": {"display_name": "Buyers", "definition": COUNTER}},
            format="json",
        ).status_code
        == 409
    )
    assert api.delete(f"{AUDIENCES}/buyers").status_code == 200
    assert AuditEntry.objects.filter(action="audience.deleted").exists()
    again = post_audience(api, "Buyers", BUYERS)
    assert again.status_code == 409
    assert "never reused" in again.json()["error"]
    assert ComputationKey.objects.filter(key="buyers").count() == 1
    assert post_audience(api, "Buyers", BUYERS, key="buyers_v2").status_code == 200


def test_a_referenced_audience_cannot_be_deleted(acme: Acme) -> None:
    api = acme.client()
    post_audience(api, "Buyers", BUYERS)
    post_audience(
        api, "Fans", audience({"kind": "audience", "audience_key": "buyers", "member": True})
    )
    response = api.delete(f"{AUDIENCES}/buyers")
    assert response.status_code == 400
    assert "used by audience(s) ['fans']" in response.json()["error"]


def test_preview_counts_the_compiled_query(acme: Acme, world: World) -> None:
    for user in ("u1", "u2", "u3"):
        world.identify(user)
    world.track("u1", "Order Completed", at=ago(days=1))
    world.track("u2", "Order Completed", at=ago(days=1))
    world.track("u2", "Order Completed", at=ago(days=2))
    # Preview runs at the real now: the events must be within 7 days of it.
    from django.utils import timezone

    world.track("u3", "Order Completed", at=timezone.now())
    world.track("u1", "Order Completed", at=timezone.now())
    response = acme.client().post(f"{AUDIENCES}:preview", {"definition": BUYERS}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["size"] == 2
    assert sorted(body["sample"]) == sorted(p.segment_id for p in _profiles(world, "u1", "u3"))
    assert body["compute_mode"] == "realtime"
    counted = acme.client().post(f"{TRAITS}:preview", {"definition": COUNTER}, format="json")
    assert counted.json()["size"] == 3  # every profile gets a count
    assert not Computation.objects.exists()


def _profiles(world: World, *users: str) -> list[Any]:
    from engage.models import Profile

    return [Profile.objects.get(pk=world.pid(u)) for u in users]


def test_compute_runs_and_members_pages(acme: Acme, world: World) -> None:
    api = acme.client()
    for user in ("u1", "u2", "u3"):
        world.identify(user)
        world.track(user, "Order Completed", at=ago(days=1))
    post_audience(api, "Buyers", BUYERS)
    first = ComputationRun.objects.get()
    # :compute while the create's run is pending answers that run.
    answer = api.post(f"{AUDIENCES}/buyers:compute").json()
    assert answer["id"] == str(first.pk)
    computation_runs.execute(first.pk, now=NOW)
    second = api.post(f"{AUDIENCES}/buyers:compute").json()
    assert second["trigger"] == "manual" and second["status"] == "QUEUED"

    runs = api.get(f"{AUDIENCES}/buyers/runs").json()["runs"]
    assert [(r["trigger"], r["status"], r["entered"], r["size"]) for r in runs] == [
        ("create", "SUCCEEDED", 3, 3),
        ("manual", "QUEUED", 0, 0),
    ]
    assert runs[0]["duration_seconds"] is not None
    assert api.get(f"{AUDIENCES}/buyers/runs/{first.pk}").json()["step"] == 3

    page = api.get(f"{AUDIENCES}/buyers/members", {"page_size": 2}).json()
    assert len(page["members"]) == 2 and page["next_page_token"]
    rest = api.get(
        f"{AUDIENCES}/buyers/members", {"page_size": 2, "page_token": page["next_page_token"]}
    ).json()
    ids = [m["segment_id"] for m in page["members"] + rest["members"]]
    assert sorted(ids) == sorted(p.segment_id for p in _profiles(world, "u1", "u2", "u3"))
    assert all(m["value"] is True for m in page["members"])
    one = api.get(f"{AUDIENCES}/buyers/members/{ids[0]}").json()
    assert one["name"].endswith(f"/audiences/buyers/members/{ids[0]}")
    assert api.get(f"{TRAITS}/buyers/members").status_code == 404


def test_trait_api_create_and_members(acme: Acme, world: World) -> None:
    api = acme.client()
    world.track("u1", "Order Completed", at=ago(days=1))
    body = {"computed_trait": {"display_name": "Orders 30d", "definition": COUNTER}}
    created = api.post(TRAITS, body, format="json")
    assert created.status_code == 200, created.json()
    assert created.json()["name"].endswith("/computed-traits/orders_30d")
    assert created.json()["id"].startswith("tra_")
    run = ComputationRun.objects.get()
    computation_runs.execute(run.pk, now=NOW)
    members = api.get(f"{TRAITS}/orders_30d/members").json()["members"]
    assert [m["value"] for m in members] == [1]
    bad = {"computed_trait": {"display_name": "X", "definition": {**COUNTER, "kind": "median"}}}
    assert "definition/kind" in api.post(TRAITS, bad, format="json").json()["error"]


def test_engage_users_write_and_read_only_roles_cannot(acme: Acme) -> None:
    engage_user = acme.member("unify-read-only-engage-user")
    reader = acme.member("unify-and-engage-read-only")
    assert post_audience(acme.client(engage_user), "Buyers", BUYERS).status_code == 200
    refused = post_audience(acme.client(reader), "Others", BUYERS)
    assert refused.status_code == 403
    assert acme.client(reader).get(f"{AUDIENCES}/buyers").status_code == 200
    assert acme.client(reader).post(f"{AUDIENCES}/buyers:compute").status_code == 403
    stranger = acme.member()
    assert acme.client(stranger).get(AUDIENCES).status_code == 404


def test_the_openapi_schema_publishes_the_definition_components() -> None:
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    schemas = document["components"]["schemas"]
    assert {"AudienceDefinition", "AudienceDefinitionNode", "TraitDefinition"} <= set(schemas)
    assert "root" in schemas["AudienceDefinition"]["properties"]
    audience = schemas["Audience"]["properties"]["definition"]
    assert "#/components/schemas/AudienceDefinition" in str(audience)
    paths = {p for p in document["paths"] if "/audiences" in p or "/computed-traits" in p}
    space = "/v1beta/workspaces/{workspace}/spaces/{space}"
    assert {
        f"{space}/audiences",
        f"{space}/audiences/{{audience}}",
        f"{space}/audiences/{{audience}}:compute",
        f"{space}/audiences:preview",
        f"{space}/audiences/{{audience}}/runs",
        f"{space}/audiences/{{audience}}/members",
        f"{space}/computed-traits/{{computed_trait}}:compute",
        f"{space}/computed-traits:preview",
    } <= paths, sorted(paths)
    create = document["paths"][f"{space}/audiences"]["post"]["requestBody"]
    assert "CreateAudience" in str(create)


def test_a_space_sets_its_batch_cadence(acme: Acme) -> None:
    api = acme.client()
    assert api.get(BASE).json()["batch_cadence_hours"] == 8
    body = {
        "space": {"batch_cadence_hours": 12},
        "update_mask": {"paths": ["space.batch_cadence_hours"]},
    }
    answer = api.patch(BASE, body, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["batch_cadence_hours"] == 12
    entry = AuditEntry.objects.filter(action="space.updated").latest("time", "id")
    assert entry.after == {"batch_cadence_hours": 12}
    body["space"]["batch_cadence_hours"] = 0
    assert api.patch(BASE, body, format="json").status_code == 400
    assert acme.workspace.spaces.get(slug="main").batch_cadence_hours == 12
