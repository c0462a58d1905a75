"""/invites/<secret>: accept an invitation, signing in or creating the account first."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from switchyard.errors import SwitchyardError
from switchyard.ui import add_service_error
from workspace.services import members as service


class SignUpForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput, min_length=8)


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, secret: str) -> HttpResponse:
    try:
        invitation = service.open_invitation(secret)
    except SwitchyardError as exc:
        return render(request, "workspace/invitation.html", {"error": exc.message}, status=404)
    form = SignUpForm(request.POST or None)
    context = {"invitation": invitation, "form": form}
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                membership = service.do_accept_invitation(secret=secret, user=request.user)
            elif form.is_valid():
                membership = service.do_sign_up_and_accept(
                    secret=secret,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                )
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                return render(request, "workspace/invitation.html", context, status=400)
        except SwitchyardError as exc:
            if hasattr(form, "cleaned_data"):  # the sign-up form was submitted
                add_service_error(form, exc)
            else:
                context["accept_error"] = exc.message
            return render(request, "workspace/invitation.html", context, status=400)
        messages.success(request, f"Welcome to {invitation.workspace.display_name}.")
        return redirect("workspace:home", slug=invitation.workspace.slug)
    return render(request, "workspace/invitation.html", context)
