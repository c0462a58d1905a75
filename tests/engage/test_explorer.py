"""The Profile explorer: search by any identifier, the profile page's identities,
traits, events (from the event store), merges and links; masked PII for readers
without PII Access; only readers of the space get in."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from engage.models import ProfileLink, ProfileMerge
from tests.engage.explorer_support import (
    EMAIL,
    EVENT,
    PLAN,
    SOURCE,
    USER_ID,
    Setup,
    make_space,
    setup,
)
from workspace.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def s(alice, make_user, make_workspace) -> Setup:
    return setup(alice, make_user, make_workspace)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_search_by_type_and_value_finds_the_profile(s: Setup) -> None:
    jane = s.profile(plan=PLAN)
    s.identify(jane, "user_id", USER_ID)
    other = s.profile()
    s.identify(other, "user_id", "uid-other-p2")
    page = signed_in(s.owner).get(f"{s.base}/profiles/", {"q": f"user_id:{USER_ID}"})
    assert page.status_code == 200
    assert jane.segment_id in page.content.decode()
    assert other.segment_id not in page.content.decode()


def test_search_by_bare_value_looks_across_types(s: Setup) -> None:
    jane = s.profile()
    s.identify(jane, "email", EMAIL)
    page = signed_in(s.owner).get(f"{s.base}/profiles/", {"q": EMAIL})
    assert jane.segment_id in page.content.decode()
    wrong_type = signed_in(s.owner).get(f"{s.base}/profiles/", {"q": f"user_id:{EMAIL}"})
    assert jane.segment_id not in wrong_type.content.decode()


def test_search_leads_from_a_merged_profile_to_its_survivor(s: Setup) -> None:
    survivor = s.profile()
    merged = s.profile()
    merged.canonical = survivor
    merged.save()
    s.identify(merged, "anonymous_id", "anon-zq81")
    page = signed_in(s.owner).get(f"{s.base}/profiles/", {"q": "anon-zq81"})
    assert survivor.segment_id in page.content.decode()
    assert merged.segment_id not in page.content.decode()


def test_without_a_query_the_recent_profiles_are_listed(s: Setup) -> None:
    first, second = s.profile(), s.profile()
    page = signed_in(s.owner).get(f"{s.base}/profiles/")
    body = page.content.decode()
    assert body.index(second.segment_id) < body.index(first.segment_id)


def test_htmx_search_answers_the_rows_only(s: Setup) -> None:
    jane = s.profile()
    s.identify(jane, "user_id", USER_ID)
    page = signed_in(s.owner).get(f"{s.base}/profiles/", {"q": USER_ID}, HTTP_HX_REQUEST="true")
    assert jane.segment_id in page.content.decode()
    assert "<html" not in page.content.decode()


def test_profile_page_shows_identities_traits_events_merges_and_links(s: Setup) -> None:
    jane = s.profile(plan=PLAN)
    s.identify(jane, "user_id", USER_ID)
    s.event(jane, EVENT, total=42)
    old = s.profile()
    old.canonical = jane
    old.save()
    s.event(old, "Signed Upzq")
    ProfileMerge.objects.create(space=s.space, merged=old, into=jane, time=timezone.now())
    account = s.profile()
    account.collection = "accounts"
    account.save()
    ProfileLink.objects.create(
        space=s.space, user=jane, account=account, create_time=timezone.now()
    )
    page = signed_in(s.owner).get(f"{s.base}/profiles/{jane.segment_id}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert USER_ID in body and PLAN in body
    assert EVENT in body and "Signed Upzq" in body  # the merged profile's events too
    assert "&quot;total&quot;: 42" in body  # the stored payload
    assert old.segment_id in body and account.segment_id in body
    assert SOURCE in body


def test_a_merged_profile_points_at_its_survivor(s: Setup) -> None:
    survivor, merged = s.profile(), s.profile()
    merged.canonical = survivor
    merged.save()
    page = signed_in(s.owner).get(f"{s.base}/profiles/{merged.segment_id}/")
    assert 'id="merged-note"' in page.content.decode()
    assert survivor.segment_id in page.content.decode()


def test_readers_without_pii_access_see_masked_values(s: Setup) -> None:
    jane = s.profile(email=EMAIL, plan=PLAN)
    s.identify(jane, "email", EMAIL)
    s.event(jane, EVENT)
    reader = signed_in(s.reader).get(f"{s.base}/profiles/{jane.segment_id}/")
    assert reader.status_code == 200
    body = reader.content.decode()
    assert EMAIL not in body
    assert PLAN in body and EVENT in body
    assert EMAIL in signed_in(s.owner).get(f"{s.base}/profiles/{jane.segment_id}/").content.decode()


def test_a_search_by_a_masked_value_finds_nothing_for_such_readers(s: Setup) -> None:
    jane = s.profile()
    s.identify(jane, "email", EMAIL)
    page = signed_in(s.reader).get(f"{s.base}/profiles/", {"q": f"email:{EMAIL}"})
    assert jane.segment_id not in page.content.decode()


def test_members_without_a_space_role_get_404(s: Setup, make_user) -> None:
    outsider = make_user("outsider")
    Membership.objects.create(workspace=s.workspace, user=outsider)
    jane = s.profile()
    client = signed_in(outsider)
    assert client.get(f"{s.base}/profiles/").status_code == 404
    assert client.get(f"{s.base}/profiles/{jane.segment_id}/").status_code == 404


def test_a_profile_of_another_space_is_not_found(s: Setup) -> None:
    other = make_space(s.workspace, "dev")
    s.space, home = other, s.space
    elsewhere = s.profile()
    s.space = home
    page = signed_in(s.owner).get(f"{s.base}/profiles/{elsewhere.segment_id}/")
    assert page.status_code == 404
