"""Routes outside the app's namespace: sign-in and sign-out (``{% url 'login' %}``)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from workspace.views.auth import SignInView

urlpatterns = [
    path("login", SignInView.as_view(), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
]
