"""Sphinx configuration for the poe for Python documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (this is what ``nox -s docs`` runs).
Needs sphinx and furo. With myst-parser installed the Markdown design card (``dev/design.md``)
is rendered too; without it, that page is left out and the build still passes.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# The kernel is documented straight from the source tree: no install needed to build the docs.
# ``poe`` is a PEP 420 namespace package, so every package's ``src`` directory goes on the path.
for src in sorted((ROOT / "packages").glob("*/src")):
    sys.path.insert(0, str(src))

project = "poe for Python"
author = "the poe for Python authors"
copyright = "the poe for Python authors; POE itself is by Rocco Caputo and contributors"

HAVE_MYST = importlib.util.find_spec("myst_parser") is not None

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
if HAVE_MYST:
    extensions.append("myst_parser")
    source_suffix[".md"] = "markdown"
    myst_heading_anchors = 3
else:
    exclude_patterns.append("dev/design.md")

# Cross-references to names the API does not (yet) document must not break a -W build.
nitpicky = False

# -- autodoc / napoleon ------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
# "Attributes:" sections as :ivar: fields: autodoc documents NamedTuple fields itself, and two
# descriptions of one attribute would be a duplicate-object warning.
napoleon_use_ivar = True
# poe.tcp.TCPServer groups its many arguments in two "Args"-like sections.
napoleon_custom_sections = [
    ("Listener arguments", "params_style"),
    ("Connection arguments", "params_style"),
]

# The public modules the API page documents. A module that cannot be imported while the kernel is
# still being written is replaced on that page by a visible note (see ``_fill_placeholders`` below)
# instead of failing the build; once it imports, autodoc documents it.
API_MODULES = [
    "poe.kernel",
    "poe.session",
    "poe.nfa",
    "poe.errors",
    "poe.events",
    "poe.clock",
    "poe.loop",
    "poe.loop.select_loop",
    "poe.loop.asyncio_loop",
    "poe.testing",
    "poe.testing.plugin",
    "poe.testing.watchdog",
    "poe.irc",
    "poe.irc.state",
    "poe.irc.plugins",
]


def _fill_placeholders(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname == "dev/index" and not HAVE_MYST:
        source[0] = source[0].replace(
            "   design\n",
            "\n(The design card is ``docs/dev/design.md`` in the repository; install myst-parser "
            "to render it here.)\n",
        )
    if docname != "api":
        return
    parts = []
    for name in API_MODULES:
        parts.append(f"``{name}``\n{'-' * (len(name) + 4)}\n\n")
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any import failure becomes a note on the page
            parts.append(
                f".. note::\n\n   ``{name}`` could not be imported when these pages were built "
                f"(``{type(exc).__name__}``), so its reference is missing here.\n\n"
            )
        else:
            parts.append(f".. automodule:: {name}\n\n")
    source[0] = source[0].replace(".. api-modules-here::", "".join(parts))


def setup(app: Sphinx) -> None:
    app.connect("source-read", _fill_placeholders)


# -- HTML --------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "poe for Python"
pygments_style = "sphinx"
