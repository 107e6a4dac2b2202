"""Production gunicorn settings, used by ``zhsearch serve`` (``--config python:search.gunicorn_conf``).

Sync workers, about one per core; the app (and jieba's dictionary) is loaded once in the master
(``preload_app``) and shared copy-on-write; each worker opens the Whoosh index after the fork.
"""

import os

wsgi_app = "search.wsgi:app"
preload_app = True
worker_class = "sync"
workers = max(2, len(os.sched_getaffinity(0)))  # `zhsearch serve --workers N` overrides
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 0
limit_request_line = 8190
limit_request_fields = 100
accesslog = None
errorlog = "-"
loglevel = "info"
proc_name = "zhsearch"


def on_starting(server):
    """Load jieba's dictionary in the master so workers inherit it."""
    from search.analysis import warm_up

    warm_up()
