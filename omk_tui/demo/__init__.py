"""The built-in demo: a sample repository and a scripted agent that runs a goal on it."""
