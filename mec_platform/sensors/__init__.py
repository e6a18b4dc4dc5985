"""Sensors wired to the box: readings from MQTT, each (sensor, quantity) a MEC service."""
