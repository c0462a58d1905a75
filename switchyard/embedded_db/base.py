"""The PostgreSQL backend, pointed at the embedded server (started on first connect)."""

from __future__ import annotations

import warnings
from typing import Any

import dj_database_url
from django.db.backends.postgresql import base

from switchyard import embedded


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine.
            warnings.simplefilter("ignore")
            url = embedded.ensure_postgres().url
        where = dj_database_url.parse(url)
        self.settings_dict["HOST"] = where["HOST"]
        self.settings_dict["PORT"] = where["PORT"]
        return super().get_connection_params()
