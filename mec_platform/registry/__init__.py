"""The MEC service registry: app instances, services, availability subscriptions (MEC 011)."""
