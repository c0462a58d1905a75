from engage.api import identity_urls

urlpatterns: list[object] = [*identity_urls.urlpatterns]
