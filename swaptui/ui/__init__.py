"""The live terminal app: panes over Snapshots, driven by a stepper thread (imports Textual)."""

import os

# Textual repaints on a timer at TEXTUAL_FPS (60 by default): a frame waits up to one period after the
# stepper posts it. 120 halves that wait, which the stepper spends idle; set before Textual is imported.
os.environ.setdefault("TEXTUAL_FPS", "120")
