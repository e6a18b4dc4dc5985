"""Timing context: the platform clock and the box's real time-synchronisation state.

It backs the MEC 011 Application Support resources `timing_caps` and `current_time`
(ETSI GS MEC 011 v3.1.1 clauses 7.1.2.4 and 7.1.2.5): the domain lives in `model`,
the use cases in `service`, the port in `ports`, and one adapter per time daemon
(`chrony`, `timedatectl` for systemd-timesyncd).
"""
