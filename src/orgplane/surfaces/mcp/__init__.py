"""The MCP server: orgplane's reads (and, with ``--allow-writes``, an agent seat's writes) as
MCP tools, over stdio (``orgplane mcp``) or streamable HTTP (mounted by ``orgplane serve``).

:mod:`.server` builds the server (``build_server``); :mod:`.tools` declares every tool with its
description and annotations, each calling one service function; :mod:`.text` is the compact
text form of each result; :mod:`.http` is the streamable-HTTP app acting as each request's
token seat; :mod:`.errors` maps orgplane's errors to tool errors in one place.
"""
