"""Learning from failures: drills (scenarios run through the real detection and decision code)."""
