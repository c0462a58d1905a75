from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse

from workspace.services import audit


class SignInView(auth_views.LoginView):
    """Django's sign-in, recording each successful sign-in in the audit trail."""

    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        audit.record_sign_in(form.get_user())
        return response
