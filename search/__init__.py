"""zhsearch: full-text search for Chinese articles (jieba + Whoosh + Falcon)."""

__version__ = "0.1.0"
