"""The service layer: one function per use case, shared by every surface.

A use case (what a CLI command, an HTTP route or an MCP tool does) is one function here: it takes
a :class:`~orgplane.service.session.Session` and plain arguments, applies every rule of the use
case, and returns a pydantic model, the same one a surface renders as a table or dumps as JSON.
Surfaces only parse their input, call one of these and render the result; they decide nothing.

Modules, one per concern: :mod:`.session` (the org and the store a use case acts on),
:mod:`.org` (init, validate, chart, readiness), :mod:`.runs` (run start / status / list /
resume, checkpoint), :mod:`.watch` (check, publish, heartbeat, metric push, scorecard, prune,
watch). Importing this package is cheap; each module imports the core it needs.
"""

from orgplane.service.session import Session

__all__ = ["Session"]
