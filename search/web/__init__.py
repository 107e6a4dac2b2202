"""The Falcon app: the JSON API, the search and article pages, ``/openapi.json``.

* :mod:`.app` — the app factory, errors as JSON, security headers;
* :mod:`.page` — the server-rendered pages (Jinja templates in ``templates/``, assets in ``static/``);
* :mod:`.openapi` — the OpenAPI document of the API;
* :mod:`.completions` — ``/api/suggest``, as-you-type completions (the box's list:
  ``static/suggest.js``).

Imports :mod:`search.query`, :mod:`search.config` and :mod:`search.paragraphs` (the kinds);
imported by :mod:`search.wsgi` and
:mod:`search.gunicorn_conf`.
"""
