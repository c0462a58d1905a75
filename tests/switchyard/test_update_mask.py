"""The API Design page's update-mask rules, on the kit itself.

The page's three examples use a destination's ``enabled`` flag; a stand-in
serializer with that field runs them verbatim (mask inside the resource, as the
page shows it, and beside it, as the Config API's request messages have it).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rest_framework import serializers

from switchyard.api.update_mask import build_patch
from switchyard.errors import InvalidArgument


class DestinationSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    enabled = serializers.BooleanField()
    display_name = serializers.CharField(allow_blank=True)
    retries = serializers.IntegerField()
    tags = serializers.ListField(child=serializers.CharField())
    config = serializers.DictField()


def current(**overrides: object) -> DestinationSerializer:
    fields = {
        "name": "workspaces/myworkspace/sources/js/destinations/google-analytics",
        "enabled": False,
        "display_name": "GA",
        "retries": 3,
        "tags": ["web"],
        "config": {"api_key": "k1", "region": {"code": "eu", "zone": 2}},
    }
    return DestinationSerializer(SimpleNamespace(**(fields | overrides)))


def test_doc_example_1_masked_value_is_set_mask_inside_resource() -> None:
    body = {"destination": {"enabled": True, "update_mask": {"paths": ["destination.enabled"]}}}
    assert build_patch(current(), body, "destination") == {"enabled": True}


def test_doc_example_1_masked_value_is_set_mask_beside_resource() -> None:
    body = {"destination": {"enabled": True}, "update_mask": {"paths": ["destination.enabled"]}}
    assert build_patch(current(), body, "destination") == {"enabled": True}


def test_doc_example_2_masked_path_without_value_sets_empty_value() -> None:
    body = {"destination": {"update_mask": {"paths": ["destination.enabled"]}}}
    assert build_patch(current(enabled=True), body, "destination") == {"enabled": False}


def test_doc_example_3_data_without_mask_changes_nothing() -> None:
    assert build_patch(current(), {"destination": {"enabled": True}}, "destination") == {}


@pytest.mark.parametrize(
    ("path", "empty"),
    [("display_name", ""), ("retries", 0), ("tags", []), ("config", {}), ("enabled", False)],
)
def test_each_field_type_clears_to_its_empty_value(path: str, empty: object) -> None:
    body = {"update_mask": {"paths": [f"destination.{path}"]}}
    assert build_patch(current(), body, "destination") == {path: empty}


def test_empty_mask_changes_nothing() -> None:
    body = {"destination": {"enabled": True}, "update_mask": {"paths": []}}
    assert build_patch(current(), body, "destination") == {}


def test_only_masked_fields_change_even_when_more_data_is_sent() -> None:
    body = {
        "destination": {"enabled": True, "display_name": "New", "retries": 9},
        "update_mask": {"paths": ["destination.display_name"]},
    }
    assert build_patch(current(), body, "destination") == {"display_name": "New"}


def test_unknown_path_is_named_in_the_error() -> None:
    body = {"destination": {}, "update_mask": {"paths": ["destination.colour"]}}
    with pytest.raises(InvalidArgument, match=r"destination\.colour"):
        build_patch(current(), body, "destination")


def test_path_for_another_resource_is_unknown() -> None:
    body = {"update_mask": {"paths": ["source.enabled"]}}
    with pytest.raises(InvalidArgument, match=r"'source\.enabled'"):
        build_patch(current(), body, "destination")


def test_read_only_path_is_refused_and_named() -> None:
    body = {"destination": {"name": "x"}, "update_mask": {"paths": ["destination.name"]}}
    with pytest.raises(InvalidArgument, match=r"'destination\.name' is read-only"):
        build_patch(current(), body, "destination")


def test_nested_path_changes_one_member_and_keeps_siblings() -> None:
    body = {
        "destination": {"config": {"api_key": "k2", "region": {"code": "us"}}},
        "update_mask": {"paths": ["destination.config.api_key"]},
    }
    assert build_patch(current(), body, "destination") == {
        "config": {"api_key": "k2", "region": {"code": "eu", "zone": 2}}
    }


def test_deeply_nested_paths_and_creation_of_missing_objects() -> None:
    body = {
        "destination": {"config": {"region": {"code": "us"}, "new": {"deep": 1}}},
        "update_mask": {"paths": ["destination.config.region.code", "destination.config.new.deep"]},
    }
    assert build_patch(current(), body, "destination") == {
        "config": {"api_key": "k1", "region": {"code": "us", "zone": 2}, "new": {"deep": 1}}
    }


def test_nested_path_without_value_removes_that_member() -> None:
    body = {"update_mask": {"paths": ["destination.config.region.zone"]}}
    assert build_patch(current(), body, "destination") == {
        "config": {"api_key": "k1", "region": {"code": "eu"}}
    }


def test_nested_path_into_a_scalar_field_is_unknown() -> None:
    body = {"update_mask": {"paths": ["destination.enabled.really"]}}
    with pytest.raises(InvalidArgument, match=r"'enabled' has no nested fields"):
        build_patch(current(), body, "destination")


def test_nested_path_through_a_non_object_member_is_refused() -> None:
    body = {"destination": {"config": {"api_key": {"x": 1}}}}
    body["update_mask"] = {"paths": ["destination.config.api_key.x"]}
    with pytest.raises(InvalidArgument, match=r"'api_key' is not an object"):
        build_patch(current(), body, "destination")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"destination": []},
        {"destination": {}, "update_mask": ["destination.enabled"]},
        {"destination": {}, "update_mask": {"paths": "destination.enabled"}},
        {"destination": {}, "update_mask": {"paths": [1]}},
        {"destination": {}, "update_mask": {"paths": [], "extra": 1}},
        {"destination": {"update_mask": {"paths": []}}, "update_mask": {"paths": []}},
        {"destination": {}, "surprise": 1},
    ],
)
def test_malformed_bodies_are_invalid_arguments(body: object) -> None:
    with pytest.raises(InvalidArgument):
        build_patch(current(), body, "destination")
