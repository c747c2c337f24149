"""Services below the routes, one module per concern: each gets only the collaborators it uses (built
once in :mod:`api.bootstrap`) and refuses requests with the library's domain errors."""
