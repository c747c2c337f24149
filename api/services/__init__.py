"""Services below the routes: one module per concern, all sharing :class:`AppServices`."""
