"""Helpers shared by the test layers: free ports, a callback receiver, platform processes."""
