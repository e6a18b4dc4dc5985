"""Application packages (ETSI GS MEC 010-2): AppD, archive format, signatures, onboarding."""
