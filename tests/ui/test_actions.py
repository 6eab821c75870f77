"""One table of actions feeds the bindings, the footer, the help screen and the palette: they must agree."""

from __future__ import annotations

import re

from swaptui.ui.actions import ACTIONS, bindings
from swaptui.ui.app import SwapApp
from swaptui.ui.help import help_text
from swaptui.ui.panes.clusters import ClusterView
from swaptui.ui.panes.counters import CounterList
from swaptui.ui.panes.memory_map import MapView


def _method(action: str) -> str:
    return "action_" + re.match(r"\w+", action).group(0)


def test_app_bindings_are_exactly_the_app_rows_of_the_table() -> None:
    table = {(key, a.action) for a in ACTIONS if a.scope == "app" for key in a.keys}
    bound = {(b.key, b.action) for b in SwapApp.BINDINGS}
    assert bound == table


def test_cursor_rows_are_bound_on_every_selectable_widget() -> None:
    table = {(key, a.action) for a in ACTIONS if a.scope == "cursor" for key in a.keys}
    for widget in (MapView, ClusterView, CounterList):
        assert {(b.key, b.action) for b in widget.BINDINGS} == table, widget.__name__


def test_every_action_has_a_method() -> None:
    for a in ACTIONS:
        owners = (SwapApp,) if a.scope == "app" else (MapView, ClusterView, CounterList)
        for owner in owners:
            assert hasattr(owner, _method(a.action)), f"{owner.__name__} lacks {_method(a.action)}"


def test_help_lists_every_action_with_its_keys() -> None:
    text = help_text().plain
    for a in ACTIONS:
        assert a.description in text
        assert a.keys_text in text


def test_footer_labels_come_from_the_table() -> None:
    shown = {b.description for b in bindings("app") if b.show}
    assert shown == {a.footer for a in ACTIONS if a.footer and a.scope == "app"}


def test_keys_are_not_bound_twice_in_one_scope() -> None:
    for scope in ("app", "cursor"):
        keys = [key for a in ACTIONS if a.scope == scope for key in a.keys]
        assert len(keys) == len(set(keys)), scope
