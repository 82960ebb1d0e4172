"""A question in words split into filters and the text left to match.

``parse_query("person loitering at the north gate last night", vocabulary,
now=..., tz=...)`` finds the words a filter can answer exactly: times ("last
night", "yesterday", "on Sunday", "this morning", "last week", "last 3
hours", ISO dates, "after 22:00", "between 8am and 10am"), camera names,
zone and line names (and the line's direction labels), object classes
(person, people, car, vehicle, bike ...), directions (inbound, outbound) and
kinds of event (crossing, loitering, entering, leaving, dwell, running,
wrong way, crowding, alerts, incidents). The words no filter took, less stop
words, are the ``text`` that vector similarity ranks. Every match is listed
in ``understood`` so the page can show what the parser took.

The clock (``now``) and the site's time zone are passed in; nothing here
reads the wall clock. A day's night ("last night", "Sunday night") runs from
18:00 to 06:00 the next day; as hours of any day ("at night") it is 22:00 to
06:00 and the evening 18:00 to 22:00, as ``event_text.day_part`` says; morning
is 06:00 to 12:00 and afternoon 12:00 to 18:00 (site time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from argus.domain.search_words import (
    CLASS_WORDS,
    CLOCK,
    DATE,
    DIRECTIONS,
    HOUR_BUCKETS,
    ITEM_KINDS,
    KIND_WORDS,
    NUMBERS,
    PARTS,
    STOP_WORDS,
    UNITS,
    WEEKDAYS,
    WORD,
    WRONG_WAY,
)

__all__ = [
    "ParsedQuery",
    "SearchFilters",
    "SearchVocabulary",
    "Understood",
    "parse_query",
]


@dataclass(frozen=True, slots=True)
class SearchVocabulary:
    """The names a query may use, from the site's configuration.

    Attributes:
        cameras: Camera name (or id), lower case, to camera id.
        zones: Zone names, lower case.
        lines: Line names, lower case.
        line_labels: A line's direction label ("eastbound"), lower case, to
            ``(line name, "in" | "out")``.
    """

    cameras: Mapping[str, str] = field(default_factory=dict)
    zones: frozenset[str] = frozenset()
    lines: frozenset[str] = frozenset()
    line_labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """What a search is restricted to; empty tuples and ``None`` do not filter.

    Attributes:
        since: At or after this moment.
        until: Strictly before this moment.
        hours: Site-local hour window ``(start, end)``; ``start > end`` wraps midnight.
        camera_ids: Any of these cameras.
        zones: Any of these zones.
        lines: Any of these lines.
        classes: Any of these object classes.
        directions: Any of these crossing directions (``in``/``out``).
        types: Any of these event types.
        kinds: Any of ``event``, ``alert``, ``incident``.
    """

    since: datetime | None = None
    until: datetime | None = None
    hours: tuple[int, int] | None = None
    camera_ids: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Understood:
    """One piece of the query a filter took.

    Attributes:
        field: Which filter (``time``, ``hours``, ``camera``, ``zone``, ``line``,
            ``class``, ``direction``, ``type``, ``kind``).
        words: The words of the query it came from.
        value: The filter's value, in words (``"person"``, an ISO interval).
    """

    field: str
    words: str
    value: str


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A parsed question.

    Attributes:
        query: The question as asked.
        filters: The exact filters found.
        text: The words left for similarity ranking ("" when none).
        understood: What each filter came from, in query order.
    """

    query: str
    filters: SearchFilters
    text: str
    understood: tuple[Understood, ...]


@dataclass(slots=True)
class _Acc:
    """Filters being collected."""

    tz: tzinfo
    now: datetime
    since: datetime | None = None
    until: datetime | None = None
    hours: tuple[int, int] | None = None
    day: date | None = None
    lists: dict[str, list[str]] = field(default_factory=dict)
    understood: list[Understood] = field(default_factory=list)

    def add(self, name: str, words: str, values: tuple[str, ...]) -> None:
        bucket = self.lists.setdefault(name, [])
        bucket.extend(v for v in values if v not in bucket)
        self.understood.append(Understood(name, words, ", ".join(values)))

    def window(self, words: str, since: datetime, until: datetime) -> None:
        self.since, self.until = since, until
        self.understood.append(
            Understood("time", words, f"{since.isoformat()} / {until.isoformat()}")
        )

    def on_day(self, words: str, day: date, part: str | None = None) -> None:
        start_h, end_h = PARTS[part] if part else (0, 24)
        start = datetime.combine(day, time(), self.tz) + timedelta(hours=start_h)
        end = datetime.combine(day, time(), self.tz) + timedelta(hours=end_h)
        self.day = day
        self.window(words, start, end)


def _tokens(query: str) -> list[str]:
    return WORD.findall(query.lower())


def _clock(word: str) -> int | None:
    match = CLOCK.match(word)
    if match is None:
        return None
    hour = int(match.group(1))
    suffix = match.group(3)
    if match.group(2) is None and suffix is None:
        return None
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    return hour if 0 <= hour <= 23 else None


def _span(hours: tuple[int, int]) -> str:
    return f"{hours[0]:02d}-{hours[1]:02d}"


def _weekday_before(today: date, weekday: int) -> date:
    """The most recent ``weekday`` on or before ``today``."""
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def _names(tokens: list[str], i: int, names: Mapping[str, object]) -> tuple[str, int] | None:
    """The longest name in ``names`` starting at token ``i`` (up to five words)."""
    for n in range(min(5, len(tokens) - i), 0, -1):
        candidate = " ".join(tokens[i : i + n])
        if candidate in names:
            return candidate, n
    return None


def _time_words(tokens: list[str], i: int, acc: _Acc) -> int:
    """Consume time words at ``i``; the number of tokens taken (0: none)."""
    return _day_words(tokens, i, acc) or _span_words(tokens, i, acc)


def _day_words(tokens: list[str], i: int, acc: _Acc) -> int:
    """Consume words naming a day or part of one ("last night", "sunday", "2026-12-01")."""
    word = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    today = acc.now.astimezone(acc.tz).date()
    if (word == "last" and nxt == "night") or word == "tonight":
        day = today - timedelta(days=1) if word == "last" else today
        acc.on_day(f"{word} {nxt}".strip() if word == "last" else word, day, "night")
        return 2 if word == "last" else 1
    if word in ("today", "yesterday"):
        day = today if word == "today" else today - timedelta(days=1)
        if nxt in PARTS:
            acc.on_day(f"{word} {nxt}", day, nxt)
            return 2
        acc.on_day(word, day)
        return 1
    if word == "this" and nxt in PARTS:
        acc.on_day(f"this {nxt}", today, nxt)
        return 2
    return _named_day(tokens, i, acc)


def _named_day(tokens: list[str], i: int, acc: _Acc) -> int:
    """Consume a weekday ("sunday", "sunday night") or an ISO date."""
    word = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    today = acc.now.astimezone(acc.tz).date()
    if word in WEEKDAYS:
        day = _weekday_before(today, WEEKDAYS.index(word))
        if nxt in PARTS:
            acc.on_day(f"{word} {nxt}", day, nxt)
            return 2
        acc.on_day(word, day)
        return 1
    date_match = DATE.match(word)
    if date_match:
        try:
            day = date(*(int(g) for g in date_match.groups()))
            acc.on_day(word, day)
        except (ValueError, OverflowError):  # no such day, or its end is past year 9999
            return 0
        return 1
    return 0


def _span_words(tokens: list[str], i: int, acc: _Acc) -> int:
    """Consume words naming a span up to now ("last week", "past 3 hours", "this week")."""
    word = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    today = acc.now.astimezone(acc.tz).date()
    if word in ("last", "past", "previous") and nxt in ("week", "month", "hour", "day"):
        span = {"week": 7, "month": 30, "hour": 0, "day": 1}[nxt]
        delta = timedelta(hours=1) if nxt == "hour" else timedelta(days=span)
        acc.window(f"{word} {nxt}", acc.now - delta, acc.now)
        return 2
    if word == "this" and nxt == "week":
        monday = today - timedelta(days=today.weekday())
        acc.window("this week", datetime.combine(monday, time(), acc.tz), acc.now)
        return 2
    if word in ("last", "past") and i + 2 < len(tokens):
        count = int(nxt) if nxt.isdigit() else NUMBERS.get(nxt)
        unit = tokens[i + 2].rstrip("s")
        if count is not None and unit in UNITS:
            try:
                since = acc.now - count * UNITS[unit]
            except OverflowError:  # a span reaching before year 1 is no filter: words stay text
                return 0
            acc.window(f"{word} {nxt} {tokens[i + 2]}", since, acc.now)
            return 3
    return 0


def _hour_words(tokens: list[str], i: int, acc: _Acc) -> int:
    """Consume an hour phrase ("after 22:00", "between 8am and 10am", "at night")."""
    word = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if word in ("at", "in", "during") and (nxt in HOUR_BUCKETS or nxt == "the"):
        part = tokens[i + 2] if nxt == "the" and i + 2 < len(tokens) else nxt
        if part in HOUR_BUCKETS:
            acc.hours = HOUR_BUCKETS[part]
            taken = 3 if nxt == "the" else 2
            acc.understood.append(
                Understood("hours", " ".join(tokens[i : i + taken]), _span(acc.hours))
            )
            return taken
    if word in ("after", "since", "before") and _clock(nxt) is not None:
        hour = _clock(nxt) or 0
        acc.hours = (hour, 24) if word != "before" else (0, hour)
        acc.understood.append(Understood("hours", f"{word} {nxt}", _span(acc.hours)))
        return 2
    if word in ("between", "from") and i + 3 < len(tokens) and tokens[i + 2] in ("and", "to"):
        start, end = _clock(nxt), _clock(tokens[i + 3])
        if start is not None and end is not None:
            acc.hours = (start, end)
            acc.understood.append(
                Understood("hours", " ".join(tokens[i : i + 4]), _span(acc.hours))
            )
            return 4
    if word == "at" and _clock(nxt) is not None:
        hour = _clock(nxt) or 0
        acc.hours = (hour, (hour + 1) % 24 or 24)
        acc.understood.append(Understood("hours", f"at {nxt}", _span(acc.hours)))
        return 2
    return 0


def _name_words(tokens: list[str], i: int, vocab: SearchVocabulary, acc: _Acc) -> int:
    """Consume a camera, zone, line or direction-label name at ``i``."""
    found = _names(tokens, i, vocab.cameras)
    if found:
        acc.add("camera", found[0], (vocab.cameras[found[0]],))
        return found[1]
    found = _names(tokens, i, dict.fromkeys(vocab.zones))
    if found:
        acc.add("zone", found[0], (found[0],))
        return found[1]
    found = _names(tokens, i, dict.fromkeys(vocab.lines))
    if found:
        acc.add("line", found[0], (found[0],))
        return found[1]
    found = _names(tokens, i, vocab.line_labels)
    if found:
        line, direction = vocab.line_labels[found[0]]
        acc.add("line", found[0], (line,))
        acc.add("direction", found[0], (direction,))
        return found[1]
    return 0


def _word_filters(tokens: list[str], i: int, acc: _Acc) -> int:
    """Consume a class, kind, direction or item-kind word at ``i``."""
    word = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if word == "wrong" and nxt == "way":
        acc.add("type", "wrong way", WRONG_WAY)
        return 2
    if word in CLASS_WORDS:
        acc.add("class", word, CLASS_WORDS[word])
        return 1
    if word in KIND_WORDS:
        acc.add("type", word, KIND_WORDS[word])
        return 1
    if word in DIRECTIONS:
        acc.add("direction", word, (DIRECTIONS[word],))
        return 1
    if word in ITEM_KINDS:
        acc.add("kind", word, (ITEM_KINDS[word],))
        return 1
    return 0


def parse_query(
    query: str, vocabulary: SearchVocabulary, *, now: datetime, tz: tzinfo
) -> ParsedQuery:
    """Split a question into filters and the text left to match.

    Args:
        query: The question in words.
        vocabulary: The site's camera, zone and line names.
        now: The present moment (timezone-aware), for relative times.
        tz: The site's time zone, for days and hours.

    Returns:
        The filters, the remaining text and what was understood.
    """
    tokens = _tokens(query)
    acc = _Acc(tz=tz, now=now)
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        taken = (
            _name_words(tokens, i, vocabulary, acc)
            or _time_words(tokens, i, acc)
            or _hour_words(tokens, i, acc)
            or _word_filters(tokens, i, acc)
        )
        if taken:
            i += taken
            continue
        if tokens[i] not in STOP_WORDS:
            rest.append(tokens[i])
        i += 1
    lists = acc.lists
    filters = SearchFilters(
        since=acc.since,
        until=acc.until,
        hours=acc.hours,
        camera_ids=tuple(lists.get("camera", ())),
        zones=tuple(lists.get("zone", ())),
        lines=tuple(lists.get("line", ())),
        classes=tuple(lists.get("class", ())),
        directions=tuple(lists.get("direction", ())),
        types=tuple(lists.get("type", ())),
        kinds=tuple(lists.get("kind", ())),
    )
    return ParsedQuery(query, filters, " ".join(rest), tuple(acc.understood))
