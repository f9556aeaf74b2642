"""The platform every part stands on: settings, the database, extensions, HTTP plumbing
(client address, trusted hosts, body limits), security headers, error pages, rate limits, logs,
template filters and gunicorn's settings. Nothing here knows about leads."""
