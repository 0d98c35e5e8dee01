"""Commands of silent-failure detection (``check``, ``watch``, ``publish``, ``heartbeat``,
``metric``, ``scorecard``). Filled by the watch concern."""
