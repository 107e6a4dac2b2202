"""What gunicorn runs: ``gunicorn search.wsgi:app`` (settings from the environment)."""

from .config import Settings
from .query.searcher import Searcher
from .web.app import create_app

settings = Settings.from_env()
searcher = Searcher(settings)
app = create_app(settings, searcher=searcher)
