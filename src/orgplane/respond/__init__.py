"""Responding to failures: failure events now; urgency policy, decisions, coverage gate and
notifications stand on them later."""
