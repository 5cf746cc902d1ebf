"""Event handlers of the enrolment service: none yet.

Enrolment is where a cohort's facts begin; it consumes no other service's events so far. Its
one background activity, closing cohorts whose enrolment window ended, is not an event handler
and lives in :mod:`services.enrolment.window`. When enrolment starts to consume (e.g. a future
``EmployeeLeft`` from an HR connector), its handlers go here and :func:`register` subscribes
them through ``Service.consume``.
"""

from __future__ import annotations

from services.runtime.service import Service


def register(service: Service) -> None:
    """Subscribe the service's consumers; enrolment has none yet."""
    del service
