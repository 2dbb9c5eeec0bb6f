"""Durable state: atomic snapshots, the event log, and the goal folder layout."""
