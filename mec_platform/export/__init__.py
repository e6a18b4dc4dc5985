"""Export of MQTT topics from the box's broker to an upstream broker through an on-disk queue."""
