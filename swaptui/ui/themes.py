"""The four themes and the state colours every pane draws with (as theme variables, never hex in widgets).

State is never shown by colour alone: each frame state and cluster list also has its own glyph, so
the colour-blind-safe theme (Okabe–Ito palette) and a monochrome projector still read correctly.
"""

from __future__ import annotations

from textual.theme import Theme

# Variable names used by the .tcss and component classes.
STATE_VARIABLES = (
    "frame-free",
    "frame-pcp",
    "frame-kernel",
    "frame-anon-active",
    "frame-anon-inactive",
    "frame-file",
    "frame-swapcache",
    "frame-zsmalloc",
    "frame-reserved",
    "cluster-none",
    "cluster-free",
    "cluster-nonfull",
    "cluster-frag",
    "cluster-full",
    "cluster-discard",
    "cluster-cached",
    "level-ok",
    "level-warn",
    "level-bad",
    "band",
)

DARK_STATES = {
    "frame-free": "#4a5566",
    "frame-pcp": "#7d8ba1",
    "frame-kernel": "#e06c75",
    "frame-anon-active": "#f5a524",
    "frame-anon-inactive": "#c27c2c",
    "frame-file": "#61afef",
    "frame-swapcache": "#56d4c4",
    "frame-zsmalloc": "#c678dd",
    "frame-reserved": "#3a3f4b",
    "cluster-none": "#abb2bf",
    "cluster-free": "#4a5566",
    "cluster-nonfull": "#98c379",
    "cluster-frag": "#e5c07b",
    "cluster-full": "#e06c75",
    "cluster-discard": "#c678dd",
    "cluster-cached": "#ffffff",
    "level-ok": "#98c379",
    "level-warn": "#e5c07b",
    "level-bad": "#ff5f5f",
    "band": "#262b35",
}

LIGHT_STATES = {
    "frame-free": "#b8c0cc",
    "frame-pcp": "#8792a2",
    "frame-kernel": "#c0392b",
    "frame-anon-active": "#d35400",
    "frame-anon-inactive": "#a0680f",
    "frame-file": "#1f6fbf",
    "frame-swapcache": "#138a7e",
    "frame-zsmalloc": "#8e44ad",
    "frame-reserved": "#d5d9df",
    "cluster-none": "#555555",
    "cluster-free": "#b8c0cc",
    "cluster-nonfull": "#2e8b3a",
    "cluster-frag": "#b7950b",
    "cluster-full": "#c0392b",
    "cluster-discard": "#8e44ad",
    "cluster-cached": "#000000",
    "level-ok": "#2e8b3a",
    "level-warn": "#b7950b",
    "level-bad": "#c0392b",
    "band": "#e8ebf0",
}

PROJECTOR_STATES = {
    "frame-free": "#8a8a8a",
    "frame-pcp": "#bbbbbb",
    "frame-kernel": "#ff3030",
    "frame-anon-active": "#ffb000",
    "frame-anon-inactive": "#ffe066",
    "frame-file": "#2fa8ff",
    "frame-swapcache": "#00ffd0",
    "frame-zsmalloc": "#ff4dff",
    "frame-reserved": "#4d4d4d",
    "cluster-none": "#ffffff",
    "cluster-free": "#8a8a8a",
    "cluster-nonfull": "#4dff4d",
    "cluster-frag": "#ffe066",
    "cluster-full": "#ff3030",
    "cluster-discard": "#ff4dff",
    "cluster-cached": "#ffffff",
    "level-ok": "#4dff4d",
    "level-warn": "#ffe066",
    "level-bad": "#ff3030",
    "band": "#1c1c1c",
}

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
COLOURBLIND_STATES = {
    "frame-free": "#5f5f5f",
    "frame-pcp": "#999999",
    "frame-kernel": "#d55e00",
    "frame-anon-active": "#e69f00",
    "frame-anon-inactive": "#f0e442",
    "frame-file": "#56b4e9",
    "frame-swapcache": "#009e73",
    "frame-zsmalloc": "#cc79a7",
    "frame-reserved": "#3a3a3a",
    "cluster-none": "#ffffff",
    "cluster-free": "#5f5f5f",
    "cluster-nonfull": "#56b4e9",
    "cluster-frag": "#e69f00",
    "cluster-full": "#d55e00",
    "cluster-discard": "#cc79a7",
    "cluster-cached": "#ffffff",
    "level-ok": "#009e73",
    "level-warn": "#f0e442",
    "level-bad": "#d55e00",
    "band": "#262626",
}

THEMES: dict[str, Theme] = {
    "swaptui-dark": Theme(
        name="swaptui-dark",
        primary="#5f9ee0",
        secondary="#3d6e9e",
        accent="#f5a524",
        warning="#e5c07b",
        error="#ff5f5f",
        success="#98c379",
        foreground="#dcdfe4",
        background="#16181d",
        surface="#1c1f26",
        panel="#252a33",
        dark=True,
        variables=DARK_STATES,
    ),
    "swaptui-light": Theme(
        name="swaptui-light",
        primary="#1f5fa8",
        secondary="#3d6e9e",
        accent="#b35900",
        warning="#8a6d00",
        error="#b3261e",
        success="#2e7d32",
        foreground="#1d2026",
        background="#fbfbfc",
        surface="#f0f2f5",
        panel="#e2e6ec",
        dark=False,
        variables=LIGHT_STATES,
    ),
    "swaptui-projector": Theme(
        name="swaptui-projector",
        primary="#ffffff",
        secondary="#ffe066",
        accent="#ffe066",
        warning="#ffe066",
        error="#ff3030",
        success="#4dff4d",
        foreground="#ffffff",
        background="#000000",
        surface="#000000",
        panel="#1a1a1a",
        dark=True,
        variables=PROJECTOR_STATES,
    ),
    "swaptui-colourblind": Theme(
        name="swaptui-colourblind",
        primary="#56b4e9",
        secondary="#0072b2",
        accent="#e69f00",
        warning="#f0e442",
        error="#d55e00",
        success="#009e73",
        foreground="#f2f2f2",
        background="#121212",
        surface="#1a1a1a",
        panel="#262626",
        dark=True,
        variables=COLOURBLIND_STATES,
    ),
}

THEME_ALIASES = {
    "dark": "swaptui-dark",
    "light": "swaptui-light",
    "projector": "swaptui-projector",
    "colour-blind": "swaptui-colourblind",
    "color-blind": "swaptui-colourblind",
    "colourblind": "swaptui-colourblind",
}
THEME_ORDER = tuple(THEMES)


def theme_name(alias: str) -> str:
    """A theme's registered name from a short alias (dark, light, projector, colour-blind)."""
    return THEME_ALIASES.get(alias, alias)
