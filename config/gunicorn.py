"""gunicorn settings of every way the API is served: ``gunicorn --config config/gunicorn.py … wsgi:app``
(scripts/run.sh, bench/server.py and so the tests that serve the app, production). Bind, workers and
threads stay on each command line; GUNICORN_CMD_ARGS and the command line override what is set here."""

# gthread that takes a new connection only while it has a free thread (api/workers.py, issue 23).
worker_class = "api.workers.BalancedThreadWorker"
