"""``manage.py create_access_token USERNAME --workspace W``: a workspace token from the shell.

It is the token the Tokens tab and the API create (the same service), so the
workspace lists it, its owners can revoke it, and the audit trail names USERNAME
as its creator. ``--personal-superuser-token`` is the one way to a token that
acts in every workspace, for superusers only (bootstrapping an install that has
no workspace yet); those are listed and revoked on the superuser's account page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from switchyard.access import Principal
from switchyard.errors import NotFound, PermissionDenied, SwitchyardError
from workspace.models import AccessToken, Workspace
from workspace.services.tokens import do_create_superuser_token, do_create_workspace_token

PERSONAL = "--personal-superuser-token"


class Command(BaseCommand):
    help = (
        "Create an API access token for USERNAME and print its secret (shown only once): "
        f"a token of the workspace given with --workspace, or with {PERSONAL} a "
        "superuser's personal token that acts in every workspace."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the token's creator (a Workspace Owner)")
        parser.add_argument(
            "--workspace",
            metavar="SLUG_OR_ID",
            help="the workspace the token belongs to; USERNAME must be one of its owners",
        )
        parser.add_argument(
            "--access",
            choices=AccessToken.Access.values,
            default=AccessToken.Access.MEMBER,
            help="what the workspace token may do there (default: member)",
        )
        parser.add_argument("--description", default="created with manage.py create_access_token")
        parser.add_argument(
            "--read-only",
            action="store_true",
            help="workspace:read scope: writes answer 403 'insufficient scope'",
        )
        parser.add_argument(
            PERSONAL,
            action="store_true",
            dest="personal",
            help="superusers only: a personal token acting as USERNAME in every workspace, "
            "instead of a workspace token (listed on USERNAME's account page, /account/)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["username"])
        scope = (
            AccessToken.Scope.WORKSPACE_READ
            if options["read_only"]
            else AccessToken.Scope.WORKSPACE
        )
        if options["personal"] and options["workspace"]:
            raise CommandError(f"give either --workspace or {PERSONAL}, not both")
        if not options["personal"] and not options["workspace"]:
            raise CommandError(
                "name the workspace the token is for with --workspace SLUG_OR_ID "
                f"(a superuser bootstrapping an install with no workspace may use {PERSONAL})"
            )
        if options["personal"] and options["access"] != AccessToken.Access.MEMBER:
            raise CommandError(f"--access applies to workspace tokens, not {PERSONAL}")
        try:
            if options["personal"]:
                _token, secret = do_create_superuser_token(
                    user=user, description=options["description"], scope=scope
                )
            else:
                workspace = self._workspace(options["workspace"])
                _token, secret = do_create_workspace_token(
                    principal=Principal(user),
                    workspace=workspace,
                    description=options["description"],
                    access_level=options["access"],
                    scope=scope,
                )
        except (NotFound, PermissionDenied) as exc:
            if options["personal"]:
                raise CommandError(exc.message) from exc
            raise CommandError(
                f"{user.get_username()} may not create tokens in workspace "
                f"{options['workspace']!r}: only its Workspace Owners can ({exc.message})"
            ) from exc
        except SwitchyardError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(secret)

    def _user(self, username: str) -> User:
        user_model = get_user_model()
        try:
            user: User = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist as exc:
            raise CommandError(f"no user {username!r}") from exc
        if not user.is_active:
            raise CommandError(f"the user {username!r} is inactive")
        return user

    def _workspace(self, slug_or_id: str) -> Workspace:
        found = Workspace.objects.filter(Q(slug=slug_or_id) | Q(pk=slug_or_id)).first()
        if found is None:
            raise CommandError(f"no workspace {slug_or_id!r} (give its slug or id)")
        return found
