"""The Profile explorer's, Profiles Insights' and the CSV upload's pages, under a space
(included by engage/urls.py)."""

from django.urls import path

from engage.views import csv_uploads, insights, profiles

SPACE = "workspaces/<slug:slug>/engage/spaces/<slug:space>/"

urlpatterns = [
    path(f"{SPACE}profiles/", profiles.explorer, name="profiles"),
    path(f"{SPACE}profiles/<str:segment_id>/", profiles.profile, name="profile"),
    path(f"{SPACE}insights/", insights.insights, name="insights"),
    path(f"{SPACE}csv-uploads/", csv_uploads.uploads, name="csv-uploads"),
    path(f"{SPACE}csv-uploads/template.csv", csv_uploads.template, name="csv-template"),
    path(f"{SPACE}csv-uploads/<str:key_id>/", csv_uploads.upload, name="csv-upload"),
]
