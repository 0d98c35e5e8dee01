"""Learning from what happened: incidents, audits, hearings, and the delegation ledger."""
