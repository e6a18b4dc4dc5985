"""The MEC 033 IoT service: registered IoT devices and the IoT platforms carrying their data."""
