"""Reading the seeds folder and splitting articles into classified paragraphs.

A search hit is a paragraph, so this module turns every input article into a
tuple of :class:`Paragraph` objects, each an exact slice of the source text
with a ``kind`` (title, lead, heading, caption, body, byline).

Line-broken text keeps its lines as paragraphs. Run-on text (crawled news
that lost its line breaks) is reconstructed: sentences are found without ever
cutting inside a quotation or bracket, structural pieces (title, dateline,
captions, headings, byline) are recognised from generic news cues, and body
sentences are grouped into paragraphs the way news is written.
"""

from __future__ import annotations

import json
import math
import os
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "KINDS",
    "Article",
    "InputProblem",
    "Paragraph",
    "SeedsMissing",
    "read_articles",
    "split_text",
]

KINDS = ("title", "lead", "heading", "caption", "body", "byline")

#: Above this length a body paragraph must be cut (unless it is one sentence).
MAX_BODY = 300
#: A first line up to this long, without closing punctuation, is the title.
MAX_TITLE = 40
#: Headings are short phrases.
MAX_HEADING = 25
#: A bracket or quotation longer than this is not trusted to protect its
#: contents: an unbalanced mark must not swallow the rest of the article.
MAX_QUOTE = 500
#: A caption is one short stretch of text.
MAX_CAPTION = 120

ARTICLE_SUFFIXES = (".txt", ".md")
JSONL_SUFFIX = ".jsonl"


@dataclass(frozen=True)
class Paragraph:
    """One paragraph: 1-based position, kind (one of KINDS), exact source slice."""

    n: int
    kind: str
    text: str


@dataclass(frozen=True)
class Article:
    """One article as read from the seeds folder."""

    id: str
    title: str
    source: str
    paragraphs: tuple[Paragraph, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InputProblem:
    """Bad or ignored input, reported as ``path:line: reason``."""

    path: str
    line: int
    reason: str
    fatal: bool = True

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class SeedsMissing(Exception):
    """The seeds directory does not exist or is not a directory."""


# --------------------------------------------------------------------------
# Reading the seeds folder
# --------------------------------------------------------------------------


def read_articles(seeds_dir: Path, report: Callable[[InputProblem], None]) -> Iterator[Article]:
    """Every article under seeds_dir (recursive, sorted paths, deterministic), reporting bad input and skipping it."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        what = "is not a directory" if seeds_dir.exists() else "does not exist"
        raise SeedsMissing(f"seeds directory {str(seeds_dir)!r} {what}")
    seen: dict[str, str] = {}  # article id -> where it was first found
    for rel in _seed_files(seeds_dir):
        name = rel.as_posix()
        for article, line in _articles_in(seeds_dir / rel, name, report):
            first = seen.get(article.id)
            if first is not None:
                report(InputProblem(name, line, f"duplicate article id {article.id!r} (first in {first})"))
                continue
            seen[article.id] = article.source
            yield article


def _articles_in(path: Path, name: str, report: Callable[[InputProblem], None]) -> Iterator[tuple[Article, int]]:
    """The articles of one seed file with their line numbers, as the file is read."""
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES and suffix != JSONL_SUFFIX:
        report(InputProblem(name, 1, "ignored: not a .txt, .md or .jsonl file", fatal=False))
        return
    try:
        with open(path, "rb") as file:
            if suffix == JSONL_SUFFIX:
                yield from _read_jsonl(name, file, report)
            else:
                yield from _read_document(name, path.stem, file.read(), report, markdown=suffix == ".md")
    except OSError as exc:
        report(InputProblem(name, 1, f"cannot read file: {exc.strerror or exc}"))


def _seed_files(seeds_dir: Path) -> list[Path]:
    """Relative paths of all non-hidden files under seeds_dir, in sorted tree order."""
    found = []
    for root, dirs, files in os.walk(seeds_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        base = Path(root).relative_to(seeds_dir)
        found.extend(base / f for f in files if not f.startswith("."))
    return sorted(found, key=lambda p: p.parts)


def _decode(name: str, data: bytes, report: Callable[[InputProblem], None], first_line: int = 1) -> str | None:
    """UTF-8 text without BOM, or None after reporting the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        report(InputProblem(name, line, f"invalid UTF-8 (byte 0x{data[exc.start]:02x})"))
        return None


def _read_document(
    name: str, article_id: str, data: bytes, report: Callable[[InputProblem], None], markdown: bool
) -> list[tuple[Article, int]]:
    """The one article of a .txt/.md file (with its line number 1), or nothing after a report."""
    text = _decode(name, data, report)
    if text is None:
        return []
    if not text.strip():
        report(InputProblem(name, 1, "empty file"))
        return []
    paragraphs = tuple(split_text(text, markdown=markdown))
    return [(Article(article_id, _title_of(paragraphs), name, paragraphs), 1)]


def _read_jsonl(name: str, lines: Iterable[bytes], report: Callable[[InputProblem], None]) -> Iterator[tuple[Article, int]]:
    """The articles of a JSONL file, a line at a time, with their line numbers; bad lines are
    reported and skipped. Only one line is held in memory, however large the file."""
    empty = True
    for number, raw in enumerate(lines, start=1):
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue  # blank lines are allowed
        empty = False
        line = _decode(name, raw, report, first_line=number)
        if line is None:
            continue
        where = f"{name}:{number}"
        record, problem = _parse_record(line)
        if problem:
            report(InputProblem(name, number, problem))
            continue
        title = record["title"].strip()
        paragraphs = tuple(split_text(record["text"], title=title or None))
        metadata = {k: v for k, v in record.items() if k not in ("id", "title", "text")}
        yield Article(record["id"], _title_of(paragraphs), where, paragraphs, metadata), number
    if empty:
        report(InputProblem(name, 1, "empty file"))


def _parse_record(line: str) -> tuple[dict[str, Any], str]:
    """A JSONL record with a string title, or a reason why the line is malformed."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return {}, f"malformed JSON line: {exc}"
    if not isinstance(record, dict):
        return {}, f"malformed JSON line: expected an object, got {type(record).__name__}"
    for key in ("id", "text"):
        if not isinstance(record.get(key), str):
            return {}, f"malformed JSON line: missing or non-string {key!r}"
    title = record.setdefault("title", "")
    if not isinstance(title, str):
        return {}, "malformed JSON line: non-string 'title'"
    if not record["id"].strip():
        return {}, "malformed JSON line: empty 'id'"
    if not record["text"].strip():
        return {}, "malformed JSON line: empty 'text'"
    try:
        (record["id"] + title + record["text"]).encode("utf-8")
    except UnicodeEncodeError:
        return {}, "malformed JSON line: text is not valid Unicode (lone surrogate)"
    return record, ""


# A title paragraph may carry this prefix; Article.title drops it.
_TITLE_PREFIX = re.compile(r"^\s*原[标標][题題]\s*[：:]\s*")


def _title_of(paragraphs: tuple[Paragraph, ...]) -> str:
    """The article title: the first paragraph of kind title without a 原标题： prefix, or ""."""
    if paragraphs and paragraphs[0].kind == "title":
        return _TITLE_PREFIX.sub("", paragraphs[0].text).strip()
    return ""


# --------------------------------------------------------------------------
# Splitting text into paragraphs
# --------------------------------------------------------------------------

# Any line break; \r\n counts once.
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_MD_HEADING = re.compile(r"#{1,6}[ \t]+(?=\S)")
# Punctuation that closes a sentence or clause: a title or heading has none at its end.
_CLOSING_PUNCT = "。．.，,；;：:、"
# Punctuation that marks running text rather than a heading.
_SENTENCE_PUNCT = re.compile(r"[。！？!?，,；;：:]|\.(?!\d)")


def split_text(text: str, title: str | None = None, *, markdown: bool = False) -> list[Paragraph]:
    """Paragraphs of one article's text: line breaks are paragraph breaks; run-on text (no line breaks) is reconstructed.

    With ``title`` given it becomes paragraph 1 (kind title) and no title is
    looked for in the text. ``markdown`` makes ``#`` lines headings.
    """
    spans: list[tuple[int, int, str]] = []
    if title is not None and title.strip():
        spans_title = [Paragraph(1, "title", title.strip())]
    else:
        spans_title = []
    find_title = title is None
    if _LINE_BREAK.search(text.strip()):
        spans = _line_spans(text, find_title, markdown)
    else:
        spans = _runon_spans(text, 0, len(text), find_title=find_title)
    return spans_title + _paragraphs(text, spans, start=len(spans_title) + 1)


def _paragraphs(text: str, spans: list[tuple[int, int, str]], start: int = 1) -> list[Paragraph]:
    """Paragraph objects from (start, end, kind) spans: whitespace stripped, empty spans dropped."""
    result = []
    for lo, hi, kind in spans:
        piece = text[lo:hi].strip()
        if piece:
            result.append(Paragraph(start + len(result), kind, piece))
    return result


def _line_spans(text: str, find_title: bool, markdown: bool) -> list[tuple[int, int, str]]:
    """Spans of line-broken text: one per non-blank line, long lines reconstructed further."""
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for brk in [*_LINE_BREAK.finditer(text), None]:
        end = brk.start() if brk else len(text)
        lo, hi = _strip_span(text, pos, end)
        pos = brk.end() if brk else len(text)
        if lo == hi:
            continue
        first = not spans
        if markdown and (m := _MD_HEADING.match(text, lo)):
            spans.append((m.end(), hi, "title" if first and find_title else "heading"))
        elif first and find_title and _looks_like_title(text[lo:hi]):
            spans.append((lo, hi, "title"))
        elif hi - lo > MAX_BODY:
            spans.extend(_runon_spans(text, lo, hi, find_title=False, lead=first))
        else:
            spans.append((lo, hi, _line_kind(text[lo:hi], first=first)))
    return spans


def _strip_span(text: str, lo: int, hi: int) -> tuple[int, int]:
    """The span [lo, hi) narrowed to exclude surrounding whitespace."""
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return lo, hi


def _looks_like_title(line: str) -> bool:
    """A short line that does not end like a sentence or clause."""
    return len(line) <= MAX_TITLE and line[-1] not in _CLOSING_PUNCT and not _is_caption(line)


def _line_kind(line: str, first: bool = False) -> str:
    """Kind of one line of line-broken text: caption, byline, lead, heading or body."""
    if _is_caption(line):
        return "caption"
    if len(line) <= 60 and _BYLINE.match(line):
        return "byline"
    if _DATELINE_AT_START.match(line):
        return "lead"
    if not first and len(line) <= MAX_HEADING and not _SENTENCE_PUNCT.search(line):
        return "heading"
    return "body"


def _is_caption(line: str) -> bool:
    """A whole line that reads as an image caption."""
    if len(line) > MAX_CAPTION:
        return False
    return bool(
        _CAPTION_START.match(line)
        or _CAPTION_SOURCE.search(line)
        or ((m := _CAPTION_END.search(line)) and not line[m.end():].strip())
    )


# --------------------------------------------------------------------------
# Cues (generic news conventions, not tied to one source)
# --------------------------------------------------------------------------

# Simplified characters of the cue words below and their Traditional forms:
# cue patterns are written in Simplified and also match Traditional text.
_TRADITIONAL = dict(
    zip(
        "讯报图编辑来记摄电资责华闻网视觉频统计显发转导审实习员称说态据时间与后随对过门这该们还为当从会议针着标题读经现须区见闭兴达维录样专续层边单诉户开关给页终际国体",
        "訊報圖編輯來記攝電資責華聞網視覺頻統計顯發轉導審實習員稱說態據時間與後隨對過門這該們還為當從會議針著標題讀經現須區見閉興達維錄樣專續層邊單訴戶開關給頁終際國體",
        strict=True,
    )
)


def _cue(pattern: str, flags: int = re.VERBOSE) -> re.Pattern[str]:
    """Compile a cue pattern so that each Simplified character also matches its Traditional form."""
    out, in_class, escaped = [], False, False
    for ch in pattern:
        alt = _TRADITIONAL.get(ch)
        if escaped or alt is None:
            out.append(ch)
            in_class = (in_class or (ch == "[" and not escaped)) and not (ch == "]" and not escaped)
            escaped = ch == "\\" and not escaped
        else:
            out.append(ch + alt if in_class else f"[{ch}{alt}]")
    return re.compile("".join(out), flags)


# A dateline that opens the lead: （观察者网讯）, 新华社北京3月5日电（记者…）, 本报讯（…）,
# 央视网消息（新闻联播）：, 中新网3月5日电.
_DATELINE = _cue(
    r"""
    （[^（）。，]{1,20}讯）                        # （观察者网讯）
    | 本报讯 (?:（[^（）。]{0,30}）)?               # 本报讯（记者 …）
    | [^\s，。！？（）“”]{2,16}?[日社网]电 (?![话力器子脑视站影池梯商报])   # 新华社北京3月5日电, 中新网电
      (?:（[^（）。]{0,30}）)?                      #   （记者 张三）
    | [^\s，。！？（）“”]{2,10}?消息 (?:（[^（）。]{0,20}）)? [：:]   # 央视网消息（新闻联播）：
    """,
    re.VERBOSE,
)
_DATELINE_AT_START = re.compile(r"\s*(?:" + _DATELINE.pattern + r")", re.VERBOSE)  # already both scripts

# Closing credits: 责任编辑：王蒙, 来源：…, （记者 张三）, 【编辑：…】.
_BYLINE = _cue(
    r"""
    [【（(]? \s* (?:责任编辑|编辑|来源|作者|撰文|校对|审核|审校|监制|统筹|记者|通讯员|实习生|原文)
    \s* [：:|｜]
    | （\s*(?:记者|编辑|责编)[^（）]{1,30}）
    | [（(]完[）)]                                  # wire copy's end mark
    | (?:本报|新华社|央视|总台)?记者\s*[\u4e00-\u9fff·]{2,4}(?:\s+[\u4e00-\u9fff·]{2,4})*\s*$
    """,
    re.VERBOSE,
)

# Where a caption ends: 视频截图, 资料图, 受访者供图, 新华社记者 张三 摄. The
# lookaheads rule out body text such as 截图显示 or 摄影.
_CAPTION_END = _cue(
    r"""
    (?:截图|资料图片?) (?!显示|中|里|上|称|可见|来看|的|转发|发布|分享|保存|流传|[，、：:,])
    | 供图 (?![，、：:,的])
    | (?<=\s)摄 (?![影像入制取氏])                             # 张三 摄
    | 记者\s*[\u4e00-\u9fff·]{2,4}\s*摄 (?![影像入制取氏])      # 记者张三摄
    """,
    re.VERBOSE,
)
# A caption credit naming the picture's source; the name is taken up to a
# typical ending (…新闻, …网, …社) or to whitespace, since crawled text often
# glues the next sentence straight on.
_CAPTION_SOURCE = _cue(
    r"""
    [（(]?(?:图源|图片来源|图片源自|图片由|来源图片) \s*[：:]? \s*
    (?: [^\s，。；！？（）()]{0,15}?
          (?:新闻网|新闻|官网|网|通讯社|社|报|电视台|台|视觉中国|视觉|推特|社交媒体|媒体|视频|截图|图片|供图|Getty\sImages|IC\sphoto)
          (?=[^网社报台片图]|$)
      | [^\s，。；！？（）()]{1,15}(?=\s|$) )
    [）)]?
    """,
    re.VERBOSE,
)
# Text that continues a clause: a caption is never followed by punctuation.
_PUNCT_START = re.compile(r"[，。、；：！？,.;:!?）)”’」』》】]")
# A caption that announces itself at its start.
_CAPTION_START = _cue(r"\s*(?:图为|图片为|资料图[：:]|图[：:]|（图[^）]{0,3}）)")

# Opening words of a new sentence that are not part of a preceding heading:
# sources, times and dates, discourse connectives, a Latin name or a quotation.
_OPENER = _cue(
    r"""
    (?:另|又)?据(?=[^，。]{0,20}(?:报道|消息|介绍|了解|统计|悉|称|透露|显示|通报))
    | 当地时间 | 北京时间 | 与此同时 | 此前 | 此后 | 随后 | 对此 | 不过 | 然而 | 此外 | 另外
    | 近日 | 日前 | 今天 | 昨天 | 今年 | 去年 | 本周 | 上周
    | \d{1,4}年\d{1,2}月 | \d{1,2}月\d{1,2}日
    | [A-Z][a-z]+(?:\s[A-Z][a-z]+)*(?=[\s\u4e00-\u9fff（(，])   # Stephane Dujarric
    | “
    """,
    re.VERBOSE,
)

# --------------------------------------------------------------------------
# Protected spans: quotations and brackets are never cut
# --------------------------------------------------------------------------

_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "（": "）", "(": ")", "《": "》", "【": "】"}
_CLOSE_TO_OPEN = {v: k for k, v in _PAIRS.items()}


# Any quotation or bracket mark.
_MARKS = re.compile("[" + re.escape("".join(_PAIRS) + "".join(_CLOSE_TO_OPEN)) + '"]')


def _blocked(text: str, lo: int = 0, hi: int | None = None) -> bytearray:
    """blocked[p] is true when a cut before position p would fall inside a quotation or bracket.

    Indexed by positions of text (0 .. len(text)); only marks in [lo, hi) are
    considered. Marks are paired with a stack that discards mismatched marks,
    and a pair longer than MAX_QUOTE is not trusted, so one unbalanced mark
    cannot protect (swallow) the rest of the article.
    """
    hi = len(text) if hi is None else hi
    blocked = bytearray(len(text) + 1)
    stack: list[tuple[str, int]] = []
    straight: int | None = None  # position of an open ASCII double quote
    for m in _MARKS.finditer(text, lo, hi):
        ch, i = m.group(), m.start()
        if ch in _PAIRS:
            stack.append((ch, i))
        elif ch in _CLOSE_TO_OPEN:
            opener = _CLOSE_TO_OPEN[ch]
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == opener:
                    _protect(blocked, stack[k][1], i)
                    del stack[k:]
                    break
        elif straight is not None and i - straight <= MAX_QUOTE:
            _protect(blocked, straight, i)
            straight = None
        else:
            straight = i
    return blocked


def _protect(blocked: bytearray, opened: int, closed: int) -> None:
    """Block cuts at positions opened+1 .. closed (inside the pair) if the pair is short enough."""
    if closed - opened <= MAX_QUOTE:
        blocked[opened + 1: closed + 1] = b"\x01" * (closed - opened)


# --------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------

# A sentence end: CJK terminal punctuation, an ellipsis, or Latin !?. that is
# followed by space, CJK text or the end, then any closing quotes/brackets.
_SENTENCE_END = re.compile(
    r"""
    (?: [。！？]+ | …+ | \.{3,}
      | [!?]+(?=[\s\u3000-\u9fff“"]|$)
      | (?<![A-Z])\.(?=\s+[A-Z“"(（\u4e00-\u9fff]|[\u4e00-\u9fff“（]|$)   # not after an initial
    )
    [”’」』）)》】"']*
    """,
    re.VERBOSE,
)
# Latin abbreviations whose full stop does not end a sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|No|vs|Jr|Sr|Mt|Inc|Co|Ltd|Corp|etc|Prof|Gen|Sen|Rep|Gov)|[a-zA-Z]\.[a-zA-Z])$")
# After a closing quotation, a short attribution (“……。”他说。) continues the sentence.
_ATTRIBUTION = _cue(r"[^，。！？“”]{0,10}(?:说|表示|称|指出|强调|介绍|写道|问道|补充道)[。，！]")


def _sentences(text: str, lo: int, hi: int, blocked: bytearray) -> list[tuple[int, int]]:
    """Sentence spans covering [lo, hi), cut only at sentence ends outside quotations and brackets."""
    spans = []
    start = lo
    for m in _SENTENCE_END.finditer(text, lo, hi):
        cut = m.end()
        if blocked[cut] or cut >= hi or not text[start:cut].strip():
            continue
        if text[cut - 1] in "”」』" and _ATTRIBUTION.match(text, cut):
            continue
        if text[m.start()] == "." and _ABBREVIATION.search(text, max(lo, m.start() - 6), m.start()):
            continue
        spans.append((start, cut))
        start = cut
    if text[start:hi].strip() or not spans:
        spans.append((start, hi))
    else:
        spans[-1] = (spans[-1][0], hi)
    return spans


# --------------------------------------------------------------------------
# Run-on reconstruction
# --------------------------------------------------------------------------


def _runon_spans(
    text: str, lo: int, hi: int, *, find_title: bool, lead: bool = True
) -> list[tuple[int, int, str]]:
    """Classified spans covering text[lo:hi], which has no line breaks."""
    head, pieces, tail = _runon_pieces(text, lo, hi, find_title=find_title)
    return head + _group(text, pieces, lead=lead) + tail


def _runon_pieces(
    text: str, lo: int, hi: int, *, find_title: bool
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """Title span(s), classified sentence pieces (not yet grouped) and byline span(s) of text[lo:hi]."""
    lo, hi = _strip_span(text, lo, hi)
    if lo == hi:
        return [], [], []
    head: list[tuple[int, int, str]] = []
    if find_title and hi - lo <= MAX_TITLE and _looks_like_title(text[lo:hi]):
        return [(lo, hi, "title")], [], []
    if find_title:
        title_end = _title_end(text, lo, hi)
        if title_end:
            head.append((lo, title_end, "title"))
            lo = title_end
    blocked = _blocked(text, lo, hi)
    byline_start = _byline_start(text, lo, hi, blocked)
    pieces = _structure(text, lo, byline_start, blocked)
    tail = [(byline_start, hi, "byline")] if byline_start < hi else []
    return head, pieces, tail


def _title_end(text: str, lo: int, hi: int) -> int:
    """End of a title at the start of run-on text, or 0 when there is none.

    A ``原标题：`` prefix announces a title that runs to the dateline (or to the
    first whitespace, or the first sentence end). Without the prefix, a short
    phrase glued before a dateline is a title too.
    """
    prefix = _TITLE_PREFIX.match(text, lo, hi)
    start = prefix.end() if prefix else lo
    window = text[start: min(hi, start + 2 * MAX_TITLE)]
    dateline = _DATELINE.search(window)
    if dateline and dateline.start() > 0:
        head = window[: dateline.start()]
        if prefix or (len(head) <= MAX_TITLE and not _SENTENCE_PUNCT.search(head)):
            return start + dateline.start()
    if not prefix:
        return 0
    if (gap := re.search(r"\s", window)) and gap.start() > 0:
        return start + gap.start()
    if (end := _SENTENCE_END.search(text, start, hi)) and end.end() < hi:
        return end.end()
    return hi if len(text[start:hi]) <= MAX_TITLE else 0


def _byline_start(text: str, lo: int, hi: int, blocked: bytearray) -> int:
    """Start of the closing byline (责任编辑：…) after the last sentence, or hi when there is none."""
    tail_start = max(lo, hi - 80)
    last_end = lo
    for m in _SENTENCE_END.finditer(text, tail_start, hi):
        if not blocked[m.end()] and m.end() < hi:
            last_end = m.end()
    for m in _BYLINE.finditer(text, max(last_end, tail_start), hi):
        if m.start() > lo and hi - m.start() <= 60 and not blocked[m.start()]:
            return m.start()
    return hi


def _structure(text: str, lo: int, hi: int, blocked: bytearray) -> list[tuple[int, int, str]]:
    """Sentences of [lo, hi) with captions and headings split off and labelled; the rest is body."""
    pieces: list[tuple[int, int, str]] = []
    for s, e in _sentences(text, lo, hi, blocked):
        if s == lo and (dateline := _DATELINE_AT_START.match(text, s, e)) and text[dateline.end() - 1] in "：:":
            head = _glued_heading_end(text, dateline.end(), e, blocked, after_dateline=True)
            if head:  # a roundup: the dateline stands alone before the first headline
                pieces += [(s, dateline.end(), "lead"), (dateline.end(), head, "heading")]
                s = head
        if _CAPTION_START.match(text, s) and e - s <= MAX_CAPTION:
            pieces.append((s, e, "caption"))
            continue
        while True:
            cap = _caption_end(text, s, e, blocked)
            if cap is None:
                break
            pieces.append((s, cap, "caption"))
            s = cap
            head = _heading_end(text, s, e, blocked)
            if head:
                pieces.append((s, head, "heading"))
                s = head
        head = _glued_heading_end(text, s, e, blocked)
        if head:
            pieces.append((s, head, "heading"))
            s = head
        if text[s:e].strip():
            pieces.append((s, e, "body"))
    return pieces


# Stops the first clause of a sentence.
_CLAUSE_END = re.compile(r"[，。；！？：、,;!?:]")
#: A headline glued before a sentence is at least this long and at most MAX_GLUED.
MIN_GLUED = 5
MAX_GLUED = 40
# A time adverbial fronted with its comma, which only opens a sentence:
# 3月5日，/ 今天（3月5日）上午，/ 当地时间5日，/ 近日，
_FRONTED_TIME = _cue(
    r"""
    (?:[^，。\s]{0,6}?当地时间[^，。“”]{0,12} | 北京时间[^，。“”]{0,12}
      | (?:\d{4}年)?\d{1,2}月\d{1,2}日(?:[至到—-]\d{1,2}日)? | \d{1,2}日
      | 今天|昨天|今晚|昨晚|今早|近日|日前|当天|当日|连日来|近年来|近期|今年以来|目前)
    (?:（[^（）]{1,12}）)? (?:上午|下午|晚上|晚间|凌晨|早上|中午|白天|傍晚|夜间)? [，,]
    """
)
# Other openers that start a new sentence: a source, a reporter, a reference date.
_SOURCE_OPENER = _cue(
    r"""
    (?:另|又)?据(?=[^，。“”]{1,20}(?:报道|消息|介绍|了解|统计|悉|称|透露|显示|通报))
    | 记者(?=(?:今天|昨天|近日|日前|\d{1,2}月|\d{1,2}日|从|在|获悉|了解|注意到|看到))
    | 截至 | 截止到 | 根据 | 今年以来 | 近年来 | 连日来
    | 由[^，。“”]{2,30}?(?:主办|举办|承办|联合|共同|发起|组织|研制|打造)
    | 从(?:今天|明天|\d{1,2}月\d{1,2}日)
    """
)
# A time word after a sentence's subject: 文化和旅游部今天（3月26日）公布…
_TIME_WORD = _cue(r"今天|昨天|今晚|昨晚|近日|日前|当天|\d{1,2}日|当地时间|北京时间")
# A verb of speaking or reporting after a sentence's subject.
_SPEECH = _cue(r"(?:表示|指出|称|说|宣布|发布|强调|认为|介绍|透露|回应|显示|通报|报道)")
# How headlines end: an event verb or an outcome, or a figure with its unit.
_HEADLINE_END = _cue(
    r"""
    (?:启动|开幕|闭幕|举行|举办|召开|发布|公布|揭晓|印发|出台|施行|实施|上线|开通|通车|开播|播出|开工|完工|竣工|投产|投运
      |建成|完成|成立|揭牌|签署|签约|通过|落幕|收官|起航|启航|开行|贯通|合龙|交付|亮相|开展|展开|推进|举措|措施|方案|行动|活动
      |死亡|受伤|遇难|失踪|伤亡|袭击|遇袭|遭袭|冲突|罢工|抗议|游行|停火|撤离|制裁|会谈|会见|会晤|通话|致电|回应|谴责|访华|专访
      |增长|下降|回升|回落|上涨|下跌|新高|新低|突破|超过|达到|增加|减少|稳定|向好|平稳|成效|进展|态势|局势|危机|合作|发展|建设|工作
      |\d[%％]|\d(?:多|余)?(?:亿元|万元|亿美元|万人|人次|万吨|亿吨|万辆|亿件|万户|千瓦|公里|个|家|项|人|伤|死|亡|列|架|艘|次|亿|万))
    $
    """
)
# Where a glued headline may end: before an opener (any position where one
# matches) or after a headline ending (the group's end).
_OPENER_AT = re.compile(
    r"(?=" + _FRONTED_TIME.pattern.replace(r"[^，。\s]{0,6}?", "", 1) + "|" + _SOURCE_OPENER.pattern + ")", re.VERBOSE
)
_LOCAL_TIME = _cue("当地时间")
_SPACE = re.compile(r"\s")
_ENDED_AT = re.compile(r"(?=(" + _HEADLINE_END.pattern.replace("$", "") + "))", re.VERBOSE)
# Characters that leave a phrase unfinished: a preposition, conjunction or particle.
_UNFINISHED = set("的在从对向与和并将把被为是由据给于至到跟同让令而或且也都又还再就才已曾")


def _clause_stop(text: str, lo: int, hi: int, blocked: bytearray) -> int:
    """End of the first clause of the sentence at lo: the first clause punctuation outside quotations, or hi."""
    for m in _CLAUSE_END.finditer(text, lo, hi):
        if not blocked[m.start()]:
            return m.start()
    return hi


# Characters that never open a sentence (they continue a word or a figure).
_NOT_FIRST = set("的了着过地得们之其所亦式性者率等")
_UNIT_CHARS = set("亿万千百元人次个项吨件辆户架艘列多余%％年月日号时分秒亩米克斤台座所只条")


def _glued_candidates(text: str, lo: int, hi: int, blocked: bytearray, after_dateline: bool = False) -> list[tuple[int, dict[str, float]]]:
    """Positions where a headline glued before the sentence at lo could end, each with its features.

    The sentence's first clause must be long (a headline and the real first
    clause run together); a candidate p leaves a phrase of MIN_GLUED ..
    MAX_GLUED characters before it, and the first clause may carry a short
    ``X人士：`` prefix. Only positions where some cue fires are returned.
    """
    lo, _ = _strip_span(text, lo, hi)
    if hi - lo < 2 * MIN_GLUED:
        return []
    stop = _clause_stop(text, lo, hi, blocked)
    colon = 0
    if stop < hi and text[stop] in "：:" and stop - lo <= 8:  # 美国人士：headline
        colon = stop + 1
        stop = _clause_stop(text, colon, hi, blocked)
    if stop - lo < 16 or _DATELINE_AT_START.match(text, lo, hi):
        return []  # a short first clause; or a dateline opening the lead: 新华社北京3月6日电（记者…）记者6日从…
    first, last = max(lo + MIN_GLUED, colon + 2), min(stop - 2, lo + MAX_GLUED)
    if first > last:
        return []
    # Cheap cues first: only positions where one fires are looked at.
    cued = {m.start() for m in _OPENER_AT.finditer(text, first, min(hi, last + 42)) if m.start() <= last}
    for m in _LOCAL_TIME.finditer(text, first, last + 1):  # 美国当地时间…，: the place opens the sentence too
        cued.update(range(max(first, m.start() - 6), m.start()))
    cued.update(m.end(1) for m in _ENDED_AT.finditer(text, max(lo, first - 8), last))
    for k in range(lo, lo + 4):  # the headline's opening words said again: 德国将…下调至0.2%德国经济部…
        p = text.find(text[k:k + 2], first, last + 2)
        if p >= 0:
            cued.add(p)
    if colon and (p := text.find(text[lo:lo + 2], colon, last + 2)) >= 0:
        cued.add(p)
    if not cued:
        return []
    spaced = _SPACE.search(text, lo, min(stop, lo + MAX_GLUED)) is not None
    out = []
    for p in sorted(cued):
        if not first <= p <= last:
            continue
        prev, ch = text[p - 1], text[p]
        if blocked[p] or prev in _UNFINISHED or ch in _NOT_FIRST or prev in "“「《（(—-·" or ch.isspace():
            continue
        if (prev.isdigit() or prev in "亿万千百十") and (ch.isdigit() or ch in _UNIT_CHARS):
            continue
        if ch.isdigit() and prev in "年月日时点" and text[p - 2].isdigit():  # 3月|5日: one date
            continue
        f: dict[str, float] = {}
        if _FRONTED_TIME.match(text, p):
            f["g_fronted"] = 1.0
        elif m := _SOURCE_OPENER.match(text, p):
            f["g_reporter" if m.group().startswith(("记", "記")) else "g_source"] = 1.0
        if _HEADLINE_END.search(text, max(lo, p - 8), p):
            f["g_ended"] = 1.0
        if text[p:p + 4] in text[lo:p]:
            f["g_repeat4"] = 1.0
        elif text[p:p + 2] in text[lo:p]:
            f["g_repeat2"] = 1.0
        if not f:  # nothing but a subject before a time word: 国家统计局今天（…）发布
            continue
        q = _TIME_WORD.search(text, p, min(stop, p + 24))
        if q:
            f["g_time_at" if q.start() == p else "g_time_near" if q.start() - p <= 14 else "g_time_far"] = 1.0
            if text.startswith("（", q.end()) or text.startswith("(", q.end()):
                f["g_time_date"] = 1.0
        if _SPEECH.search(text, p + 2, min(stop, p + 16)):
            f["g_speech"] = 1.0
        if _TIME_WORD.search(text, lo + 2, p):
            f["g_head_time"] = 1.0
        if spaced:
            f["g_spaced"] = 1.0
        if colon:
            f["g_colon"] = 1.0
            if colon - lo >= 3 and text.startswith(text[lo:colon - 1], p):  # 美国人士：…美国人士指出
                f["g_colon_repeat"] = 1.0
        if after_dateline:
            f["g_dateline"] = 1.0
        f["g_len"] = min(p - lo, MAX_GLUED) / 10
        if p - lo <= 8:
            f["g_short"] = 1.0
        f["g_rest"] = min(stop - p, 60) / 20
        out.append((p, f))
    return out


def _glued_heading_end(text: str, lo: int, hi: int, blocked: bytearray, after_dateline: bool = False) -> int | None:
    """End of a headline glued, without punctuation, before the sentence at lo, or None.

    Roundups and sub-headlines lose the break between a headline and the
    sentence after it: ``美国纽约发生列车脱轨事故一列载有…列车3日在…``. The
    first clause is then a short unpunctuated phrase (the headline, possibly
    with a ``X人士：`` prefix) followed by what only opens a sentence: a
    fronted time with its comma, a source or reporter, or a subject and a time
    or speech verb right after a headline-like ending or a repetition of the
    headline's words. A sentence's own subject (``联合国秘书长今天表示，``) is
    not a headline: it has no headline ending and repeats nothing. Candidates
    are scored with _GLUED_WEIGHTS; the best one above zero is the cut.
    """
    best, best_p = 0.0, None
    for p, f in _glued_candidates(text, lo, hi, blocked, after_dateline):
        score = _GLUED_WEIGHTS["g_bias"] + sum(_GLUED_WEIGHTS.get(k, 0.0) * v for k, v in f.items())
        if score > best:
            best, best_p = score, p
    return best_p


def _caption_end(text: str, lo: int, hi: int, blocked: bytearray) -> int | None:
    """End of a caption that opens the sentence [lo, hi), or None."""
    ends = sorted(m.end() for r in (_CAPTION_END, _CAPTION_SOURCE) for m in r.finditer(text, lo, hi))
    for end in ends:
        rest = text[end:hi].strip()
        if end - lo > MAX_CAPTION or blocked[end] or not text[lo:end].strip():
            continue
        if not rest or not _PUNCT_START.match(rest):
            return end
    return None


def _heading_end(text: str, lo: int, hi: int, blocked: bytearray) -> int | None:
    """End of a short unpunctuated heading glued before the next sentence at lo, or None."""
    lo, _ = _strip_span(text, lo, hi)
    limit = min(hi, lo + MAX_HEADING + 1)
    stop = _SENTENCE_PUNCT.search(text, lo, limit)
    limit = stop.start() if stop else limit
    if text[lo] in "“「":  # a quotation as the heading: “……”
        close = text.find({"“": "”", "「": "」"}[text[lo]], lo + 1, limit + 1)
        if close > lo and close + 1 < hi:
            return close + 1
    gap = re.compile(r"\s").search(text, lo, limit)
    if gap and gap.start() - lo >= 2 and not blocked[gap.start()]:
        return gap.start()
    for m in _OPENER.finditer(text, lo + 2, limit):
        if m.start() - lo >= 4 and not blocked[m.start()]:
            return m.start()
    return None


# --------------------------------------------------------------------------
# Grouping body sentences into paragraphs
# --------------------------------------------------------------------------
#
# Each gap between two body sentences gets a score, the log-odds that an
# editor started a new paragraph there, from generic features of the two
# sentences (cues at the start of the next one, how the previous one ends,
# their lengths and their lexical overlap). A dynamic programme then chooses
# the cuts that maximise the sum of the scores of the cuts made plus a prior
# on each paragraph's length (news paragraphs are rarely one short sentence
# or very long), subject to the hard MAX_BODY limit. Weights and priors are
# constants fitted by bench/fit_paragraph_model.py (see the note at _WEIGHTS).

# Cue groups at the start of the next sentence, looked up by its first two,
# then first one character(s). Generic news and discourse words only.
_FIRST_WORD_GROUPS = {
    "pron3": "他 她 它 他们 她们 它们 其 该 此 这 这些 这个 这是 这一 这种 这样 那 那些 此次 本次",
    "pron1": "我 我们 你 你们 大家 咱们 我国",
    "modal": "要 希望 相信 欢迎 愿 应 应该 应当 必须 需要 期待 呼吁 建议",
    "contrast": "但 但是 而 然而 不过 可是 却 虽然 尽管",
    "additive": "并 也 还 又 同时 此外 另外 而且 并且 以及 甚至 更 再 同样",
    "causal": "因此 所以 为此 对此 因为 由于 从而 于是 可见 总之 如果 只有",
    "party": "双方 各方 中方 美方 俄方 日方 韩方 欧方 英方 法方 德方 乌方 朝方 印方 外方 我方 对方 两国",
    "quantity": "其中 截至 目前 一些 许多 不少 很多 其他 其余 各 部分 大部 多数 所有",
    "time": "近日 日前 今天 昨天 今年 去年 本周 上周 当天 当日 此前 此后 随后 与此 明天 上午 下午 晚上 今晨 近年 近期 未来",
    "event": "会上 会议 会谈 会见 会后 针对 随着 为了 围绕 记者 据悉 另据 据了 据介 据统 据报",
    "enum": "一是 二是 三是 四是 五是 第一 第二 第三 第四 首先 其次 最后 一方 另一",
    "prep": "在 从 对 为 通过 作为 根据 按照 经过 自 以 与 由 就",
    "area": "全国 各地 多地 当地 全球 世界 国际",
}
_FIRST_WORD = {w: g for g, words in _FIRST_WORD_GROUPS.items() for w in words.split()}
# Only the group has a weight: per-word weights fitted to one corpus (an
# earlier model had one per word) learnt its habits, e.g. 会上 against a break.
for _w in list(_FIRST_WORD):
    _FIRST_WORD.setdefault("".join(_TRADITIONAL.get(c, c) for c in _w), _FIRST_WORD[_w])
# A date or time, or a source, at the start of a sentence.
_DATE_START = _cue(r"当地时间|北京时间|\d{1,4}年|\d{1,2}月\d{1,2}日|\d{1,2}日[，,（(]")
_SOURCE_START = _cue(r"(?:另|又)?据[^，。]{0,20}(?:报道|消息|介绍|了解|统计|悉|称|透露|显示|通报)")
# A first clause that sets the scene: 在…，
_PLACE_START = re.compile(r"在[^，。；：“”]{1,15}[，,]")
# A first clause naming who speaks: 联合国发言人表示，
_SPEAKER = _cue(r"[^，。：“”]{2,20}?(?:表示|称|说|指出|强调|认为|介绍|透露|回应|宣布)[，：:]")
# A previous sentence that ends on an attribution: ……，他说。
_SAID_END = _cue(r"(?:说|表示|指出|强调|称|介绍)[。！]?[”」]?$")



def _bigrams(text: str, lo: int, hi: int) -> frozenset[str]:
    """Character bigrams of text[lo:hi]."""
    return frozenset(text[i:i + 2] for i in range(lo, hi - 1))


# Bin edges of the non-linear features: sentence length (characters), the
# length of the whole run of body text, the first clause's length, and the
# overlap and novelty ratios below.
_SENTENCE_BINS = (30, 60, 100, 160)
_RUN_BINS = (300, 600, 1000, 1600)
_CLAUSE_BINS = (4, 8, 14, 24)
_OVERLAP_BINS = (0.02, 0.05, 0.1, 0.2)
_NOVEL_BINS = (0.5, 0.7, 0.85, 0.95)


def _gap_features(
    text: str,
    run: list[tuple[int, int]],
    i: int,
    bigrams: list[frozenset[str]],
    lead: bool,
    seen: frozenset[str] | set[str] | None = None,
) -> dict[str, float]:
    """Features of the gap before sentence run[i] (i >= 1) of a run of body sentences.

    ``seen`` is the union of bigrams[:i] (computed when not given): the words
    the run has used so far, against which the next sentence's novelty is
    measured.
    """
    lo, hi = run[i]
    plo, phi = run[i - 1]
    while lo < hi and text[lo].isspace():
        lo += 1
    f: dict[str, float] = {"bias": 1.0}
    date = _DATE_START.match(text, lo, hi)
    word = text[lo:lo + 2] if text[lo:lo + 2] in _FIRST_WORD else text[lo:lo + 1]
    group = None if date else _FIRST_WORD.get(word)  # 当地时间 is a time, not 当地 (a place)
    if group:
        f["w_" + group] = 1.0
    first = text[lo:lo + 1]
    if date:
        f["date"] = 1.0
    elif first.isdigit():
        f["digit"] = 1.0
    if first in "“「":
        f["quote_open"] = 1.0
    elif first in "《":
        f["book_open"] = 1.0
    elif first.isascii() and first.isalpha():
        f["latin"] = 1.0
    if _SOURCE_START.match(text, lo, hi):
        f["source"] = 1.0
    if _PLACE_START.match(text, lo, hi):
        f["place"] = 1.0
    if group is None and _SPEAKER.match(text, lo, hi):
        f["speaker"] = 1.0
    if (t := _TIME_WORD.search(text, lo + 1, min(hi, lo + 14))) and not _CLAUSE_END.search(text, lo, t.start()):
        f["subject_time"] = 1.0  # 国家统计局今天发布…: a new actor and time
    last = text[phi - 1]
    if last in "”」』":
        f["prev_quote_end"] = 1.0
    if "？" in text[phi - 2:phi] or "！" in text[phi - 2:phi]:
        f["prev_exclaim"] = 1.0
    if "：" in text[plo:phi]:
        f["prev_colon"] = 1.0
    if _SAID_END.search(text, max(plo, phi - 6), phi):
        f["prev_said"] = 1.0
    f["next_len"] = min(hi - lo, 300) / 100
    f["prev_len"] = min(phi - plo, 300) / 100
    a, b = bigrams[i - 1], bigrams[i]
    f["overlap"] = overlap = len(a & b) / (len(a | b) or 1)
    if i >= 2:
        c = bigrams[i - 2]
        f["overlap2"] = len(c & b) / (len(c | b) or 1)
    if lead and i == 1:
        f["after_lead"] = 1.0
    # How long the run of body text is, and how long the sentences around the
    # gap are in it. (The gap's position in the run is left out on purpose: it
    # fits one outlet's layout, e.g. a one-sentence anchor lead, and gained
    # little while it lost on stories written in other styles.)
    run_len = run[-1][1] - run[0][0]
    f["run_len"] = min(run_len, 3000) / 1000
    rb = bisect_right(_RUN_BINS, run_len)
    pb = bisect_right(_SENTENCE_BINS, phi - plo)
    nb = bisect_right(_SENTENCE_BINS, hi - lo)
    f[f"run_bin{rb}"] = 1.0
    f[f"run{rb}_prev{pb}"] = 1.0
    f[f"run{rb}_next{nb}"] = 1.0
    f[f"prev{pb}_next{nb}"] = 1.0
    if "speaker" in f:
        f[f"speaker_run{rb}"] = 1.0
    # How the next sentence opens: a short fronted phrase (会上，) or a long subject.
    clause = _CLAUSE_END.search(text, lo, hi)
    clause_len = (clause.start() if clause else hi) - lo
    f["clause_len"] = min(clause_len, 40) / 20
    f[f"clause_bin{bisect_right(_CLAUSE_BINS, clause_len)}"] = 1.0
    f[f"overlap_bin{bisect_right(_OVERLAP_BINS, overlap)}"] = 1.0
    # New words: the share of the next sentence's bigrams (and of its opening's)
    # not used so far in the run. Binned only: a paragraph often opens by
    # naming its topic in full again, so the effect is not monotone.
    if seen is None:
        seen = frozenset().union(*bigrams[:i])
    novel = len(b - seen) / (len(b) or 1)
    f[f"novel_bin{bisect_right(_NOVEL_BINS, novel)}"] = 1.0
    opening = _bigrams(text, lo, min(hi, lo + 10))
    f[f"novel_opening_bin{bisect_right(_NOVEL_BINS, len(opening - seen) / (len(opening) or 1))}"] = 1.0
    return f


def _gap_scores(text: str, run: list[tuple[int, int]], lead: bool) -> list[float]:
    """Score (log-odds of a paragraph break) of the gap before each sentence run[1:]."""
    bigrams = [_bigrams(text, lo, hi) for lo, hi in run]
    weights = _WEIGHTS
    scores = []
    seen = set(bigrams[0])
    for i in range(1, len(run)):
        f = _gap_features(text, run, i, bigrams, lead, seen)
        scores.append(sum(weights.get(k, 0.0) * v for k, v in f.items()))
        seen |= bigrams[i]
    return scores


def _length_prior(chars: int, sentences: int) -> float:
    """Prior score of one paragraph of this many characters and sentences."""
    for limit, value in _CHARS_PRIOR:
        if chars < limit:
            break
    return value + _SENTENCES_PRIOR[min(sentences, len(_SENTENCES_PRIOR)) - 1]


def _segment(text: str, run: list[tuple[int, int]], lead: bool, scores: list[float] | None = None) -> list[int]:
    """Indices of the sentences of run that open a paragraph (always 0).

    The gap scores and the length prior of every paragraph define a
    distribution over the run's segmentations (no paragraph of two or more
    sentences over MAX_BODY); each gap's marginal probability of a break is
    computed by forward-backward, and the cuts are the segmentation that
    maximises the summed marginal log-odds less a threshold that depends on
    the run's length (a short story has few paragraphs). Cutting on marginals
    rather than on the single best segmentation suits boundary F1 better.
    """
    n = len(run)
    if n == 1:
        return [0]
    if scores is None:
        scores = _gap_scores(text, run, lead)
    sizes = [hi - lo for lo, hi in run]
    threshold = _CUT_THRESHOLDS[bisect_right(_THRESHOLD_BINS, run[-1][1] - run[0][0])]
    return _best_cuts(sizes, [x - threshold for x in _break_log_odds(sizes, scores)], prior=False)


def _segments(sizes: list[int]) -> Iterator[tuple[int, int, int]]:
    """(start, end, characters) of every allowed paragraph [start, end) of sentences, by end, then start descending."""
    for end in range(1, len(sizes) + 1):
        chars = 0
        for start in range(end - 1, -1, -1):
            chars += sizes[start]
            if chars > MAX_BODY and start < end - 1:
                break
            yield start, end, chars


def _logaddexp(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    return a if b == float("-inf") else a + math.log1p(math.exp(b - a))


def _break_log_odds(sizes: list[int], scores: list[float]) -> list[float]:
    """Log-odds (clamped to about ±20) that a paragraph opens at sentence 1, 2, …, by forward-backward
    over the segmentations scored by the gap scores and the length prior."""
    n = len(sizes)
    segments = [(s, e, _length_prior(c, e - s) + (scores[s - 1] if s else 0.0)) for s, e, c in _segments(sizes)]
    forward = [0.0] + [float("-inf")] * n
    for s, e, v in segments:
        forward[e] = _logaddexp(forward[e], forward[s] + v)
    backward = [float("-inf")] * n + [0.0]
    for s, e, v in reversed(segments):  # by end descending: backward[e] is complete when used
        backward[s] = _logaddexp(backward[s], v + backward[e])
    total = forward[n]
    out = []
    for j in range(1, n):
        p = math.exp(min(0.0, forward[j] + backward[j] - total))
        out.append(math.log(max(p, 1e-9) / max(1.0 - p, 1e-9)))
    return out


def _best_cuts(sizes: list[int], gains: list[float], prior: bool) -> list[int]:
    """Paragraph starts (0 first) maximising the gains of the cuts made (plus, with prior, the length
    prior of every paragraph), by dynamic programming; no paragraph of two or more sentences exceeds MAX_BODY."""
    n = len(sizes)
    best = [0.0] + [float("-inf")] * n
    back = [0] * (n + 1)
    for start, end, chars in _segments(sizes):
        value = best[start] + (gains[start - 1] if start else 0.0)
        if prior:
            value += _length_prior(chars, end - start)
        if value > best[end]:
            best[end], back[end] = value, start
    starts = []
    end = n
    while end > 0:
        end = back[end]
        starts.append(end)
    return starts[::-1]


def _group(text: str, pieces: list[tuple[int, int, str]], lead: bool = True) -> list[tuple[int, int, str]]:
    """Merge runs of consecutive body sentences (after a lead or body piece) into paragraphs; other pieces stay."""
    spans: list[tuple[int, int, str]] = []
    for kind, run, first in _runs(pieces):
        if kind not in ("body", "lead"):
            spans.append((*run[0], kind))
            continue
        is_lead = first and (kind == "lead" or bool(_DATELINE_AT_START.match(text, run[0][0])))
        starts = _segment(text, run, is_lead)
        for k, s in enumerate(starts):
            e = starts[k + 1] if k + 1 < len(starts) else len(run)
            spans.append((run[s][0], run[e - 1][1], kind if k == 0 else "body"))
    if lead:
        first = next((i for i, s in enumerate(spans) if s[2] not in ("title", "caption")), None)
        if first is not None and spans[first][2] == "body" and _DATELINE_AT_START.match(text, spans[first][0]):
            spans[first] = (*spans[first][:2], "lead")
    return spans


def _runs(pieces: list[tuple[int, int, str]]) -> Iterator[tuple[str, list[tuple[int, int]], bool]]:
    """(kind, sentence spans, opens the text) per run: a lead or body piece with the body pieces after it, or one other piece."""
    run: list[tuple[int, int]] = []
    kind, first = "", False
    for n, (lo, hi, k) in enumerate(pieces):
        if k == "body" and run:
            run.append((lo, hi))
            continue
        if run:
            yield kind, run, first
            run = []
        if k in ("body", "lead"):
            run, kind, first = [(lo, hi)], k, n == 0
        else:
            yield k, [(lo, hi)], n == 0
    if run:
        yield kind, run, first


# Fitted by bench/fit_paragraph_model.py (l2 1e-4) on the first (tuning) half
# of a news transcript corpus only (9,770 stories, 79,760 gaps between body
# sentences, 22,883 glued-heading candidates): _GLUED_WEIGHTS by
# L2-regularised logistic regression over _glued_candidates' features (plus an
# offset of 0.5 to the bias), then _WEIGHTS likewise over _gap_features, the
# source and date cues floored at 0.5 (the script's CUE_FLOOR), and an offset
# folded into "bias" by coordinate ascent on boundary F1 of the same half. The
# length priors are kept fixed (re-tuning them gained < 0.002 F1 but favoured
# long paragraphs so much that time and source openers stopped opening one).
# Features are generic cue groups (no weight per word), binned lengths (of the
# sentences and of the run) and their pairs, the first clause's length,
# overlap with the sentences before and the share of new words, so the
# weights carry no names or topics. bench/paragraph_f1.py reports the
# held-out half.
_WEIGHTS: dict[str, float] = {
    "bias": -1.591,
    "after_lead": 0.363,
    "book_open": 0.328,
    "clause_bin0": 0.598,
    "clause_bin1": 0.552,
    "clause_bin2": -0.155,
    "clause_bin3": -0.65,
    "clause_bin4": -0.345,
    "clause_len": 1.009,
    "date": 0.5,
    "digit": 0.144,
    "latin": -0.099,
    "next_len": 0.388,
    "novel_bin0": 0.431,
    "novel_bin1": 0.201,
    "novel_bin2": -0.005,
    "novel_bin3": -0.247,
    "novel_bin4": -0.38,
    "novel_opening_bin0": 0.196,
    "novel_opening_bin1": 0.037,
    "novel_opening_bin2": 0.001,
    "novel_opening_bin3": -0.179,
    "novel_opening_bin4": -0.056,
    "overlap": -1.805,
    "overlap2": 1.133,
    "overlap_bin0": 0.664,
    "overlap_bin1": 0.051,
    "overlap_bin2": -0.198,
    "overlap_bin3": -0.338,
    "overlap_bin4": -0.179,
    "place": -0.291,
    "prev0_next0": 0.312,
    "prev0_next1": -0.17,
    "prev0_next2": -0.076,
    "prev0_next3": -0.095,
    "prev0_next4": -0.046,
    "prev1_next0": 0.251,
    "prev1_next1": -0.047,
    "prev1_next2": 0.022,
    "prev1_next3": 0.03,
    "prev1_next4": 0.113,
    "prev2_next0": 0.17,
    "prev2_next1": -0.024,
    "prev2_next2": 0.114,
    "prev2_next3": 0.191,
    "prev2_next4": 0.135,
    "prev3_next0": -0.018,
    "prev3_next1": -0.139,
    "prev3_next2": 0.082,
    "prev3_next3": 0.375,
    "prev3_next4": -0.249,
    "prev4_next0": -0.367,
    "prev4_next1": -0.191,
    "prev4_next2": -0.05,
    "prev4_next3": -0.256,
    "prev4_next4": -0.068,
    "prev_colon": 0.052,
    "prev_exclaim": -0.631,
    "prev_len": 1.346,
    "prev_quote_end": -0.201,
    "prev_said": -0.629,
    "quote_open": 0.092,
    "run0_next0": -0.699,
    "run0_next1": -0.28,
    "run0_next2": 0.322,
    "run0_next3": 0.432,
    "run0_next4": 0.148,
    "run0_prev0": 0.528,
    "run0_prev1": 0.084,
    "run0_prev2": -0.225,
    "run0_prev3": -0.27,
    "run0_prev4": -0.194,
    "run1_next0": -0.246,
    "run1_next1": -0.14,
    "run1_next2": 0.367,
    "run1_next3": 0.429,
    "run1_next4": -0.214,
    "run1_prev0": -0.139,
    "run1_prev1": 0.179,
    "run1_prev2": 0.243,
    "run1_prev3": 0.227,
    "run1_prev4": -0.315,
    "run2_next0": 0.205,
    "run2_next1": -0.099,
    "run2_next2": -0.096,
    "run2_next3": -0.195,
    "run2_next4": 0.326,
    "run2_prev0": -0.21,
    "run2_prev1": -0.056,
    "run2_prev2": 0.177,
    "run2_prev3": 0.17,
    "run2_prev4": 0.06,
    "run3_next0": 0.511,
    "run3_next1": -0.018,
    "run3_next2": -0.22,
    "run3_next3": -0.077,
    "run3_next4": -0.21,
    "run3_prev0": -0.272,
    "run3_prev1": 0.073,
    "run3_prev2": 0.274,
    "run3_prev3": -0.048,
    "run3_prev4": -0.041,
    "run4_next0": 0.577,
    "run4_next1": -0.034,
    "run4_next2": -0.281,
    "run4_next3": -0.344,
    "run4_next4": -0.163,
    "run4_prev0": 0.019,
    "run4_prev1": 0.089,
    "run4_prev2": 0.115,
    "run4_prev3": -0.028,
    "run4_prev4": -0.441,
    "run_bin0": -0.078,
    "run_bin1": 0.196,
    "run_bin2": 0.141,
    "run_bin3": -0.014,
    "run_bin4": -0.245,
    "run_len": -0.186,
    "source": 0.5,
    "speaker": 1.138,
    "speaker_run0": -0.606,
    "speaker_run1": -0.299,
    "speaker_run2": 0.468,
    "speaker_run3": 0.809,
    "speaker_run4": 0.766,
    "subject_time": 0.436,
    "w_additive": -0.388,
    "w_area": -0.125,
    "w_causal": -1.106,
    "w_contrast": -1.157,
    "w_enum": -0.355,
    "w_event": 1.085,
    "w_modal": -3.098,
    "w_party": -1.665,
    "w_prep": 0.09,
    "w_pron1": -1.2,
    "w_pron3": -1.1,
    "w_quantity": -1.309,
    "w_time": 0.065,
}
_GLUED_WEIGHTS: dict[str, float] = {
    "g_bias": -4.987,
    "g_colon": -0.528,
    "g_colon_repeat": 4.157,
    "g_dateline": 0.26,
    "g_ended": 2.724,
    "g_fronted": 3.206,
    "g_head_time": -1.404,
    "g_len": -0.328,
    "g_repeat2": 2.299,
    "g_repeat4": 2.956,
    "g_reporter": 7.844,
    "g_rest": 0.886,
    "g_short": -4.246,
    "g_source": 5.68,
    "g_spaced": 0.182,
    "g_speech": 1.331,
    "g_time_at": 4.418,
    "g_time_date": 0.11,
    "g_time_far": 0.672,
    "g_time_near": 0.582,
}
_CHARS_PRIOR: tuple[tuple[int, float], ...] = (
    (20, 0.3),
    (40, 0.0),
    (70, 0.1),
    (100, 0.3),
    (140, 0.1),
    (190, -0.0),
    (250, 0.1),
    (10**9, -0.2),
)
_SENTENCES_PRIOR: tuple[float, ...] = (0.0, 0.0, -0.2, 0.0, 0.0, -0.5)
# A gap is cut when its marginal break log-odds exceed this threshold, by the
# length of the run of body text (bins _THRESHOLD_BINS): set by coordinate
# ascent on boundary F1 of the tuning half (bench/fit_paragraph_model.py).
# The threshold is high for the shortest runs: a brief has one or two paragraphs.
_THRESHOLD_BINS: tuple[int, ...] = (150, 300, 600, 1000, 1600)
_CUT_THRESHOLDS: tuple[float, ...] = (1.1, -0.2, 0.1, 0.3, 0.2, 0.3)
