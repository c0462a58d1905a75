"""The password hasher: Argon2id, priced for a small install.

Django's default Argon2 parameters (100 MiB, 2 passes, 8 lanes) cost about a
quarter of a second of both CPUs of a two-core machine per sign-in attempt, more
under load: two sync workers are then busy with a handful of wrong passwords.
These parameters stay above OWASP's minimum for Argon2id (19 MiB, 2 passes,
1 lane) at a fraction of the cost; README "Sign-in lockout" has the measurements.

The algorithm name stays ``argon2``: hashes made with the old parameters still
verify, and Django re-hashes them with these on the user's next sign-in
(``must_update``). Raising the cost later works the same way.
"""

from __future__ import annotations

from django.contrib.auth import hashers


class Argon2PasswordHasher(hashers.Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 32 * 1024  # KiB: 32 MiB
    parallelism = 1
