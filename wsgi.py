"""WSGI entry point: ``gunicorn wsgi:app``. The only place that reads the environment for the app."""

import os

from api.app import create_app
from api.memory import tune_garbage_collector
from config.settings import Settings

app = create_app(Settings.from_env(os.environ))
tune_garbage_collector()
