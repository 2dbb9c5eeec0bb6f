"""Plain-text, Markdown and JSON renderings of a goal (no textual): used by `goals`, `show`, `proof`, and replay."""
