"""omk-tui: prompts into proof-backed engineering runs.

The engine (everything outside ``omk_tui.ui``) never imports textual.
"""

__version__ = "0.1.0"
