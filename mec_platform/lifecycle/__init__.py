"""Application lifecycle (ETSI GS MEC 010-2): app instances, operation occurrences, containers."""
