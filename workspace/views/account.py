"""The signed-in user's own page: their personal access tokens, which no workspace lists."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from switchyard.ui import UIRequest, get_object, signed_in_view
from workspace.selectors import personal_tokens
from workspace.services import tokens as token_service


@signed_in_view
def account(request: UIRequest) -> HttpResponse:
    rows = personal_tokens(request.principal).order_by("-create_time", "-pk")
    return render(request, "workspace/account.html", {"rows": rows})


@signed_in_view
@require_POST
def token_revoke(request: UIRequest, token_id: int) -> HttpResponse:
    # Another user's token is a 404: personal_tokens holds only the signed-in user's.
    token = get_object(request.principal, personal_tokens(request.principal).filter(pk=token_id))
    token_service.do_revoke_access_token(principal=request.principal, token=token)
    messages.success(request, f"Revoked the token {token.prefix}… ({token.description}).")
    return redirect("workspace:account")
