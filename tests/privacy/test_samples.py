"""Inbox samples: detection keeps each row's value as last seen (cut short) and
whose it was; the Inbox (list, API, row detail) and the Inventory's detail show
it through the reader's mask; a deletion regulation erases the erased users'."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from connections.dataplane.observers import BatchEvent
from connections.models import Source
from privacy import samples, tasks
from privacy.masking import MARKER
from privacy.models import ObservedField, RegulationStatus
from privacy.services.detection import observe_batch
from privacy.services.fields import do_add_inventory_field
from privacy.services.regulations import do_create_regulation
from switchyard import masking
from switchyard.access import Principal
from tests.privacy.inbox_support import add_source, identify, send, track
from workspace.models import Membership, Workspace
from workspace.services.grants import do_create_grant

pytestmark = pytest.mark.django_db
API = "/v1beta/workspaces/acme/privacy/inbox"
UI = "/workspaces/acme/privacy"
# Values no page or token holds by chance.
EMAIL_1 = "first.q7x3@example.org"
EMAIL_2 = "second.k9w2@example.org"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture
def web(alice: User, acme: Workspace) -> Source:
    return add_source(alice, acme, "web")


def sample_of(path: str, **where: Any) -> tuple[Any, str]:
    row = ObservedField.objects.get(path=path, **where)
    return row.sample, row.sample_user_id


# -- detection keeps the last value seen ---------------------------------------------------------


def test_each_row_keeps_the_value_last_seen_and_whose_it_was(web: Source) -> None:
    send(web, identify("u-1", email=EMAIL_1, plan="pro"), identify("u-2", email=EMAIL_2))
    assert sample_of("traits.email") == (EMAIL_2, "u-2")  # the later event of the batch
    assert sample_of("traits.plan") == ("pro", "u-1")

    anonymous = {"type": "identify", "anonymousId": "a-1", "traits": {"email": EMAIL_1}}
    send(web, anonymous)
    assert sample_of("traits.email") == (EMAIL_1, "")  # anonymous: no user to erase it with
    assert sample_of("traits.plan") == ("pro", "u-1")  # not sent again: kept


def test_samples_are_per_event_type_and_name(web: Source) -> None:
    send(web, track("Order Completed", total=30), track("Cart Viewed", total=7))
    assert sample_of("properties.total", event_name="Order Completed") == (30, "u-1")
    assert sample_of("properties.total", event_name="Cart Viewed") == (7, "u-1")


def test_long_values_are_cut_short(web: Source) -> None:
    long_text = "x" * 500
    many = {f"key_{i:03d}": "v" * 40 for i in range(100)}
    deep = {"a": {"b": {"c": {"d": {"e": "deepest"}}}}}
    send(web, track("Viewed", note=long_text, tags=["t" * 30] * 100, blob=many, deep=deep))

    note, _ = sample_of("properties.note")
    assert note == "x" * samples.STRING_MAX + samples.ELLIPSIS
    tags, _ = sample_of("properties.tags")  # an array of strings is a field itself
    assert samples.size(tags) <= samples.SAMPLE_MAX
    assert tags[0] == "t" * 30 and tags[-1].startswith(samples.MORE) and tags[-1].endswith("more")
    dropped = int(tags[-1].split()[1])
    assert len(tags) - 1 + dropped == 100
    # A plain object is no row, its members are; an object a row holds is bounded alike.
    assert not ObservedField.objects.filter(path="properties.blob").exists()
    assert sample_of("properties.blob.key_000")[0] == "v" * 40
    assert samples.excerpt(many)[samples.MORE] > 0
    assert samples.size(samples.excerpt(many)) <= samples.SAMPLE_MAX
    assert samples.excerpt(deep) == {"a": {"b": {"c": {"d": samples.CUT_OBJECT}}}}


def test_an_object_a_matcher_flags_keeps_its_excerpt(web: Source) -> None:
    send(web, identify("u-1", address={"city": "Oslo", "zip": "0150"}))
    assert sample_of("traits.address") == ({"city": "Oslo", "zip": "0150"}, "u-1")


def test_a_null_value_keeps_no_sample(web: Source) -> None:
    send(web, identify("u-1", nickname=None))
    assert sample_of("traits.nickname") == (None, "u-1")


def test_a_batch_observed_after_a_later_one_keeps_the_later_sample(
    acme: Workspace, web: Source
) -> None:
    now = dt.datetime.now(dt.UTC)

    def event(n: int, user: str, value: str, at: dt.datetime) -> BatchEvent:
        payload = {"type": "identify", "userId": user, "traits": {"plan": value}}
        return BatchEvent(n, "identify", "", payload, at)

    observe_batch(acme.pk, web.pk, [event(1, "u-new", "new", now)])
    observe_batch(acme.pk, web.pk, [event(2, "u-old", "old", now - dt.timedelta(minutes=5))])
    row = ObservedField.objects.get(path="traits.plan")
    assert (row.sample, row.sample_user_id, row.sample_count) == ("new", "u-new", 2)


# What jsonb can hold: no lone surrogates, no NUL.
text = st.text(st.characters(codec="utf-8", blacklist_characters="\x00"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: (
        st.lists(children, max_size=30)
        | st.dictionaries(text.filter(lambda t: len(t) <= 150), children, max_size=30)
    ),
    max_leaves=400,
)


def _keys_kept(cut: Any, original: Any) -> bool:
    """Every key of the excerpt is the original's (never renamed), but the note."""
    if isinstance(cut, Mapping) and isinstance(original, Mapping):
        return all(
            key == samples.MORE or (key in original and _keys_kept(value, original[key]))
            for key, value in cut.items()
        )
    if isinstance(cut, list) and isinstance(original, list):
        return all(_keys_kept(c, o) for c, o in zip(cut, original, strict=False))
    return True


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_an_excerpt_is_bounded_and_keeps_keys(value: Any) -> None:
    cut = samples.excerpt(value)
    assert samples.size(cut) <= samples.SAMPLE_MAX
    assert _keys_kept(cut, value)


# -- shown through the reader's mask -------------------------------------------------------------


@pytest.fixture
def marked() -> Iterator[str]:
    """A second masker, registered as an app would, hiding every ``traits.email``
    from everyone: shows that each page and the API put samples through the mask."""
    hidden = "[hidden-by-test-masker]"

    class Mask:
        active = True

        def event(self, payload: Mapping[str, Any]) -> Any:
            traits = payload.get("traits")
            if isinstance(traits, Mapping) and "email" in traits:
                return {**payload, "traits": {**traits, "email": hidden}}
            return payload

        def json(self, value: Any, *, events: Sequence[Mapping[str, Any]] = ()) -> Any:
            return value

    def masker(principal: Principal, workspace_id: Any) -> Mask:
        return Mask()

    masking.register(masker)
    try:
        yield hidden
    finally:
        masking.unregister(masker)


def test_the_api_lists_samples_masked_like_event_data(
    api: APIClient, web: Source, marked: str
) -> None:
    send(web, identify("u-1", email=EMAIL_1, plan="pro"))
    answer = api.get(f"{API}?page_size=100")
    assert answer.status_code == 200, answer.content
    found = {r["path"]: r for r in answer.json()["fields"]}
    assert found["traits.plan"]["sample"] == "pro"
    assert found["traits.email"]["sample"] == marked
    assert EMAIL_1 not in answer.content.decode()


def test_the_api_lists_a_sample_per_source_the_latest(
    api: APIClient, alice: User, acme: Workspace, web: Source
) -> None:
    ios = add_source(alice, acme, "ios")
    send(web, track("Viewed", total=1))
    send(web, track("Bought", total=2))
    send(ios, track("Viewed", total=3))
    send(web, identify("u-1", nickname=None))
    answer = api.get(f"{API}?page_size=100").json()["fields"]
    totals = {r["source"]: r["sample"] for r in answer if r["path"] == "properties.total"}
    assert totals == {"workspaces/acme/sources/web": 2, "workspaces/acme/sources/ios": 3}
    nickname = next(r for r in answer if r["path"] == "traits.nickname")
    assert nickname["sample"] is None


def test_the_pages_show_samples_masked(
    client: Client, alice: User, acme: Workspace, web: Source, marked: str
) -> None:
    send(web, identify("u-1", email=EMAIL_1, plan="platinum-v4r"))
    field = do_add_inventory_field(
        principal=Principal(alice), workspace=acme, path="traits.email", classification="RED"
    )
    client.force_login(alice)
    pages = [
        client.get(f"{UI}/inbox/"),
        client.get(f"{UI}/inbox/field", {"path": "traits.email", "source": "web"}),
        client.get(f"{UI}/inventory/{field.key_id}/"),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert marked in html and EMAIL_1 not in html
    assert "platinum-v4r" in pages[0].content.decode()


def test_the_privacy_mask_hides_a_sample_where_it_hides_the_event_field(
    alice: User, bob: User, acme: Workspace
) -> None:
    """The samples are put back at their path: a reader without PII Access (not an
    Inbox reader today) would see a sample as they see the field in an event."""
    Membership.objects.create(workspace=acme, user=bob)
    do_create_grant(
        principal=Principal(alice),
        workspace=acme,
        grantee=bob,
        role="source-read-only",
        scope="all",
    )
    do_add_inventory_field(
        principal=Principal(alice), workspace=acme, path="properties.color", classification="RED"
    )
    reader = masking.mask_for(Principal(bob), acme.pk)
    owner = masking.mask_for(Principal(alice), acme.pk)
    assert samples.masked(reader, "traits.email", EMAIL_1) == MARKER  # key matcher
    assert samples.masked(reader, "properties.contact", EMAIL_1) == MARKER  # value matcher
    assert samples.masked(reader, "properties.color", "blue") == MARKER  # the Inventory
    assert samples.masked(reader, "traits.address.city", "Oslo") is None  # its parent is masked
    assert samples.masked(reader, "traits.address", {"city": "Oslo"}) == MARKER
    assert samples.masked(reader, "traits.plan", "pro") == "pro"
    assert samples.masked(reader, "properties.tags", ["a", EMAIL_1]) == MARKER
    assert samples.masked(owner, "traits.email", EMAIL_1) == EMAIL_1


# -- the Inbox row's detail ----------------------------------------------------------------------


def test_a_row_detail_shows_events_sources_matcher_and_a_snippet(
    client: Client, alice: User, acme: Workspace, web: Source
) -> None:
    ios = add_source(alice, acme, "ios")
    send(web, identify("u-1", ssn="123-45-6789"), track("Signed Up", ssn="987-65-4321"))
    send(ios, identify("u-2", ssn="111-22-3333"))
    client.force_login(alice)
    page = client.get(f"{UI}/inbox/field", {"path": "traits.ssn", "source": "web"})
    assert page.status_code == 200
    context = page.context
    detail = context["detail"]
    assert [(e.event_type, e.event_name, e.sample) for e in detail.events] == [
        ("identify", "", "123-45-6789")
    ]
    assert [(s.source.slug, s.sample) for s in detail.sources] == [
        ("ios", "111-22-3333"),
        ("web", "123-45-6789"),
    ]
    assert detail.matcher.display_name == "social security number"
    html = page.content.decode()
    assert "Key matcher" in html and "social security number" in html
    assert "&quot;ssn&quot;: &quot;123-45-6789&quot;" in html  # the snippet, escaped
    assert "&quot;type&quot;: &quot;identify&quot;" in html

    track_page = client.get(
        f"{UI}/inbox/field", {"path": "properties.ssn", "source": "web"}
    ).content.decode()
    assert "&quot;event&quot;: &quot;Signed Up&quot;" in track_page

    send(web, track("Contact", contact=EMAIL_1))
    value = client.get(f"{UI}/inbox/field", {"path": "properties.contact", "source": "web"})
    assert "Value matcher" in value.content.decode()

    inbox = client.get(f"{UI}/inbox/").content.decode()
    assert "/privacy/inbox/field?path=traits.ssn&amp;source=web" in inbox


def test_a_row_detail_of_nothing_seen_is_404_and_owners_only(
    client: Client, alice: User, bob: User, acme: Workspace, web: Source
) -> None:
    send(web, identify("u-1", plan="pro"))
    client.force_login(alice)
    url = f"{UI}/inbox/field"
    assert client.get(url, {"path": "traits.nope", "source": "web"}).status_code == 404
    assert client.get(url, {"path": "traits.plan", "source": "x"}).status_code == 404
    assert client.get(url).status_code == 404
    Membership.objects.create(workspace=acme, user=bob)
    client.force_login(bob)
    assert client.get(url, {"path": "traits.plan", "source": "web"}).status_code == 403


def test_the_inventory_detail_shows_a_sample_per_source(
    client: Client, alice: User, acme: Workspace, web: Source
) -> None:
    ios = add_source(alice, acme, "ios")
    send(web, identify("u-1", plan="plan-web-q1"))
    send(ios, identify("u-2", plan="plan-ios-q2"))
    field = do_add_inventory_field(
        principal=Principal(alice), workspace=acme, path="traits.plan", classification="YELLOW"
    )
    client.force_login(alice)
    page = client.get(f"{UI}/inventory/{field.key_id}/")
    sources = {s.source.slug: s.sample for s in page.context["details"].sources}
    assert sources == {"web": "plan-web-q1", "ios": "plan-ios-q2"}
    html = page.content.decode()
    assert "plan-web-q1" in html and "plan-ios-q2" in html


# -- erased with the user ------------------------------------------------------------------------


def test_a_deletion_clears_the_erased_users_samples_only(
    alice: User, bob: User, acme: Workspace, web: Source, make_workspace: Callable[..., Any]
) -> None:
    ios = add_source(alice, acme, "ios")
    globex = make_workspace(bob, "globex")
    theirs = add_source(bob, globex, "web")
    send(web, identify("u-1", email=EMAIL_1, plan="pro"), identify("u-2", plan="team"))
    send(ios, identify("u-1", email=EMAIL_1))
    send(theirs, identify("u-1", email=EMAIL_1))
    ours = ObservedField.objects.filter(workspace=acme, sample_user_id="u-1")
    expected = ours.count()
    assert expected >= 2  # traits.email from both sources, and more

    regulation = do_create_regulation(
        principal=Principal(alice),
        workspace=acme,
        regulation_type="DELETE_INTERNAL",
        subject_type="USER_ID",
        subject_ids=["u-1"],
    )
    tasks.process_regulation(regulation.pk)
    regulation.refresh_from_db()

    assert regulation.status == RegulationStatus.FINISHED, regulation.error
    assert regulation.counts["inbox_samples"] == expected
    assert not ours.exists()
    assert sample_of("traits.email", source=web) == (None, "")
    assert sample_of("traits.email", source=ios) == (None, "")
    assert sample_of("traits.plan", source=web) == ("team", "u-2")  # u-2's, the last seen
    assert sample_of("traits.email", source=theirs) == (EMAIL_1, "u-1")  # another workspace
    # The rows stay (the field was seen; its counts are no user's data).
    assert ObservedField.objects.get(path="traits.email", source=web).sample_count == 1
