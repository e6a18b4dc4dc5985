"""One module per long-running process: the HTTP server (gunicorn) and the notification worker."""
