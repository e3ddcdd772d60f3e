"""Background jobs on huey: one set of tasks for every deployment.

- ``queue.py``: the huey instance and where it keeps its queue — a SQLite file of its own in the
  instance folder (``var/jobs.db``) for the embedded default, huey's own tables in the PostgreSQL
  database, or Redis (``TQ_JOBS_URL``).
- ``tasks.py``: the tasks (the attendance drain, the sweep that re-enqueues it, the nightly backup).
- ``consumer.py``: the consumer, as threads inside ``serve`` (one per machine) or as ``trainquant worker``.
- ``backup.py``: online backups and restores (``trainquant backup`` / ``restore``, the nightly job).

A queue message is only ever a nudge. What must be done lives in the application database, written
in the same transaction as the facts it follows (``attendance_pending``), so a message lost with a
killed worker — huey takes a message off the queue before running it — costs a delay, never work.
"""
