"""One module per verb of the ``grade`` command."""
