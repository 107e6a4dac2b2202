"""Cues of run-on structure: how news marks a title, a dateline, captions, headings, a byline,
and the openers of sentences and paragraphs. Generic news conventions, not tied to one source;
each pattern is written in Simplified characters and also matches their Traditional forms."""

from __future__ import annotations

import re

from .model import MAX_CAPTION, MAX_TITLE

# A title paragraph may carry this prefix; Article.title drops it.
_TITLE_PREFIX = re.compile(r"^\s*原[标標][题題]\s*[：:]\s*")

# Punctuation that closes a sentence or clause: a title or heading has none at its end.
_CLOSING_PUNCT = "。．.，,；;：:、"
# Punctuation that marks running text rather than a heading.
_SENTENCE_PUNCT = re.compile(r"[。！？!?，,；;：:]|\.(?!\d)")


def _looks_like_title(line: str) -> bool:
    """A short line that does not end like a sentence or clause."""
    return len(line) <= MAX_TITLE and line[-1] not in _CLOSING_PUNCT and not _is_caption(line)


def _is_caption(line: str) -> bool:
    """A whole line that reads as an image caption."""
    if len(line) > MAX_CAPTION:
        return False
    return bool(
        _CAPTION_START.match(line)
        or _CAPTION_SOURCE.search(line)
        or ((m := _CAPTION_END.search(line)) and not line[m.end():].strip())
    )


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


# A heading that ends on a quotation, possibly after a short clause and its comma:
# 承认乌东独立，“科索沃有先例”. It counts only where the next sentence opens right after it.
_QUOTED_HEADING = re.compile(r"[^。！？!?；;：:“”「」\s]{0,14}[，,]?[“「][^。！？!?“”「」]{1,16}[”」]")

# Stops the first clause of a sentence.
_CLAUSE_END = re.compile(r"[，。；！？：、,;!?:]")
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
      |\d[%％]|\d(?:多|余)?(?:[万亿]?(?:美元|人次|千瓦|公里|元|吨|辆|件|户|人|个|家|项|次|台|座|所|只|条|名|位|例|起|场|批|套|部|篇|种|份|笔|张|架|艘|列|倍)
        |伤|死|亡|亿|万))
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
_UNFINISHED = set("的在从对向与和及并将把被为是由据给于至到跟同让令而或且也都又还再就才已曾")


# Characters that never open a sentence (they continue a word or a figure).
_NOT_FIRST = set("的了着过地得们之其所亦式性者率等")
_UNIT_CHARS = set("亿万千百元人次个项吨件辆户架艘列多余%％年月日号时分秒亩米克斤台座所只条")


# Cue groups at the start of the next sentence, looked up by its first two,
# then first one character(s). Generic news and discourse words only.
_FIRST_WORD_GROUPS = {
    "pron3": "他 她 它 他们 她们 它们 其 该 此 这 这些 这个 这是 这一 这种 这样 那 那些 此次 本次",
    "pron1": "我 我们 你 你们 大家 咱们 我国",
    "modal": "要 希望 相信 欢迎 愿 应 应该 应当 必须 需要 期待 呼吁 建议",
    "contrast": "但 但是 而 然而 不过 可是 却 虽然 尽管",
    "additive": "并 也 还 又 而且 并且 以及 甚至 更 再 同样",  # continue the sentence before
    "aside": "同时 此外 另外",  # a further point: often a paragraph of its own
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
# A colon that announces a text, a list or a speech after it: 致词内容如下：/ 全文为：/ 全体同胞均鉴：/
# 各位贵宾，大家好：. What follows it opens a paragraph of its own, in any source that has one.
_ANNOUNCE = _cue(
    r"(?:如下|如次|如后|以下|下列|全文|原文|内容|为|均鉴|公鉴|钧鉴|台鉴|惠鉴|大家好|先生|女士|贵宾|同学们?|朋友们?|同志们?|同胞们?)：$"
)
# An enumeration marker opening a sentence or a list item: 一、/ （二）/ 3、/ 第四、/ ①.
_ENUMERATION = re.compile(r"(?:[一二三四五六七八九十]{1,3}|\d{1,2})、|[（(](?:[一二三四五六七八九十]{1,3}|\d{1,2})[）)]|第[一二三四五六七八九十]{1,3}[、，,]|[①-⑳]")
# Characters that open an item of a list run into one line.
_BULLETS = "＊●■◆▲★☆※•▪►"
