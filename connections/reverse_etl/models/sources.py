"""A Reverse ETL source: a warehouse connection (Segment: "add a warehouse as a source")."""

from __future__ import annotations

from django.db import models

from workspace.models import Workspace


class RetlSource(models.Model):
    class SslMode(models.TextChoices):
        # libpq's sslmode values (psycopg passes them through).
        DISABLE = "disable"
        ALLOW = "allow"
        PREFER = "prefer"
        REQUIRE = "require"
        VERIFY_CA = "verify-ca"
        VERIFY_FULL = "verify-full"

    class Bookkeeping(models.TextChoices):
        WAREHOUSE = "WAREHOUSE"
        SWITCHYARD = "SWITCHYARD"

    key_id = models.CharField(max_length=32, unique=True)  # rsrc_...
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="reverse_etl_sources"
    )
    slug = models.SlugField(max_length=64)  # immutable: the source's URL
    display_name = models.CharField(max_length=100)
    # A warehouse of warehouses.catalog; only implemented ones can be created.
    warehouse = models.CharField(max_length=32)
    # Either these fields (and the password) or a DSN (libpq connection string or
    # URI, which may carry the password) say how to connect.
    host = models.CharField(max_length=255, blank=True, default="")
    port = models.PositiveIntegerField(default=5432)
    database = models.CharField(max_length=255, blank=True, default="")
    username = models.CharField(max_length=255, blank=True, default="")
    ssl_mode = models.CharField(max_length=16, choices=SslMode.choices, default=SslMode.PREFER)
    # Secrets, encrypted at rest (connections.reverse_etl.credentials: Fernet under
    # a key derived from SECRET_KEY); "" when not set. Never returned by the API.
    password_encrypted = models.TextField(blank=True, default="")
    dsn_encrypted = models.TextField(blank=True, default="")
    # Where this source's snapshots live ("" until the first test connection or
    # extract decides): the warehouse's bookkeeping schema, or Switchyard's own
    # database when the user may only read. Kept once decided (a move would lose
    # the snapshots, so every row would be sent again).
    bookkeeping = models.CharField(
        max_length=16, choices=Bookkeeping.choices, blank=True, default=""
    )
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("workspace", "slug"), name="retl_source_slug_per_workspace"
            ),
        )
        indexes = (
            models.Index(fields=("workspace", "create_time", "id"), name="retl_source_keyset"),
        )

    def __str__(self) -> str:
        return self.display_name

    @property
    def resource_name(self) -> str:
        return f"workspaces/{self.workspace.slug}/reverse-etl/sources/{self.slug}"

    @property
    def password_set(self) -> bool:
        return bool(self.password_encrypted)

    @property
    def dsn_set(self) -> bool:
        return bool(self.dsn_encrypted)
