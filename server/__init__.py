"""Redline's web process: HTTP API, websocket relay and the page."""
