"""Audiences and computed traits ("computations", Segment's computation_class
audience|trait): their definitions, current members / values, runs and history.

Both kinds write ``Profile.traits[key]`` (an audience its membership as true /
false), so keys are unique per space across both kinds, and never reused
(``ComputationKey`` keeps every key a space ever used)."""

from __future__ import annotations

from django.db import models

from engage.models.profiles import Profile
from engage.models.spaces import Space


class ComputationKind(models.TextChoices):
    AUDIENCE = "audience"
    TRAIT = "trait"


class ComputationMode(models.TextChoices):
    REALTIME = "realtime"
    BATCH = "batch"


class ComputationStatus(models.TextChoices):
    """engage.md §5.5."""

    PREPARING = "PREPARING"
    COMPUTING = "COMPUTING"
    LIVE = "LIVE"
    NOT_COMPUTING = "NOT_COMPUTING"
    DISABLED = "DISABLED"
    FAILED = "FAILED"


class Computation(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="computations")
    kind = models.CharField(max_length=8, choices=ComputationKind.choices)
    key_id = models.CharField(max_length=32, unique=True)  # aud_... / tra_...
    key = models.CharField(max_length=255)  # snake_case, immutable
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    folder = models.CharField(max_length=100, blank=True, default="")
    definition = models.JSONField()
    compute_mode = models.CharField(max_length=8, choices=ComputationMode.choices)  # immutable
    status = models.CharField(
        max_length=16, choices=ComputationStatus.choices, default=ComputationStatus.PREPARING
    )
    enabled = models.BooleanField(default=True)
    # Batch only (§5.5): without it, a batch computation with no connected
    # destination is NOT_COMPUTING and the beat skips it.
    compute_without_destinations = models.BooleanField(default=True)
    size = models.BigIntegerField(default=0)
    failure = models.CharField(max_length=500, blank=True, default="")
    last_run_time = models.DateTimeField(null=True, blank=True)
    last_success_time = models.DateTimeField(null=True, blank=True)
    # Real-time only: the instant up to which time windows were checked for
    # members that a window edge moves in or out with no new event (the beat's
    # engage.check_windows); the next check resumes from here.
    window_check_time = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("space", "key"), name="computation_key_per_space"),
        )
        indexes = (
            models.Index(fields=("space", "kind", "create_time", "id"), name="computation_keyset"),
        )

    def __str__(self) -> str:
        return self.key

    @property
    def collection(self) -> str:
        return "audiences" if self.kind == ComputationKind.AUDIENCE else "computed-traits"

    @property
    def resource_name(self) -> str:
        return f"{self.space.resource_name}/{self.collection}/{self.key}"


class ComputationKey(models.Model):
    """Every key a space ever gave an audience or trait: the docs say never reuse
    one, even after a deletion (profiles keep the old values as custom traits)."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("space", "key"), name="computation_key_used_once"),
        )

    def __str__(self) -> str:
        return self.key


class ComputationMember(models.Model):
    """A current audience member (value true) or a profile's current trait value."""

    computation = models.ForeignKey(
        Computation, on_delete=models.CASCADE, related_name="members", db_index=False
    )
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    value = models.JSONField(null=True)
    since = models.DateTimeField()  # entered / value set
    update_time = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("computation", "profile"), name="computation_member_once"
            ),
        )

    def __str__(self) -> str:
        return f"{self.computation_id}:{self.profile_id}"


class RunTrigger(models.TextChoices):
    CREATE = "create"
    MANUAL = "manual"
    SCHEDULE = "schedule"
    EDIT = "edit"


class RunStatus(models.TextChoices):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class RunStep(models.IntegerChoices):
    """How far a run got; each step is recorded in the transaction of its effect,
    so a retried task resumes at the first step not done."""

    NONE = 0
    EVALUATED = 1  # the compiled query's rows are in ComputationResult
    APPLIED = 2  # members, history and Profile.traits written
    NOTIFIED = 3  # the sync hook was handed the changes


class ComputationRun(models.Model):
    computation = models.ForeignKey(Computation, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=8, choices=RunTrigger.choices)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    step = models.PositiveSmallIntegerField(choices=RunStep.choices, default=RunStep.NONE)
    attempts = models.PositiveSmallIntegerField(default=0)
    as_of = models.DateTimeField(null=True, blank=True)  # the evaluation instant
    size = models.BigIntegerField(default=0)
    entered = models.BigIntegerField(default=0)  # audiences: entered; traits: values set
    exited = models.BigIntegerField(default=0)  # audiences: exited; traits: values removed
    error = models.TextField(blank=True, default="")
    create_time = models.DateTimeField(auto_now_add=True)
    start_time = models.DateTimeField(null=True, blank=True)
    finish_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = (
            models.Index(
                fields=("computation", "create_time", "id"), name="computation_run_keyset"
            ),
        )

    def __str__(self) -> str:
        return f"run {self.pk} of {self.computation_id}"


class ComputationResult(models.Model):
    """A run's evaluated rows (its compiled query's answer), kept between the
    evaluate and apply steps; deleted when the run applies them."""

    run = models.ForeignKey(ComputationRun, on_delete=models.CASCADE, related_name="+")
    profile_id = models.BigIntegerField()
    value = models.JSONField(null=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("run", "profile_id"), name="computation_result_once"),
        )

    def __str__(self) -> str:
        return f"{self.run_id}:{self.profile_id}"


class ComputationChange(models.Model):
    """History: a profile entered / exited an audience (old/new false/true) or a
    trait value changed (null: no value). ``run`` is null for real-time updates."""

    computation = models.ForeignKey(
        Computation, on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    run = models.ForeignKey(
        ComputationRun, null=True, blank=True, on_delete=models.CASCADE, related_name="changes"
    )
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    old = models.JSONField(null=True)
    new = models.JSONField(null=True)
    time = models.DateTimeField()

    class Meta:
        indexes = (
            models.Index(fields=("computation", "time", "id"), name="computation_change_recent"),
        )

    def __str__(self) -> str:
        return f"{self.computation_id}:{self.profile_id} {self.old} -> {self.new}"
