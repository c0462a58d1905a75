"""Settings > Access Management: the Users, User Groups and Tokens tabs (owners only).

Every POST calls one service, flashes its outcome and redirects back to the tab
(post/redirect/get), except token creation, which shows the secret once.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, workspace_view
from workspace.forms import GrantForm, GroupForm, InviteForm, TokenForm
from workspace.models import AccessToken, Invitation, Membership, RoleGrant, UserGroup, Workspace
from workspace.selectors import members_with_groups
from workspace.services import grant_reach
from workspace.services import grants as grant_service
from workspace.services import groups as group_service
from workspace.services import logins as login_service
from workspace.services import members as member_service
from workspace.services import tokens as token_service

owners_only = workspace_view(action="administer", refusal="Only Workspace Owners manage access.")


def _run(request: HttpRequest, action: Callable[[], object], done: str) -> None:
    try:
        action()
    except SwitchyardError as exc:
        messages.error(request, exc.message[:1].upper() + exc.message[1:])
    else:
        messages.success(request, done)


def _members(workspace: Workspace) -> list[Membership]:
    return list(members_with_groups(workspace).order_by("user__username"))


@owners_only
def users(request: UIRequest, workspace: Workspace) -> HttpResponse:
    form = InviteForm(request.POST or None, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        _run(
            request,
            lambda: member_service.do_invite_member(
                principal=request.principal,
                workspace=workspace,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                group=form.cleaned_data["group"],
            ),
            f"Invitation sent to {form.cleaned_data['email']}.",
        )
        return redirect("workspace:access-users", slug=workspace.slug)
    invites = Invitation.objects.filter(
        workspace=workspace, accept_time__isnull=True, revoke_time__isnull=True
    ).order_by("email")
    members = _members(workspace)
    context = {
        "workspace": workspace,
        "nav": "access",
        "tab": "users",
        "members": members,
        "locked_out": login_service.locked_out_usernames(m.user.username for m in members),
        "invites": invites,
        "form": form,
        "roles": Membership.Role.choices,
    }
    return render(
        request, "workspace/access/users.html", context, status=400 if form.errors else 200
    )


@owners_only
def users_csv(request: UIRequest, workspace: Workspace) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{workspace.slug}-users.csv"'
    writer = csv.writer(response)
    writer.writerow(("username", "email", "role", "groups", "joined"))
    for m in _members(workspace):
        groups = ";".join(g.name for g in m.user.workspace_groups)  # type: ignore[attr-defined]
        joined = m.create_time.isoformat().replace("+00:00", "Z")
        writer.writerow((m.user.username, m.user.email, m.get_role_display(), groups, joined))
    return response


@owners_only
@require_POST
def change_role(request: UIRequest, workspace: Workspace, user_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, workspace=workspace, user_id=user_id)
    _run(
        request,
        lambda: member_service.do_change_member_role(
            principal=request.principal,
            membership=membership,
            changes={"role": request.POST.get("role")},
        ),
        f"{membership.user.username} is now "
        f"{dict(Membership.Role.choices).get(request.POST.get('role', ''), 'unchanged')}.",
    )
    return redirect("workspace:access-users", slug=workspace.slug)


@owners_only
@require_POST
def remove_member(request: UIRequest, workspace: Workspace, user_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, workspace=workspace, user_id=user_id)
    _run(
        request,
        lambda: member_service.do_remove_member(principal=request.principal, membership=membership),
        f"Removed {membership.user.username} from the workspace.",
    )
    return redirect("workspace:access-users", slug=workspace.slug)


@owners_only
@require_POST
def unlock_member(request: UIRequest, workspace: Workspace, user_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, workspace=workspace, user_id=user_id)
    _run(
        request,
        lambda: login_service.do_unlock_member(principal=request.principal, membership=membership),
        f"Unlocked {membership.user.username}: they can sign in again.",
    )
    return redirect("workspace:access-users", slug=workspace.slug)


@owners_only
@require_POST
def revoke_invite(request: UIRequest, workspace: Workspace, invite_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, workspace=workspace, pk=invite_id)
    _run(
        request,
        lambda: member_service.do_revoke_invitation(
            principal=request.principal, invitation=invitation
        ),
        f"Revoked the invitation of {invitation.email}.",
    )
    return redirect("workspace:access-users", slug=workspace.slug)


@owners_only
def groups(request: UIRequest, workspace: Workspace) -> HttpResponse:
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _run(
            request,
            lambda: group_service.do_create_group(
                principal=request.principal,
                workspace=workspace,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            ),
            f"Created the group {form.cleaned_data['name']}.",
        )
        return redirect("workspace:access-groups", slug=workspace.slug)
    rows = (
        UserGroup.objects.filter(workspace=workspace)
        .annotate(member_count=Count("memberships"))
        .order_by("name")
    )
    context = {"workspace": workspace, "nav": "access", "tab": "groups", "rows": rows, "form": form}
    return render(request, "workspace/access/groups.html", context)


@owners_only
def group_detail(request: UIRequest, workspace: Workspace, group_id: int) -> HttpResponse:
    group = get_object_or_404(UserGroup, workspace=workspace, pk=group_id)
    if request.method == "POST":
        membership = get_object_or_404(
            Membership, workspace=workspace, user_id=request.POST.get("user")
        )
        _run(
            request,
            lambda: group_service.do_add_group_member(
                principal=request.principal, group=group, user=membership.user
            ),
            f"Added {membership.user.username} to {group.name}.",
        )
        return redirect("workspace:access-group", slug=workspace.slug, group_id=group.pk)
    in_group = group.members.order_by("username")
    candidates = (
        Membership.objects.filter(workspace=workspace)
        .exclude(user__in=in_group)
        .select_related("user")
        .order_by("user__username")
    )
    context = {
        "workspace": workspace,
        "nav": "access",
        "tab": "groups",
        "group": group,
        "in_group": in_group,
        "candidates": candidates,
        "group_grants": _grants_of(workspace, group=group),
        "form": GrantForm(workspace=workspace),
        "grant_url": reverse("workspace:access-group-grants", args=(workspace.slug, group.pk)),
        "back": request.path,
    }
    return render(request, "workspace/access/group.html", context)


@owners_only
@require_POST
def group_remove_member(
    request: UIRequest, workspace: Workspace, group_id: int, user_id: int
) -> HttpResponse:
    group = get_object_or_404(UserGroup, workspace=workspace, pk=group_id)
    membership = get_object_or_404(Membership, workspace=workspace, user_id=user_id)
    _run(
        request,
        lambda: group_service.do_remove_group_member(
            principal=request.principal, group=group, user=membership.user
        ),
        f"Removed {membership.user.username} from {group.name}.",
    )
    return redirect("workspace:access-group", slug=workspace.slug, group_id=group.pk)


@owners_only
@require_POST
def group_delete(request: UIRequest, workspace: Workspace, group_id: int) -> HttpResponse:
    group = get_object_or_404(UserGroup, workspace=workspace, pk=group_id)
    _run(
        request,
        lambda: group_service.do_delete_group(principal=request.principal, group=group),
        f"Deleted the group {group.name}.",
    )
    return redirect("workspace:access-groups", slug=workspace.slug)


@owners_only
def tokens(request: UIRequest, workspace: Workspace) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, secret = token_service.do_create_workspace_token(
                principal=request.principal,
                workspace=workspace,
                description=form.cleaned_data["description"],
                access_level=form.cleaned_data["access"],
                scope=form.cleaned_data["scope"],
            )
        except SwitchyardError as exc:
            add_service_error(form, exc)
        else:
            form = TokenForm()
    rows = (
        AccessToken.objects.filter(workspace=workspace, revoke_time__isnull=True)
        .select_related("user")
        .order_by("-create_time")
    )
    context = {
        "workspace": workspace,
        "nav": "access",
        "tab": "tokens",
        "rows": rows,
        "form": form,
        "secret": secret,
    }
    return render(request, "workspace/access/tokens.html", context)


@owners_only
@require_POST
def token_revoke(request: UIRequest, workspace: Workspace, token_id: int) -> HttpResponse:
    token = get_object_or_404(AccessToken, workspace=workspace, pk=token_id)
    _run(
        request,
        lambda: token_service.do_revoke_access_token(principal=request.principal, token=token),
        f"Revoked the token {token.prefix}… ({token.description}).",
    )
    return redirect("workspace:access-tokens", slug=workspace.slug)


def _grants_of(workspace: Workspace, **where: Any) -> list[RoleGrant]:
    return grant_reach.with_reach(RoleGrant.objects.filter(workspace=workspace, **where))


@owners_only
def member_detail(request: UIRequest, workspace: Workspace, user_id: int) -> HttpResponse:
    """A member's effective access: each grant, own or through a group, with what it
    reaches. Only own grants are revoked here: a group's grant is every member's,
    so it is revoked on the group's page."""
    membership = get_object_or_404(
        Membership.objects.select_related("user"), workspace=workspace, user_id=user_id
    )
    context = {
        "workspace": workspace,
        "nav": "access",
        "tab": "users",
        "membership": membership,
        "grants": grant_reach.member_grants(workspace, membership.user),
        "form": GrantForm(workspace=workspace),
        "grant_url": reverse("workspace:access-user-grants", args=(workspace.slug, user_id)),
        "back": request.path,
    }
    return render(request, "workspace/access/user.html", context)


def _create_grant(request: UIRequest, workspace: Workspace, grantee: Any) -> None:
    form = GrantForm(request.POST, workspace=workspace)
    if not form.is_valid():
        messages.error(request, f"Invalid grant: {form.errors.as_text()}")
        return
    data = form.cleaned_data
    _run(
        request,
        lambda: grant_service.do_create_grant(
            principal=request.principal,
            workspace=workspace,
            grantee=grantee,
            role=data["role"],
            scope=data["scope"],
            labels=list(data["labels"]),
            resources=list(data["sources"]),
        ),
        "Role granted.",
    )


@owners_only
@require_POST
def user_grant(request: UIRequest, workspace: Workspace, user_id: int) -> HttpResponse:
    member = get_object_or_404(Membership, workspace=workspace, user_id=user_id)
    _create_grant(request, workspace, member.user)
    return redirect("workspace:access-user", slug=workspace.slug, user_id=user_id)


@owners_only
@require_POST
def group_grant(request: UIRequest, workspace: Workspace, group_id: int) -> HttpResponse:
    _create_grant(
        request, workspace, get_object_or_404(UserGroup, workspace=workspace, pk=group_id)
    )
    return redirect("workspace:access-group", slug=workspace.slug, group_id=group_id)


@owners_only
@require_POST
def grant_delete(request: UIRequest, workspace: Workspace, grant_id: int) -> HttpResponse:
    grant = get_object_or_404(RoleGrant, workspace=workspace, pk=grant_id)
    _run(
        request,
        lambda: grant_service.do_delete_grant(principal=request.principal, grant=grant),
        "Grant revoked.",
    )
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts=None) and back.startswith("/"):
        return redirect(back)
    return redirect("workspace:access-users", slug=workspace.slug)
