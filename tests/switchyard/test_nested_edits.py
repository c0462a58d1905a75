"""Nested mask paths travel as edits, applied again to the value stored at write time."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rest_framework import serializers

from switchyard.api.update_mask import build_patch
from switchyard.errors import InvalidArgument
from switchyard.nested_edits import rebase


class ThingSerializer(serializers.Serializer):
    config = serializers.DictField()
    tags = serializers.JSONField()


def patch(body: dict, config: object = None) -> dict:
    current = ThingSerializer(SimpleNamespace(config=config or {"a": 1, "b": {"c": 2}}, tags=[]))
    return build_patch(current, body, "thing")


def test_edits_apply_to_the_stored_value_not_the_one_the_request_read() -> None:
    edited = patch(
        {
            "thing": {"config": {"b": {"d": 4}}},
            "update_mask": {"paths": ["thing.config.b.d", "thing.config.a"]},
        }
    )["config"]
    assert edited == {"b": {"c": 2, "d": 4}}  # what validation sees
    stored_meanwhile = {"a": 1, "b": {"c": 20}, "x": True}
    assert rebase(edited, stored_meanwhile) == {"b": {"c": 20, "d": 4}, "x": True}
    assert stored_meanwhile == {"a": 1, "b": {"c": 20}, "x": True}  # not changed in place


def test_a_whole_value_replaces_whatever_is_stored() -> None:
    whole = patch({"thing": {"config": {"z": 1}}, "update_mask": {"paths": ["thing.config"]}})
    assert rebase(whole["config"], {"a": 1}) == {"z": 1}


def test_whole_and_nested_paths_of_one_field_edit_the_new_value() -> None:
    body = {
        "thing": {"config": {"z": 1, "y": 2}},
        "update_mask": {"paths": ["thing.config", "thing.config.y"]},
    }
    assert rebase(patch(body)["config"], {"a": 1}) == {"z": 1, "y": 2}


def test_an_edit_through_a_member_that_became_a_scalar_is_refused() -> None:
    edited = patch(
        {"thing": {"config": {"b": {"d": 4}}}, "update_mask": {"paths": ["thing.config.b.d"]}}
    )
    with pytest.raises(InvalidArgument, match="'b' is not an object"):
        rebase(edited["config"], {"b": "now a string"})


def test_nested_path_into_a_list_value_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match="not an object"):
        build_patch(
            ThingSerializer(SimpleNamespace(config={}, tags=["x"])),
            {"update_mask": {"paths": ["thing.tags.first"]}},
            "thing",
        )
