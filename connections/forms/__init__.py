"""The connections UI's forms, by subject: ``sources``, ``destinations`` (the
settings form), ``mappings`` (the mapping editor), ``filters`` (the filter
editor), and the ``sample_event`` the test panels start from. They parse input;
the services validate. The names the views use are exported here."""

from connections.forms.conditions import builder_initial, conditions_from_post
from connections.forms.destinations import SETTINGS_ERRORS, SettingsForm, SettingsInputError
from connections.forms.filters import FilterForm, filter_error_target
from connections.forms.mappings import (
    COMMON_PATHS,
    MAPPING_ERRORS,
    MappingForm,
)
from connections.forms.sample_event import sample_event_json
from connections.forms.sources import SourceCreateForm, SourceForm, WriteKeyForm

__all__ = [
    "COMMON_PATHS",
    "MAPPING_ERRORS",
    "SETTINGS_ERRORS",
    "FilterForm",
    "MappingForm",
    "SettingsForm",
    "SettingsInputError",
    "SourceCreateForm",
    "SourceForm",
    "WriteKeyForm",
    "builder_initial",
    "conditions_from_post",
    "filter_error_target",
    "sample_event_json",
]
