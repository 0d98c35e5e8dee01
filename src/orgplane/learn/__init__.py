"""Learning from failures: incidents and their timeline, learnings that change org.yaml, the
weekly audit, retirement hearings, drills and the delegation ledger."""
