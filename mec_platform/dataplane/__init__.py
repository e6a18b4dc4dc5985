"""The data plane of the MEC host: makes ACTIVE DNS and traffic rules take effect."""
