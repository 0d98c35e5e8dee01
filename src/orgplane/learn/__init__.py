"""Learning from failures: incident records, the weekly audit, retirement hearings, drills."""
