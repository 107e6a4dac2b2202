"""What gunicorn runs: ``gunicorn search.wsgi:app`` (settings from the environment)."""

from .config import Settings
from .web import create_app

app = create_app(Settings.from_env())
