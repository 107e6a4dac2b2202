"""The Falcon app: the JSON API, the search and article pages, ``/openapi.json``.

* :mod:`.app` — the app factory, errors as JSON, security headers;
* :mod:`.page` — the server-rendered pages (Jinja templates in ``templates/``, assets in ``static/``);
* :mod:`.completions` — ``/api/suggest``, as-you-type completions (the box's list:
  ``static/suggest.js``).
* :mod:`.openapi` — the OpenAPI document of the API (:mod:`.openapi_research`: the research API's;
  :mod:`.page_openapi`: the HTML pages');
* :mod:`.research` — ``/api/timeline``, ``/api/concordance``, ``/api/export``;
  :mod:`.research_page` — the timeline above a search's results and the 语境 page, drawn by
  :mod:`.chart`.
* :mod:`.inline_asgi` — the WSGI app served over ASGI, inline on the event loop, with a bounded queue;
* :mod:`.guarded` — uvicorn's HTTP protocol with deadlines for slow, idle and non-reading clients, and
  the gunicorn worker class ``zhsearch serve`` runs.

Imports :mod:`search.query`, :mod:`search.config` and :mod:`search.paragraphs` (the kinds);
imported by :mod:`search.wsgi` and
:mod:`search.gunicorn_conf` (which names :class:`.guarded.Worker` as gunicorn's worker class).
"""
