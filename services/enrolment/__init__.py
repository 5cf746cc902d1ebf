"""The enrolment service: cohorts per business unit, voluntary enrolment, bulk import, withdrawal.

Owns the MongoDB database ``enrolment`` and publishes ``CohortOpened``, ``CohortClosed``,
``ParticipantEnrolled`` and ``ParticipantWithdrawn`` on ``revmentor.enrolment.v1``.
"""
