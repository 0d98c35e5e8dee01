"""Commands of durable staged processes (``run``, ``checkpoint``). Filled by the runs concern."""
