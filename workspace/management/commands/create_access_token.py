from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from switchyard.access import Principal
from switchyard.errors import SwitchyardError
from workspace.models import AccessToken
from workspace.services.tokens import do_create_access_token


class Command(BaseCommand):
    help = "Create an API access token acting as USERNAME and print its secret (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--description", default="created with manage.py create_access_token")
        parser.add_argument(
            "--read-only",
            action="store_true",
            help="workspace:read scope: writes answer 403 'insufficient scope'",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(options["username"])
        except user_model.DoesNotExist as exc:
            raise CommandError(f"no user {options['username']!r}") from exc
        scope = (
            AccessToken.Scope.WORKSPACE_READ
            if options["read_only"]
            else AccessToken.Scope.WORKSPACE
        )
        try:
            _token, secret = do_create_access_token(
                principal=Principal(user),
                user=user,
                description=options["description"],
                scope=scope,
            )
        except SwitchyardError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(secret)
