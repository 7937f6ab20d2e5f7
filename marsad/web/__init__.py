"""The web application: server-rendered pages over the same policy, reads and audit as the API."""
