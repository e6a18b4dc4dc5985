"""µMEC platform: turns a small edge box into an ETSI MEC host (MEC 011 API framework)."""

__version__ = "0.1.0"
