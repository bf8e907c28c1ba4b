"""The tasks the background worker runs each round (see ``core.worker``).

Each engine that needs background work registers a task here."""

from __future__ import annotations
