"""Agents: subprocesses behind one protocol (ACP first; Wire; the scripted ACP agent)."""
