"""The OpenAPI description of the research API (``/api/timeline``, ``/api/concordance``,
``/api/export``), merged into the document of :mod:`search.web.openapi`; strict like the rest."""

from __future__ import annotations

from ..config import Settings
from ..query import concordance, timeline
from ..query.export import FORMATS as EXPORT_FORMATS, MAX_ROWS
from ..query.research import SEARCH_SORTS

JSON = "application/json"
CSV = "text/csv"
JSONL = "application/x-ndjson"
_TEXT = {"type": "string"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


def _int(name: str, minimum: int, maximum: int, default: int, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "integer", "minimum": minimum, "maximum": maximum, "default": default}}


def _enum(name: str, values, default: str, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string", "enum": list(values), "default": default}}


def research_schemas(settings: Settings) -> dict:
    count = {"type": "integer", "minimum": 0}
    return {
        "Timeline": {
            "type": "object",
            "description": "Attention over time: per query, per period, its matching articles against all.",
            "required": ["interval", "series"],
            "properties": {
                "interval": {"type": "string", "enum": list(timeline.INTERVALS)},
                "series": {"type": "array", "minItems": 1, "maxItems": timeline.MAX_QUERIES,
                           "items": _ref("TimelineSeries"), "description": "one per q, in the order given"},
            },
            "additionalProperties": False,
        },
        "TimelineSeries": {
            "type": "object",
            "required": ["query", "total", "undated", "points"],
            "properties": {
                "query": {"type": "string"},
                "total": {**count, "description": "articles with at least one matching paragraph"},
                "undated": {**count, "description": "of them, those without a date"},
                "points": {"type": "array", "items": _ref("TimelinePoint"),
                           "description": "every period from the first to the last dated article admitted "
                                          "(of any series), empty ones with zeros"},
            },
            "additionalProperties": False,
        },
        "TimelinePoint": {
            "type": "object",
            "required": ["period", "matches", "articles", "share"],
            "properties": {
                "period": {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?|-W\d{2})?$",
                           "description": "2024, 2024-03, 2024-W09 (ISO week) or 2024-03-05"},
                "matches": {**count, "description": "dated articles of the period with a matching paragraph"},
                "articles": {**count, "description": "dated articles of the period the query's filters admit"},
                "share": {"type": "number", "minimum": 0, "maximum": 1,
                          "description": "matches / articles, 0 when none"},
            },
            "additionalProperties": False,
        },
        "Concordance": {
            "type": "object",
            "description": "Keyword in context: one line per occurrence, with the exact total.",
            "required": ["query", "total", "page", "size", "lines"],
            "properties": {
                "query": {"type": "string"},
                "total": {**count, "description": "every occurrence (each start position) in every matching paragraph"},
                "page": {"type": "integer", "minimum": 1, "maximum": settings.max_page},
                "size": {"type": "integer", "minimum": 1, "maximum": concordance.MAX_SIZE},
                "lines": {"type": "array", "maxItems": concordance.MAX_SIZE, "items": _ref("ConcordanceLine")},
            },
            "additionalProperties": False,
        },
        "ConcordanceLine": {
            "type": "object",
            "required": list(concordance.CSV_COLUMNS),
            "properties": {
                "article_id": {"type": "string", "minLength": 1},
                "article_title": _TEXT,
                "paragraph": {"type": "integer", "minimum": 1},
                "date": {"type": "string", "nullable": True, "description": "the article's date as written"},
                "left": {**_TEXT, "maxLength": concordance.MAX_WIDTH,
                         "description": "up to `width` original characters before the match"},
                "match": {**_TEXT, "minLength": 1, "description": "the original text of the occurrence"},
                "right": {**_TEXT, "maxLength": concordance.MAX_WIDTH,
                          "description": "up to `width` original characters after it"},
            },
            "additionalProperties": False,
        },
    }


def research_paths(settings: Settings, query_param) -> dict:
    """The three paths; ``query_param(description)`` is the search's ``q`` parameter."""
    q = {**query_param("the query, as for /api/search"), "required": True}
    unavailable = _error("no index has been built yet (retry later)")
    bad = (f"a parameter out of range, or a query longer than {settings.max_query_chars} characters or with too "
           "many terms")
    fmt = _enum("format", ("json", "csv"), "json", "JSON, or CSV")
    return {
        "/api/timeline": {"get": {
            "operationId": "timeline",
            "summary": "Matching articles per period against all articles of the period, for 1–5 queries",
            "parameters": [
                {"name": "q", "in": "query", "required": True, "style": "form", "explode": True,
                 "description": "1–5 queries (repeat q), one series each",
                 "schema": {"type": "array", "minItems": 1, "maxItems": timeline.MAX_QUERIES,
                            "items": {"type": "string", "maxLength": settings.max_query_chars}}},
                _enum("interval", timeline.INTERVALS, "month", "year, month, ISO week or day"),
                fmt,
            ],
            "responses": {
                "200": {"description": "one series per query on one axis; CSV columns "
                                       + ",".join(timeline.CSV_COLUMNS),
                        "content": {JSON: {"schema": _ref("Timeline")}, CSV: {"schema": _TEXT}}},
                "400": _error(f"no q or more than {timeline.MAX_QUERIES}, an unknown interval or format, or {bad}"),
                "503": unavailable,
            },
        }},
        "/api/concordance": {"get": {
            "operationId": "concordance",
            "summary": "Keyword in context: a line per occurrence, the matches with their left and right contexts",
            "parameters": [
                q,
                _int("width", 1, concordance.MAX_WIDTH, 20, "original characters shown on each side"),
                _enum("sort", concordance.SORTS, "relevance",
                      "the search's order, the left context read outwards, the right context, or by date"),
                _int("page", 1, settings.max_page, 1, "1-based page of lines"),
                _int("size", 1, concordance.MAX_SIZE, 50, "lines a page"),
                {**fmt, "description": "JSON, or CSV: every line in order (at most "
                                       f"{MAX_ROWS:,}) unless page or size is given, then that page"},
            ],
            "responses": {
                "200": {"description": "the lines and their exact total; CSV columns "
                                       + ",".join(concordance.CSV_COLUMNS),
                        "content": {JSON: {"schema": _ref("Concordance")}, CSV: {"schema": _TEXT}}},
                "400": _error(f"no q, an unknown sort or format, or {bad}"),
                "503": unavailable,
            },
        }},
        "/api/export": {"get": {
            "operationId": "export",
            "summary": "Every matching paragraph in the search's order, as a CSV or JSON-lines attachment",
            "parameters": [
                q,
                _enum("format", EXPORT_FORMATS, "csv", "CSV (a column per metadata key, lists joined with ;) "
                                                       "or JSON lines (a metadata object)"),
                _enum("sort", SEARCH_SORTS, "relevance", "as for /api/search"),
            ],
            "responses": {
                "200": {"description": f"at most {MAX_ROWS:,} rows, then a note of how many there were "
                                       "(CSV: a last line `# truncated at …`); X-Total-Count is the number of "
                                       "matching paragraphs",
                        "headers": {"X-Total-Count": {"schema": {"type": "integer", "minimum": 0}}},
                        "content": {CSV: {"schema": _TEXT}, JSONL: {"schema": _TEXT}}},
                "400": _error(f"no q, an unknown format or sort, or {bad}"),
                "503": unavailable,
            },
        }},
    }
