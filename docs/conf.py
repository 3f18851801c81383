"""Sphinx settings for the toolkit's documentation (Markdown pages through MyST)."""

project = "Flask cache toolkit"
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "alabaster"
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"]
