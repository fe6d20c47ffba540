"""Helpers for tests that exercise the bus for real (shipped so every service can use them)."""
