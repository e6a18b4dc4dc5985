"""The box's MQTT broker: accounts and their topic rights, Mosquitto's files and process."""
