"""The command palette (ctrl+p): every action bound on the current screen and the app, by its description."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ActionsProvider(Provider):
    def _actions(self):
        seen: set[tuple[int, str]] = set()
        for active in self.screen.active_bindings.values():
            binding, node = active.binding, active.node
            if not active.enabled or binding.action in ("command_palette",) or not binding.description:
                continue
            key = (id(node), binding.action)
            if key in seen:
                continue
            seen.add(key)
            keys = binding.key_display or binding.key
            yield binding.description, f"{binding.action.split('(')[0].replace('_', ' ')} · key {keys}", \
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
