"""The command palette (ctrl+p): every action bound on the current screen and the app, by what it does.

An entry is named by its binding's tooltip (what the action does) or else its description, and lists every key
bound to it. Textual's own system commands are not offered: the app binds its own quit, theme, screenshot and
help, and Textual's theme command would offer themes the app does not use.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ActionsProvider(Provider):
    def _actions(self):
        entries: dict[tuple[int, str], tuple] = {}
        keys: dict[tuple[int, str], list[str]] = {}
        for active in self.screen.active_bindings.values():
            binding, node = active.binding, active.node
            if not active.enabled or binding.action in ("command_palette",) or not binding.description:
                continue
            key = (id(node), binding.action)
            keys.setdefault(key, []).append(binding.key_display or binding.key)
            # the app's own bindings (shown in the footer) name an action before Textual's defaults (ctrl+q)
            if key not in entries or (binding.show and not entries[key][0].show):
                entries[key] = (binding, node)
        for key, (binding, node) in entries.items():
            shown = sorted(keys[key], key=lambda k: (k != (binding.key_display or binding.key), len(k)))
            yield binding.tooltip or binding.description, f"key {', '.join(shown)}", \
                partial(node.run_action, binding.action)

    async def discover(self) -> Hits:
        for name, help_text, run in self._actions():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self._actions():
            score = max(matcher.match(name), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
