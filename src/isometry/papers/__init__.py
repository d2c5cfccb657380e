"""One module per reproduced paper. Each exposes ``EXPERIMENTS`` and ``FIGURES`` dictionaries
mapping a name to a callable; the CLI (``python -m isometry experiment|figure``) dispatches to them."""
