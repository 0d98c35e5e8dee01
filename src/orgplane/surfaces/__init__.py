"""Thin surfaces over the core: the CLI, (later) the HTTP API and dashboard, the MCP server and
the briefing. They parse input, call the core and render; they hold no rules."""
