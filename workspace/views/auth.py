from __future__ import annotations

from typing import Any

from axes.helpers import get_client_username
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from workspace.services import audit, logins


class SignInView(auth_views.LoginView):
    """Django's sign-in, recording each successful sign-in in the audit trail."""

    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        audit.record_sign_in(form.get_user())
        return response


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The answer to a sign-in django-axes refused (settings.AXES_LOCKOUT_CALLABLE),
    whichever form sent it (ours, the admin's): the sign-in page again, saying why
    and until when, with 429."""
    username = get_client_username(request, credentials) or ""
    minutes = logins.minutes_until_unlocked(username, getattr(request, "axes_ip_address", None))
    message = (
        "Too many failed sign-in attempts for this account or from your network. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}, "
        "or ask a Workspace Owner to unlock your account."
    )
    next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": next_url,
        "lockout_message": message,
    }
    return render(request, "registration/login.html", context, status=429)
