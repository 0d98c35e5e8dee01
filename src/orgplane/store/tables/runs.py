"""Tables of durable staged processes (runs, checkpoints, leases). Filled by the runs concern."""

__all__: list[str] = []
