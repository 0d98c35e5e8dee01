"""Detection of silent failures: stale, corrupt, missing, invalid or frozen shared state, missed
scheduled pushes, heartbeats of scheduled jobs, and the scorecard's metrics.

The pure parts (:mod:`readers`, :mod:`timestamps`, :mod:`inspect`, :mod:`schedules`) take what
was read and the time ``now`` and never touch the store; :mod:`check` runs one pass and records
each state transition once; :mod:`daemon` repeats it.
"""
