"""Tables of silent-failure detection (output states, pushes, heartbeats). Filled by the watch
concern."""

__all__: list[str] = []
