"""MEC 011 Application Support: registration, readiness, termination, DNS and traffic rules."""
