"""Identities, tokens and the policy point: who may do what on the platform."""
