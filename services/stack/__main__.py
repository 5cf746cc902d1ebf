"""`python -m services.stack` is the `revmentor` command, for checkouts without an install."""

from services.stack.cli import app

app(prog_name="revmentor")
