"""HTTP edge: connexion app factory, resolver, ProblemDetails rendering, one package per API."""
