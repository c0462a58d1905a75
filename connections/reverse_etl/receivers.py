"""Signal receivers of the Reverse ETL app, connected in ``ReverseEtlConfig.ready``.

They keep beat's rows of scheduled mappings in step with writes made anywhere
(the mapping and model services, cascades from a deleted model, source or
workspace): a row runs only while its mapping and model are enabled, and goes
away with its mapping."""

from __future__ import annotations

from typing import Any

from connections.reverse_etl.models import RetlMapping, RetlModel
from connections.reverse_etl.services import schedules


def mapping_saved(sender: object, *, instance: RetlMapping, **kwargs: Any) -> None:
    schedules.set_enabled(instance)


def model_saved(sender: object, *, instance: RetlModel, **kwargs: Any) -> None:
    schedules.model_saved(instance)


def mapping_deleted(sender: object, *, instance: RetlMapping, **kwargs: Any) -> None:
    schedules.mapping_deleted(instance)
