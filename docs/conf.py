"""Sphinx settings for the toolkit's documentation: Markdown pages through MyST, the Furo theme,
and an API reference generated from the packages' docstrings (autodoc). Built with warnings as
errors (`hatch run docs:build`), offline: no intersphinx, no remote images."""

project = "Flask cache toolkit"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
# _generated/ holds what bench/charts.py writes: included by benchmarks.md, not a page itself
exclude_patterns = ["_build", "_generated"]
html_theme = "furo"
html_title = "Flask cache toolkit"
html_static_path = ["_static"]
myst_heading_anchors = 3
# READMEs included into the reference pages link to files outside docs/ (the code, the tests)
suppress_warnings = ["myst.xref_missing"]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
