"""Identity resolution applied to the graph (engage.services.resolution): the
docs' examples, limits, blocked values, custom identifiers, system limits,
idempotency, traits and group links, on the real database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection, transaction

from engage.models import (
    IdentifierSetting,
    IdentityLog,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    ProfileLink,
    ProfileMerge,
    Space,
)
from engage.services import resolution_writes as writes
from engage.services.resolution import resolve_events
from tests.engage.identity_support import make_space
from tests.engage.resolution_support import T0, event, live, owner, values
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def space(alice: User, make_workspace: Callable[..., Workspace]) -> Space:
    return make_space(make_workspace(alice, "acme"))


def logs(space: Space, kind: str | None = None) -> list[tuple[str, str]]:
    rows = IdentityLog.objects.filter(space=space).order_by("pk")
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.values_list("code", "message"))


def test_no_match_creates_a_profile_with_the_events_identifiers(space: Space) -> None:
    track = event(userId="u1", anonymousId="a1", event="Signed Up")

    outcome = resolve_events(space, [track])

    profile = owner(space, "user_id", "u1")
    assert outcome.created == 1
    assert profile.segment_id.startswith("use_")
    assert values(profile) == {("user_id", "u1"), ("anonymous_id", "a1")}
    assert profile.mappings == 2
    attached = ProfileEvent.objects.get(space=space)
    assert (attached.profile_id, attached.event_id, attached.event_name) == (
        profile.pk,
        track.event_id,
        "Signed Up",
    )
    assert logs(space, "SUCCESS") == [("profile_created", "Profile created")]


def test_one_match_attaches_the_event_and_adds_new_identifiers(space: Space) -> None:
    resolve_events(space, [event(anonymousId="a1")])

    resolve_events(space, [event("identify", anonymousId="a1", userId="u1")])

    profile = owner(space, "anonymous_id", "a1")
    assert values(profile) == {("anonymous_id", "a1"), ("user_id", "u1")}
    assert ProfileEvent.objects.filter(profile=profile).count() == 2
    assert len(live(space)) == 1


def test_several_matches_merge_into_the_user_id_profile(space: Space) -> None:
    resolve_events(space, [event(anonymousId="a1", event="Viewed")])
    resolve_events(space, [event("identify", userId="u1", anonymousId="a2")])
    anonymous = owner(space, "anonymous_id", "a1")
    known = owner(space, "user_id", "u1")

    outcome = resolve_events(space, [event(userId="u1", anonymousId="a1", event="Bought")])

    assert outcome.merged == 1
    anonymous.refresh_from_db()
    known.refresh_from_db()
    assert anonymous.canonical_id == known.pk
    assert values(known) == {("user_id", "u1"), ("anonymous_id", "a1"), ("anonymous_id", "a2")}
    assert ProfileEvent.objects.filter(profile=known).count() == 3
    assert known.merges == 1
    assert known.mappings == 3
    merge = ProfileMerge.objects.get(space=space)
    assert (merge.merged_id, merge.into_id) == (anonymous.pk, known.pk)
    assert (
        "profiles_merged",
        f"Profile {anonymous.segment_id} merged into {known.segment_id}",
    ) in logs(space, "SUCCESS")


def test_a_profile_merged_twice_points_at_the_last_survivor(space: Space) -> None:
    resolve_events(space, [event(anonymousId="a1")])
    resolve_events(space, [event(anonymousId="a2")])
    resolve_events(space, [event(anonymousId="a1", traits={"email": "e@example.com"})])

    resolve_events(space, [event(anonymousId="a2", traits={"email": "e@example.com"})])
    resolve_events(space, [event(userId="u1", anonymousId="a2")])
    resolve_events(space, [event(anonymousId="a3")])
    resolve_events(space, [event(userId="u1", anonymousId="a3")])

    survivor = owner(space, "user_id", "u1")
    assert [p.pk for p in live(space)] == [survivor.pk]
    assert set(
        Profile.objects.filter(space=space)
        .exclude(pk=survivor.pk)
        .values_list("canonical_id", flat=True)
    ) == {survivor.pk}


def test_docs_worked_example_demotes_email_and_creates_a_new_profile(space: Space) -> None:
    resolve_events(
        space, [event("identify", userId="abc123", traits={"email": "jane@example1.com"})]
    )
    jane = owner(space, "user_id", "abc123")

    resolve_events(
        space, [event("identify", userId="abc456", traits={"email": "jane@example1.com"})]
    )

    other = owner(space, "user_id", "abc456")
    assert other.pk != jane.pk
    assert values(other) == {("user_id", "abc456")}
    assert values(jane) == {("user_id", "abc123"), ("email", "jane@example1.com")}
    assert ("identifier_value_limit_exceeded", "Identifier value limit exceeded") in logs(
        space, "VIOLATION"
    )
    violation = IdentityLog.objects.get(space=space, kind="VIOLATION")
    assert violation.segment_id == other.segment_id
    assert violation.detail == {
        "type": "user_id",
        "demoted_type": "email",
        "demoted_value": "jane@example1.com",
    }


def test_merge_protection_shared_anonymous_id_never_merges_two_users(space: Space) -> None:
    # A shared device whose anonymousId is not reset on logout.
    resolve_events(space, [event("identify", userId="u1", anonymousId="ipad")])
    resolve_events(space, [event("identify", userId="u2", anonymousId="ipad")])
    resolve_events(space, [event(userId="u1", anonymousId="ipad")])
    resolve_events(space, [event(userId="u2", anonymousId="ipad")])

    u1, u2 = owner(space, "user_id", "u1"), owner(space, "user_id", "u2")
    assert u1.pk != u2.pk
    assert len(live(space)) == 2
    assert not ProfileMerge.objects.filter(space=space).exists()
    assert owner(space, "anonymous_id", "ipad").pk == u1.pk
    assert ProfileEvent.objects.filter(profile=u2).count() == 2


def test_merge_protection_blob_email_stays_with_its_first_user(space: Space) -> None:
    for user in ("u1", "u2", "u3"):
        resolve_events(
            space, [event("identify", userId=user, traits={"email": "team@company.com"})]
        )

    assert len(live(space)) == 3
    assert owner(space, "email", "team@company.com").pk == owner(space, "user_id", "u1").pk


def test_weekly_limit_counts_values_seen_in_the_last_seven_days(space: Space) -> None:
    IdentifierSetting.objects.filter(space=space, type="anonymous_id").update(
        limit=2, period="WEEKLY"
    )
    resolve_events(
        space,
        [event(userId="u1", anonymousId="a1", at=T0), event(userId="u1", anonymousId="a2", at=T0)],
    )
    profile = owner(space, "user_id", "u1")

    resolve_events(space, [event(userId="u1", anonymousId="a3", at=T0 + dt.timedelta(days=6))])
    resolve_events(space, [event(userId="u1", anonymousId="a4", at=T0 + dt.timedelta(days=8))])

    assert values(profile) == {
        ("user_id", "u1"),
        ("anonymous_id", "a1"),
        ("anonymous_id", "a2"),
        ("anonymous_id", "a4"),
    }
    assert logs(space, "VIOLATION") == [
        ("identifier_value_time_limit_exceeded", "Identifier value time limit exceeded")
    ]


def test_limit_ever_counts_every_value(space: Space) -> None:
    IdentifierSetting.objects.filter(space=space, type="anonymous_id").update(
        limit=1, period="EVER"
    )
    resolve_events(space, [event(userId="u1", anonymousId="a1", at=T0)])

    resolve_events(space, [event(userId="u1", anonymousId="a2", at=T0 + dt.timedelta(days=400))])

    assert values(owner(space, "user_id", "u1")) == {("user_id", "u1"), ("anonymous_id", "a1")}
    assert not ProfileIdentifier.objects.filter(value="a2").exists()


def test_blocked_values_are_logged_and_not_promoted(space: Space) -> None:
    IdentifierSetting.objects.filter(space=space, type="user_id").update(
        blocked_values=[{"value": "abc123", "kind": "EXACT"}, {"value": "^test-", "kind": "REGEX"}]
    )

    resolve_events(space, [event(userId="abc123", anonymousId="a1")])
    resolve_events(space, [event(userId="test-42", anonymousId="a2")])

    assert not ProfileIdentifier.objects.filter(space=space, type="user_id").exists()
    assert logs(space, "VIOLATION") == [("id_value_blocked", "ID value blocked")] * 2


def test_an_event_with_only_blocked_values_is_the_no_identifiers_error(space: Space) -> None:
    outcome = resolve_events(space, [event(userId="null", anonymousId="0000")])

    assert outcome.failed == 1
    assert not Profile.objects.filter(space=space).exists()
    assert logs(space, "ERROR") == [("no_matching_identifiers", "No matching identifiers on event")]


def test_external_ids_resolve_and_unknown_types_join_the_settings(space: Space) -> None:
    lowest = max(IdentifierSetting.objects.filter(space=space).values_list("priority", flat=True))
    phone = {"id": "123-456-7890", "type": "phone", "collection": "users", "encoding": "none"}

    resolve_events(space, [event(userId="u1", context={"externalIds": [phone]})])
    resolve_events(space, [event(properties={"phone": "123-456-7890"}, event="Called")])

    setting = IdentifierSetting.objects.get(space=space, type="phone")
    assert (setting.priority, setting.limit, setting.period, setting.custom) == (
        lowest + 1,
        5,
        "EVER",
        True,
    )
    profile = owner(space, "phone", "123-456-7890")
    assert profile.pk == owner(space, "user_id", "u1").pk
    assert ProfileEvent.objects.filter(profile=profile).count() == 2


def test_merge_cap_stops_merging_but_the_event_still_resolves(space: Space) -> None:
    resolve_events(space, [event(userId="u1")])
    resolve_events(space, [event(anonymousId="a1")])
    Profile.objects.filter(pk=owner(space, "user_id", "u1").pk).update(merges=100)

    outcome = resolve_events(space, [event(userId="u1", anonymousId="a1")])

    assert outcome.merged == 0
    assert len(live(space)) == 2
    assert ProfileEvent.objects.filter(profile=owner(space, "user_id", "u1")).count() == 2
    assert logs(space, "VIOLATION") == [
        ("profile_merge_limit_exceeded", "Profile merge limit exceeded")
    ]


def test_mapping_cap_adds_no_more_values_but_the_event_still_resolves(space: Space) -> None:
    resolve_events(space, [event(userId="u1")])
    profile = owner(space, "user_id", "u1")
    Profile.objects.filter(pk=profile.pk).update(mappings=1000)

    resolve_events(space, [event(userId="u1", anonymousId="a1")])

    assert values(profile) == {("user_id", "u1")}
    assert ProfileEvent.objects.filter(profile=profile).count() == 2
    assert logs(space, "VIOLATION") == [
        ("identifier_mapping_limit_exceeded", "Identifier mapping limit exceeded")
    ]


def test_identify_with_300_traits_is_rejected(space: Space) -> None:
    traits = {f"t{n}": n for n in range(300)}

    outcome = resolve_events(space, [event("identify", userId="u1", traits=traits)])

    assert outcome.failed == 1
    assert not Profile.objects.filter(space=space).exists()
    assert logs(space, "ERROR") == [
        ("too_many_traits", "Identify call with 300 or more traits rejected")
    ]


def test_silent_drops_leave_no_trace(space: Space) -> None:
    outcome = resolve_events(
        space,
        [
            event(userId="u1", message_id="m" * 101),
            event("group", userId="u2", groupId=""),
            event("group", userId="u3", groupId="g" * 501),
        ],
    )

    assert outcome.dropped == 3
    assert not Profile.objects.filter(space=space).exists()
    assert not IdentityLog.objects.filter(space=space).exists()


def test_the_same_event_twice_changes_nothing(space: Space) -> None:
    batch = [
        event("identify", userId="u1", anonymousId="a1", traits={"plan": "pro"}),
        event(userId="u1", anonymousId="a2", event="Bought"),
        event(userId="null"),  # an error
    ]
    resolve_events(space, batch)

    def state() -> tuple[object, ...]:
        return (
            list(Profile.objects.filter(space=space).order_by("pk").values()),
            list(ProfileIdentifier.objects.filter(space=space).order_by("pk").values()),
            list(ProfileEvent.objects.filter(space=space).order_by("pk").values()),
            list(IdentityLog.objects.filter(space=space).order_by("pk").values()),
        )

    before = state()
    outcome = resolve_events(space, batch)

    assert state() == before
    assert outcome.skipped == 2


def test_a_message_repeated_within_a_batch_attaches_once(space: Space) -> None:
    track = event(userId="u1")

    resolve_events(space, [track, track])

    assert ProfileEvent.objects.filter(space=space).count() == 1


def test_traits_last_updated_wins_by_event_timestamp(space: Space) -> None:
    later, earlier = T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=1)
    resolve_events(space, [event("identify", userId="u1", timestamp=later, traits={"plan": "pro"})])

    resolve_events(
        space,
        [
            event(
                "identify", userId="u1", timestamp=earlier, traits={"plan": "free", "city": "Oslo"}
            )
        ],
    )

    profile = owner(space, "user_id", "u1")
    assert profile.traits == {"plan": "pro", "city": "Oslo"}
    assert set(profile.trait_times) == {"plan", "city"}


def test_track_properties_are_not_traits(space: Space) -> None:
    resolve_events(space, [event(userId="u1", properties={"plan": "pro"})])

    assert owner(space, "user_id", "u1").traits == {}


def test_merge_keeps_the_newest_value_of_each_trait(space: Space) -> None:
    resolve_events(
        space,
        [
            event(
                "identify", anonymousId="a1", timestamp=T0, traits={"plan": "free", "city": "Oslo"}
            ),
            event(
                "identify",
                userId="u1",
                timestamp=T0 + dt.timedelta(hours=1),
                traits={"plan": "pro", "name": "Jane"},
            ),
            event(
                "identify",
                anonymousId="a1",
                timestamp=T0 + dt.timedelta(hours=2),
                traits={"city": "Bergen"},
            ),
        ],
    )

    resolve_events(space, [event(userId="u1", anonymousId="a1")])

    survivor = owner(space, "user_id", "u1")
    assert survivor.traits == {"plan": "pro", "name": "Jane", "city": "Bergen"}


def test_group_call_links_the_user_to_the_account(space: Space) -> None:
    resolve_events(
        space,
        [event("group", userId="u1", groupId="g1", traits={"name": "Acme", "plan": "enterprise"})],
    )

    account = owner(space, "group_id", "g1", collection="accounts")
    user = owner(space, "user_id", "u1")
    assert account.collection == "accounts"
    assert account.segment_id.startswith("acc_")
    assert account.traits == {"name": "Acme", "plan": "enterprise"}
    assert user.traits == {}
    assert ProfileLink.objects.filter(user=user, account=account).count() == 1
    assert ProfileEvent.objects.get(space=space).profile_id == user.pk


def test_links_follow_the_user_into_a_merge(space: Space) -> None:
    resolve_events(space, [event("group", anonymousId="a1", groupId="g1")])
    resolve_events(space, [event("group", userId="u1", groupId="g1")])

    resolve_events(space, [event(userId="u1", anonymousId="a1")])

    survivor = owner(space, "user_id", "u1")
    account = owner(space, "group_id", "g1", collection="accounts")
    assert list(ProfileLink.objects.filter(space=space).values_list("user_id", "account_id")) == [
        (survivor.pk, account.pk)
    ]


def test_a_batch_resolves_one_persons_events_in_order(space: Space) -> None:
    outcome = resolve_events(
        space,
        [
            event(anonymousId="a1", event="Viewed"),
            event(anonymousId="a2", event="Viewed"),
            event("identify", userId="u1", anonymousId="a1"),
            event(userId="u1", anonymousId="a2", event="Bought"),
        ],
        chunk=2,
    )

    assert (outcome.created, outcome.merged) == (2, 1)
    survivor = owner(space, "user_id", "u1")
    assert [p.pk for p in live(space)] == [survivor.pk]
    assert ProfileEvent.objects.filter(profile=survivor).count() == 4


def test_profiles_created_and_merged_in_one_chunk(space: Space) -> None:
    resolve_events(
        space,
        [
            event(anonymousId="a1"),
            event(anonymousId="a2"),
            event(userId="u1", anonymousId="a1"),
            event(userId="u1", anonymousId="a2"),
        ],
    )

    survivor = owner(space, "user_id", "u1")
    assert values(survivor) == {("user_id", "u1"), ("anonymous_id", "a1"), ("anonymous_id", "a2")}
    assert ProfileEvent.objects.filter(profile=survivor).count() == 4
    merged = Profile.objects.get(space=space, canonical__isnull=False)
    assert merged.canonical_id == survivor.pk
    assert ProfileMerge.objects.get(space=space).into_id == survivor.pk


def test_csv_upload_messages_resolve_as_internal_identify_calls(space: Space) -> None:
    message = {
        "type": "identify",
        "messageId": "upl-1",
        "timestamp": "2026-05-01T12:00:00Z",
        "userId": "u1",
        "traits": {"email": "jane@example.com", "plan": "pro"},
    }

    resolve_events(space, [message])
    resolve_events(space, [message])

    profile = owner(space, "email", "jane@example.com")
    assert profile.traits == {"email": "jane@example.com", "plan": "pro"}
    assert ProfileEvent.objects.filter(profile=profile).count() == 1


def test_traits_reach_a_known_profile_through_a_value_added_in_the_same_batch(space: Space) -> None:
    resolve_events(space, [event("identify", userId="u1", traits={"plan": "free"})])

    resolve_events(
        space,
        [
            event(userId="u1", event="Viewed"),
            event(userId="u1", anonymousId="a1"),
            event("identify", anonymousId="a1", traits={"plan": "pro"}),
            event("identify", userId="u1", traits={"city": "Oslo"}),
        ],
    )

    profile = owner(space, "user_id", "u1")
    assert profile.traits == {"plan": "pro", "city": "Oslo"}
    assert owner(space, "anonymous_id", "a1").pk == profile.pk
    assert profile.last_message_id == ProfileEvent.objects.order_by("-received_at")[0].message_id


def test_a_profile_only_given_events_keeps_its_row_and_a_later_change_records_the_latest_message(
    space: Space,
) -> None:
    """A chunk that only attaches events to a profile reads it without its update
    time and last message and never rewrites it; a chunk that changes it reads
    them and records its own latest message."""
    resolve_events(space, [event("identify", userId="u1", traits={"plan": "free"})])
    stored = owner(space, "user_id", "u1")

    resolve_events(space, [event(userId="u1", event="Viewed"), event(userId="u1", event="Left")])

    unchanged = owner(space, "user_id", "u1")
    assert (unchanged.update_time, unchanged.last_message_id, unchanged.traits) == (
        stored.update_time,
        stored.last_message_id,
        stored.traits,
    )

    viewed = event(userId="u1", event="Viewed")
    latest = event("identify", userId="u1", traits={"plan": "pro"})
    resolve_events(space, [viewed, latest])

    changed = owner(space, "user_id", "u1")
    assert changed.traits == {"plan": "pro"}
    assert (changed.update_time, changed.last_message_id) == (latest.received_at, latest.message_id)
    assert changed.create_time == stored.create_time
    assert changed.first_message_id == stored.first_message_id


def test_segment_ids_are_a_prefix_and_27_characters_of_the_alphabet() -> None:
    from engage.services.resolution_state import ALPHABET, segment_id

    drawn = [segment_id("users") for _ in range(2000)] + [segment_id("accounts")]
    assert all(d.startswith("use_") and len(d) == 31 for d in drawn[:-1])
    assert drawn[-1].startswith("acc_") and len(drawn[-1]) == 31
    assert all(set(d[4:]) <= set(ALPHABET) for d in drawn)
    assert len(set(drawn)) == len(drawn)
    # Every character is drawn, the first as often as the last (not only small digits).
    assert {d[4] for d in drawn} == set(ALPHABET)
    assert {d[-1] for d in drawn} == set(ALPHABET)


def test_a_trait_integer_beyond_64_bits_is_kept_exactly(space: Space) -> None:
    """The chunk's JSON goes through orjson, which refuses such integers: the
    writer falls back to json rather than losing the profile's traits."""
    resolve_events(space, [event("identify", userId="big", traits={"n": 2**70, "plan": "pro"})])
    assert owner(space, "user_id", "big").traits == {"n": 2**70, "plan": "pro"}


@pytest.mark.parametrize("value", ['we"ird', "back\\slash", "com,ma", "{brace}", "NULL", "o'k"])
def test_values_with_array_syntax_are_found_again(space: Space, value: str) -> None:
    """Lookups send values as an array literal: quoting must keep every value whole."""
    resolve_events(space, [event("identify", userId=value, anonymousId="anon-1")])
    resolve_events(space, [event(userId=value, anonymousId="anon-2")])
    assert len(live(space)) == 1
    assert owner(space, "anonymous_id", "anon-2").pk == owner(space, "user_id", value).pk


def test_known_events_written_early_follow_a_merge_later_in_the_chunk(space: Space) -> None:
    resolve_events(space, [event("identify", userId="u1")])
    resolve_events(space, [event(anonymousId="a9")])
    # "early" is a known person's plain event: its row is written while the
    # chunk is decided, for a9's profile, which the next event merges away.
    resolve_events(
        space,
        [
            event(anonymousId="a9", message_id="early"),
            event("identify", userId="u1", anonymousId="a9", message_id="merge"),
            event(userId="u1", message_id="late"),
        ],
    )

    survivor = owner(space, "user_id", "u1")
    assert [p.pk for p in live(space)] == [survivor.pk]
    assert set(ProfileEvent.objects.filter(space=space).values_list("profile_id", flat=True)) == {
        survivor.pk
    }
    assert ProfileMerge.objects.filter(space=space, into=survivor).count() == 1


def test_a_message_attached_meanwhile_keeps_its_row_and_the_others_go_in(space: Space) -> None:
    # Known people's rows go in without ON CONFLICT (cheaper); a row another
    # worker wrote for one of the messages meanwhile makes them go in again
    # with it, that row left as it is.
    resolve_events(space, [event("identify", userId="u1", message_id="first")])
    person = owner(space, "user_id", "u1")
    before = ProfileEvent.objects.get(space=space, message_id="first")
    records = [
        writes.event_record(person.pk, 7, message_id, 900 + n, T0, "track", "", T0)
        for n, message_id in enumerate(("first", "second"))
    ]

    with transaction.atomic(), writes.events_inserted_meanwhile(space, records):
        pass

    rows = dict(ProfileEvent.objects.filter(space=space).values_list("message_id", "event_id"))
    assert rows == {"first": before.event_id, "second": 901}


def test_an_error_of_a_pipelined_statement_is_djangos(space: Space) -> None:
    # The feed retries on Django's OperationalError (a deadlock, a lost
    # connection), also when the statement was sent in pipeline mode.
    with (
        pytest.raises(OperationalError),
        transaction.atomic(),
        connection.cursor() as cursor,
        writes.pipelined(),
    ):
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(1)")
