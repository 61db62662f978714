"""opscontext-mcp: the connected operational context of an incident, as an MCP server."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opscontext-mcp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
