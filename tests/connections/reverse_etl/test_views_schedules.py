"""A mapping's schedule on its page: manual, an interval (the first sync at once),
days and times, cron; too frequent schedules are refused with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from django_celery_beat.models import PeriodicTask

from connections.reverse_etl.models import RetlMapping, RetlSync
from connections.reverse_etl.models.schedules import RetlSchedule
from tests.connections.reverse_etl.view_support import (
    UI,
    People,
    make_mapping,
    people,
)
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse

__all__ = ["people", "warehouse"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def mapping(people: People, warehouse: WarehouseDb) -> RetlMapping:
    return make_mapping(people, warehouse)


def schedule_form(**values: Any) -> dict[str, Any]:
    return {
        "intent": "schedule",
        "kind": "MANUAL",
        "interval": "",
        "times": "",
        "cron": "",
        "timezone": "UTC",
        **values,
    }


def test_a_new_mapping_is_manual(people: People, mapping: RetlMapping) -> None:
    page = people.client(people.owner).get(f"{UI}/mappings/{mapping.key_id}/").content.decode()
    assert 'data-kind="MANUAL"' in page and "Manual: syncs only when you click Sync now." in page
    assert 'id="schedule-form"' in page


def test_an_interval_schedules_and_syncs_at_once(people: People, mapping: RetlMapping) -> None:
    owner = people.client(people.owner)
    url = f"{UI}/mappings/{mapping.key_id}/"
    response = owner.post(url, schedule_form(kind="INTERVAL", interval="1h"))
    assert response.status_code == 302
    schedule = RetlSchedule.objects.get(mapping=mapping)
    assert (schedule.kind, schedule.interval) == ("INTERVAL", "1h")
    assert PeriodicTask.objects.filter(name=f"reverse-etl:{mapping.key_id}").exists()
    assert RetlSync.objects.filter(mapping=mapping).count() == 1  # the initial sync
    page = owner.get(url).content.decode()
    assert "Every 1 hour." in page and "initial sync" in page
    owner.post(url, schedule_form(kind="MANUAL"))
    assert RetlSchedule.objects.get(mapping=mapping).kind == "MANUAL"
    assert not PeriodicTask.objects.filter(
        name__startswith=f"reverse-etl:{mapping.key_id}"
    ).exists()


def test_days_and_times(people: People, mapping: RetlMapping) -> None:
    owner = people.client(people.owner)
    url = f"{UI}/mappings/{mapping.key_id}/"
    form = schedule_form(
        kind="DAY_AND_TIME",
        days=["monday", "friday"],
        times="17:30, 09:00",
        timezone="Europe/Paris",
    )
    assert owner.post(url, form).status_code == 302
    schedule = RetlSchedule.objects.get(mapping=mapping)
    assert (schedule.days, schedule.times, schedule.timezone) == (
        ["monday", "friday"],
        ["09:00", "17:30"],
        "Europe/Paris",
    )
    page = owner.get(url).content.decode()
    assert "Monday, Friday at 09:00, 17:30 (Europe/Paris)." in page
    assert 'value="monday" class="form-check-input" id="id_days_0" checked' in page


def test_a_schedule_more_often_than_every_15_minutes_is_refused(
    people: People, mapping: RetlMapping
) -> None:
    owner = people.client(people.owner)
    url = f"{UI}/mappings/{mapping.key_id}/"
    response = owner.post(url, schedule_form(kind="CRON", cron="*/5 * * * *"))
    assert response.status_code == 400
    assert "15 minutes" in response.content.decode()
    response = owner.post(url, schedule_form(kind="DAY_AND_TIME", days=["monday"], times="9am"))
    assert response.status_code == 400
    assert "HH:MM" in response.content.decode()
    assert not RetlSchedule.objects.filter(mapping=mapping).exists()


def test_a_reader_sees_the_schedule_but_cannot_change_it(
    people: People, mapping: RetlMapping
) -> None:
    reader = people.client(people.reader)
    url = f"{UI}/mappings/{mapping.key_id}/"
    page = reader.get(url).content.decode()
    assert 'id="schedule-summary"' in page and 'id="schedule-form"' not in page
    assert reader.post(url, schedule_form(kind="INTERVAL", interval="1h")).status_code == 403
    assert not RetlSchedule.objects.filter(mapping=mapping).exists()
