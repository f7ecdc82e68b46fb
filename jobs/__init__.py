"""Scheduled work (APScheduler, one acting process): overdue hazards, rechecks, patrol and self-inspection
tasks, monthly figures, photo housekeeping. ``jobs.jobs`` lists the jobs and their times, ``jobs.tasks``
does the task work in SQL, ``jobs.runner`` runs one job in its own transaction, ``jobs.scheduler`` is the
process that fires them."""
