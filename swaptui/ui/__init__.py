"""The live terminal app: panes over Snapshots, driven by a stepper thread (imports Textual)."""
