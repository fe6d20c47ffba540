"""The small web kit every service and the gateway share: settings, database, the Flask
base (health, readiness, metrics, one error shape), token verification, the worker runner."""
