"""Who is asking: a user, a user through a personal token, or a workspace token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from switchyard.errors import Unauthenticated

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


@dataclass(frozen=True)
class Principal:
    """A workspace token is a principal of its own: confined to its workspace with
    the access it was given, whatever its creator may do.

    ``token`` is the tenancy app's access token row (duck-typed so the kernel
    imports no app): it answers ``read_only``, ``is_workspace_token``,
    ``revoke_time`` and ``workspace_id``.
    """

    user: User | AnonymousUser
    token: Any = None

    @property
    def read_only(self) -> bool:
        return self.token is not None and bool(self.token.read_only)

    @property
    def workspace_token(self) -> Any:
        return self.token if self.token is not None and self.token.is_workspace_token else None

    @property
    def signed_in_user(self) -> User:
        from django.contrib.auth.models import User

        if not isinstance(self.user, User) or not self.user.is_active:
            raise Unauthenticated()
        return self.user

    @property
    def is_active(self) -> bool:
        """Signed in and active; a workspace token does not depend on its creator's account."""
        if self.workspace_token is not None:
            return self.workspace_token.revoke_time is None
        return bool(self.user.is_authenticated and self.user.is_active)

    @property
    def is_superuser(self) -> bool:
        if self.workspace_token is not None:
            return False
        return bool(getattr(self.user, "is_superuser", False)) and self.user.is_active
