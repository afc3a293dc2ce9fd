"""Benchmark of FAQ matching: quality and speed of `bot.text.matcher` against three baselines.

Shared data (``../shared/data``, see its README): an English FAQ from CLINC150 (150 intents,
each with its first 5 ``train`` utterances as phrasings; ``val`` must be answered, ``oos_val``,
``oos_train`` and chit-chat — chatterbot-corpus English and Chinese small talk and 2,000
#ubuntu IRC lines — must not) and a Chinese FAQ from xSID (the first half of each intent's
examples as phrasings, the rest asked; chatterbot Chinese as chit-chat). Two more CLINC150
runs ask questions of topics the FAQ does not cover (the shared data's recipe: utterances of
intents not chosen): each of its 10 domains left out of the FAQ in turn (its 300 ``val``
questions must not be answered, the other 2,700 must), and 50 of the 150 intents left out,
three times (seeded). Other data: ``--entries`` (any file ``hearth faq import`` reads: YAML
``[{id, questions: [...], answer}]`` or CSV) and ``--queries`` JSONL (``{"text": ...,
"expected": <entry id or null>}`` per line).

Systems: **hearth** (`decide` under the ``[faq]`` settings, by default Hearth's defaults;
``--config hearth.toml`` measures a community's own), **semantic** (the same with
``faq.semantic``, when its extra is installed), **keyword** (the message contains a phrasing,
as Carl-bot/Dyno autoresponders do), **fuzzy** (rapidfuzz
``token_set_ratio`` to the best phrasing, with a threshold) and **tfidf** (word TF-IDF cosine
to the nearest phrasing, with a threshold). Latency is per message, at the FAQ's size and
with every entry copied ten times under distinct ids. From the repository root (the
``bench`` extra adds rapidfuzz)::

    .venv/bin/python -m bench.faq [--data DIR] [--systems hearth,fuzzy] [--json]
    .venv/bin/python bench/faq.py --entries FILE.yaml --queries FILE.jsonl [--json]
    .venv/bin/python bench/faq.py --config hearth.toml [--systems hearth]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/faq.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import functools
import gc
import json
import math
import operator
import platform
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from rapidfuzz import fuzz, process, utils

from bot.config import FaqSettings, load_settings
from bot.errors import ConfigError
from bot.features.faq.feature import is_gap, match_policy, semantic_indexes
from bot.features.faq.files import FaqFileError, read_entries
from bot.text.matcher import FaqIndex, MatchPolicy, Ranker, decide, pick, required_score
from bot.text.normalize import CJK, normalize
from bot.text.question import is_question
from bot.text.semantic import MiniLmEmbedder, SemanticUnavailable, UseEmbedder

__all__ = [
    "Query",
    "Suite",
    "clinc_suite",
    "file_suite",
    "gap_figures",
    "held_out_suites",
    "main",
    "run_folds",
    "run_suite",
    "xsid_suite",
]

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
PHRASINGS = 5
IRC_LINES = 2_000
SCALE = 10
FUZZY_THRESHOLD = 80.0
#: Share of the intents the FAQ keeps, and the seeds, in the runs that leave intents out.
KEPT_SHARE = 2 / 3
HELD_OUT_SEEDS = (1, 2, 3)
TFIDF_THRESHOLD = 0.74
GOALS = {"oos_fp": 0.10, "right": 0.50, "wrong": 0.15, "chat_fp": 0.05, "p99_ms": 2.0}
GOAL_ZH_CHAT_FP = 0.02
#: The chatterbot-corpus files of everyday chat (the data README's "greetings, small talk,
#: emotions"); its other files are mostly questions on topics (trivia, science, history…).
CHITCHAT_FILES = ("greetings.yml", "conversations.yml", "emotion.yml")
GOAL_CHITCHAT_GAPS = 0.02
OOS = ("oos_val", "oos_train")

Entry = tuple[str, list[str]]
Answerer = Callable[[str], str | None]
Latency = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Query:
    """A message, the entry that should answer it (None: none) and the pool it belongs to."""

    text: str
    expected: str | None
    pool: str


@dataclass(frozen=True, slots=True)
class Suite:
    """An FAQ and the messages asked of it."""

    name: str
    entries: list[Entry]
    queries: list[Query]


def chatterbot_lines(
    folder: Path, skip: Iterable[str] = ("coding.yml", "tech_support.yml")
) -> list[str]:
    """Every distinct utterance of the chatterbot-corpus files in `folder`, minus `skip`."""
    lines: dict[str, None] = {}
    for path in sorted(folder.glob("*.yml")):
        if path.name in skip:
            continue
        for conversation in yaml.safe_load(path.read_text("utf-8")).get("conversations", []):
            for line in conversation:
                if str(line).strip():
                    lines[str(line).strip()] = None
    return list(lines)


_IRC = re.compile(r"^\[\d\d:\d\d\] <([^>]+)> (.*)$")


def irc_lines(folder: Path, count: int = IRC_LINES) -> list[str]:
    """`count` IRC lines, as many from each log, without timestamps, nicks and addressees."""
    files = sorted(folder.glob("*.raw.txt"))
    lines: list[str] = []
    for number, path in enumerate(files):
        said = [m.groups() for m in map(_IRC.match, path.read_text("utf-8").splitlines()) if m]
        nicks = {nick.casefold() for nick, _ in said}
        quota = count * (number + 1) // len(files) - len(lines)
        for _, text in said:
            head, separator, rest = text.partition(" ")
            if separator and head.rstrip(":,").casefold() in nicks and head[-1] in ":,":
                text = rest
            if text.strip() and quota > 0:
                lines.append(text.strip())
                quota -= 1
    return lines


def _clinc(data: Path) -> tuple[dict[str, Any], list[Entry], list[Query]]:
    """CLINC150's rows, its FAQ (each intent's first `PHRASINGS` ``train`` utterances) and
    its ``val`` questions."""
    clinc = json.loads((data / "clinc150" / "clinc150_visible.json").read_text("utf-8"))
    phrasings: dict[str, list[str]] = defaultdict(list)
    for text, intent in clinc["train"]:
        if len(phrasings[intent]) < PHRASINGS:
            phrasings[intent].append(text)
    return clinc, list(phrasings.items()), [Query(t, i, "val") for t, i in clinc["val"]]


def clinc_suite(data: Path = DATA) -> Suite:
    """CLINC150: 150 entries of 5 phrasings; val, oos_val, oos_train and chit-chat messages."""
    clinc, entries, queries = _clinc(data)
    queries += [Query(text, None, pool) for pool in OOS for text, _ in clinc[pool]]
    chat = chatterbot_lines(data / "chatterbot_corpus" / "english")
    chat += chatterbot_lines(data / "chatterbot_corpus" / "chinese")
    chat += irc_lines(data / "irc_ubuntu")
    queries += [Query(text, None, "chat") for text in chat]
    return Suite("clinc150", entries, queries)


def held_out_suites(data: Path = DATA) -> dict[str, list[Suite]]:
    """CLINC150 FAQs that lack some topics, whose ``val`` questions must then not be answered
    (pool ``unchosen``): each domain left out in turn, and a random `KEPT_SHARE` of the
    intents kept (100 of 150) for each of `HELD_OUT_SEEDS`. Each list is a set of folds,
    reported together."""
    _, entries, asked = _clinc(data)
    domains = json.loads((data / "clinc150" / "domains.json").read_text("utf-8"))

    def fold(name: str, kept: set[str]) -> Suite:
        queries = [q if q.expected in kept else Query(q.text, None, "unchosen") for q in asked]
        return Suite(name, [e for e in entries if e[0] in kept], queries)

    intents = sorted(key for key, _ in entries)
    kept = round(len(intents) * KEPT_SHARE)
    return {
        "clinc150_domain_held_out": [
            fold(domain, set(intents) - set(left_out))
            for domain, left_out in sorted(domains.items())
        ],
        "clinc150_intents_held_out": [
            fold(f"seed {seed}", set(random.Random(seed).sample(intents, kept)))
            for seed in HELD_OUT_SEEDS
        ],
    }


def xsid_suite(data: Path = DATA) -> Suite:
    """xSID Chinese: the first half of each intent's examples as phrasings, the rest asked."""
    examples: dict[str, list[str]] = defaultdict(list)
    text = ""
    for line in (data / "xsid_zh" / "zh.valid.conll").read_text("utf-8").splitlines():
        if line.startswith("# text = "):
            text = line.removeprefix("# text = ").strip()
        elif line.startswith("# intent = "):
            examples[line.removeprefix("# intent = ").strip()].append(text)
    entries: list[Entry] = []
    queries: list[Query] = []
    for intent, texts in examples.items():
        half = (len(texts) + 1) // 2
        entries.append((intent, texts[:half]))
        queries += [Query(t, intent, "val") for t in texts[half:]]
    chat = chatterbot_lines(data / "chatterbot_corpus" / "chinese")
    return Suite("xsid_zh", entries, queries + [Query(t, None, "chat") for t in chat])


def file_suite(entries_path: Path, queries_path: Path) -> Suite:
    """An FAQ file as `hearth faq import` reads it (YAML ``[{id, questions, answer}]`` or
    CSV; disabled entries left out, as the bot leaves them out) and messages from JSONL
    (``{"text": ..., "expected": <entry id or null>}`` per line).

    Raises:
        FaqFileError: either file cannot be read; the message names the file and the entry
            or line.
    """
    entries = [(e.key, list(e.questions)) for e in read_entries(entries_path) if e.enabled]
    known = {key for key, _ in entries}
    try:
        lines = queries_path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise FaqFileError(f"{queries_path}: cannot read: {error}") from None
    queries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, expected = row["text"], row.get("expected")
        except (ValueError, TypeError, KeyError, AttributeError):
            raise FaqFileError(
                f'{queries_path}: line {number}: expected {{"text": ..., "expected": id or null}}'
            ) from None
        expected = None if expected is None else str(expected)
        if expected is not None and expected not in known:
            raise FaqFileError(f"{queries_path}: line {number}: no enabled entry {expected!r}")
        queries.append(Query(str(text), expected, "val" if expected else "negative"))
    if not entries:
        raise FaqFileError(f"{entries_path}: no enabled entries to match against")
    if not queries:
        raise FaqFileError(f"{queries_path}: no questions")
    return Suite(entries_path.stem, entries, queries)


def _answerer(index: Ranker, policy: MatchPolicy) -> Answerer:
    return lambda text: None if (found := decide(index, text, policy)) is None else str(found.key)


def hearth(entries: Sequence[Entry], faq: FaqSettings) -> Answerer:
    """The FAQ feature's lexical matcher under `faq`'s threshold, margin and only_questions."""
    return _answerer(FaqIndex(entries), match_policy(faq, semantic=False))


def semantic(entries: Sequence[Entry], faq: FaqSettings) -> Answerer:
    """The FAQ feature with `faq.semantic = true` under `faq`'s semantic settings (needs the
    [semantic] extra)."""
    index = semantic_indexes(faq, *_embedders())(entries)
    return _answerer(index, match_policy(faq, semantic=True))


@functools.cache
def _embedders() -> tuple[CachedEmbedder, CachedEmbedder]:
    """The feature's pair: MiniLM for non-CJK questions, USE for CJK ones."""
    return CachedEmbedder(MiniLmEmbedder()), CachedEmbedder(UseEmbedder())


class CachedEmbedder:
    """Embeds each distinct phrasing once (the 1,500-entry copies repeat the same texts)."""

    def __init__(self, embedder: MiniLmEmbedder | UseEmbedder) -> None:
        self._embedder = embedder
        self._vectors: dict[str, Any] = {}

    def embed(self, texts: Sequence[str]) -> Any:
        """Embeddings of `texts`, computing only the ones not seen before."""
        if len(texts) == 1:  # a question: always computed, so latency is honest
            return self._embedder.embed(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed(missing), strict=True))
        import numpy

        return numpy.vstack([self._vectors[t] for t in texts])


def _semantic_available() -> bool:
    try:
        _embedders()
    except SemanticUnavailable:
        return False
    return True


def _bounded(text: str) -> str:
    """Normalized text with single spaces around, so phrase matches fall on word boundaries."""
    return " " + " ".join(re.findall(r"[^\W_]+", normalize(text))) + " "


def keyword(entries: Sequence[Entry], _faq: FaqSettings) -> Answerer:
    """A Carl-bot/Dyno-style autoresponder: the longest phrasing contained in the message."""
    patterns = [(_bounded(p), key) for key, phrasings in entries for p in phrasings]
    patterns.sort(key=lambda pair: -len(pair[0]))

    def answer(text: str) -> str | None:
        message = _bounded(text)
        for pattern, key in patterns:
            # CJK is written without spaces: a Chinese phrasing may sit inside a longer run.
            if pattern.strip() and (
                pattern in message or (CJK.search(pattern) and pattern.strip() in message)
            ):
                return key
        return None

    return answer


def fuzzy(
    entries: Sequence[Entry], _faq: FaqSettings, threshold: float = FUZZY_THRESHOLD
) -> Answerer:
    """rapidfuzz ``token_set_ratio``: the best phrasing if it scores at least `threshold`."""
    keys = [key for key, phrasings in entries for _ in phrasings]
    choices = [utils.default_process(p) for _, phrasings in entries for p in phrasings]
    scorer = fuzz.token_set_ratio

    def answer(text: str) -> str | None:
        query = utils.default_process(text)
        best = process.extractOne(query, choices, scorer=scorer, score_cutoff=threshold)
        return None if best is None else keys[best[2]]

    return answer


def _words(text: str) -> list[str]:
    """scikit-learn's default TF-IDF tokens (words of 2+ characters), CJK as characters."""
    folded = normalize(text)
    return re.findall(r"(?u)\b\w\w+\b", CJK.sub(" ", folded)) + CJK.findall(folded)


def tfidf(
    entries: Sequence[Entry], _faq: FaqSettings, threshold: float = TFIDF_THRESHOLD
) -> Answerer:
    """Word TF-IDF (smooth idf, l2) cosine to the nearest phrasing, via an inverted index."""
    keys = [key for key, phrasings in entries for _ in phrasings]
    counts = [Counter(_words(p)) for _, phrasings in entries for p in phrasings]
    frequency = Counter(term for c in counts for term in c)
    idf = {term: math.log((1 + len(counts)) / (1 + n)) + 1 for term, n in frequency.items()}
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for number, count in enumerate(counts):
        weights = {term: n * idf[term] for term, n in count.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        for term, weight in weights.items():
            postings[term].append((number, weight / norm))

    def answer(text: str) -> str | None:
        query = {t: n * idf[t] for t, n in Counter(_words(text)).items() if t in idf}
        norm = math.sqrt(sum(w * w for w in query.values())) or 1.0
        scores: dict[int, float] = defaultdict(float)
        for term, weight in query.items():
            for number, doc_weight in postings[term]:
                scores[number] += weight / norm * doc_weight
        best = max(scores, key=scores.__getitem__, default=None)
        return None if best is None or scores[best] < threshold else keys[best]

    return answer


SYSTEMS: dict[str, Callable[[Sequence[Entry], FaqSettings], Answerer]] = {
    f.__name__: f for f in (hearth, semantic, keyword, fuzzy, tfidf)
}


@dataclass(slots=True)
class Figures:
    """What one system did on one suite."""

    right: int = 0
    wrong: int = 0
    silent: int = 0
    asked: Counter[str] = field(default_factory=Counter)
    triggered: Counter[str] = field(default_factory=Counter)
    latency: dict[int, Latency] = field(default_factory=dict)

    def add(self, other: Figures) -> None:
        """Count `other`'s answers too (latencies are not merged)."""
        self.right += other.right
        self.wrong += other.wrong
        self.silent += other.silent
        self.asked.update(other.asked)
        self.triggered.update(other.triggered)

    def as_dict(self) -> dict[str, Any]:
        """Rates (0..1) and latencies (ms) for the report."""
        questions = self.right + self.wrong + self.silent
        figures: dict[str, Any] = {"questions": questions}
        for outcome in ("right", "wrong", "silent"):
            figures[outcome] = round(getattr(self, outcome) / max(1, questions), 4)
        for pool, asked in self.asked.items():
            figures[f"{pool}_fp"] = round(self.triggered[pool] / asked, 4)
            figures[f"{pool}_n"] = asked
        for size, (p50, p99) in self.latency.items():
            figures[f"p50_ms_{size}"] = round(p50, 4)
            figures[f"p99_ms_{size}"] = round(p99, 4)
        return figures


def _timed(answer: Answerer, queries: Sequence[Query]) -> tuple[list[str | None], Latency]:
    """Answers, and p50 and p99 milliseconds per message (garbage collection paused)."""
    answers: list[str | None] = []
    times: list[float] = []
    clock = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        for query in queries:
            started = clock()
            answers.append(answer(query.text))
            times.append((clock() - started) / 1e6)
    finally:
        gc.enable()
    times.sort()
    return answers, (times[len(times) // 2], times[min(len(times) - 1, len(times) * 99 // 100)])


def run_suite(
    suite: Suite,
    systems: Iterable[str] = SYSTEMS,
    *,
    scale: int = SCALE,
    faq: FaqSettings | None = None,
) -> dict[str, Figures]:
    """Every system on `suite` under `faq` (default: Hearth's defaults): quality at the FAQ's
    size, latency there and at `scale`×."""
    faq = faq or FaqSettings()
    scaled = [(f"{key}#{copy}", p) for copy in range(scale) for key, p in suite.entries]
    results: dict[str, Figures] = {}
    for name in systems:
        figures = Figures()
        answers, latency = _timed(SYSTEMS[name](suite.entries, faq), suite.queries)
        for query, found in zip(suite.queries, answers, strict=True):
            if query.expected is None:
                figures.asked[query.pool] += 1
                figures.triggered[query.pool] += found is not None
            elif found is None:
                figures.silent += 1
            elif found == query.expected:
                figures.right += 1
            else:
                figures.wrong += 1
        figures.latency[len(suite.entries)] = latency
        if scale > 1:
            figures.latency[len(scaled)] = _timed(SYSTEMS[name](scaled, faq), suite.queries)[1]
        results[name] = figures
    return results


def run_folds(
    folds: Sequence[Suite], systems: Iterable[str] = SYSTEMS, *, faq: FaqSettings | None = None
) -> dict[str, Figures]:
    """Every system on each fold, answers counted together (no latency)."""
    names = list(systems)
    totals = {name: Figures() for name in names}
    for suite in folds:
        for name, figures in run_suite(suite, names, scale=1, faq=faq).items():
            totals[name].add(figures)
    return totals


def goals(clinc: Mapping[str, Any], chinese: Mapping[str, Any] | None) -> dict[str, bool]:
    """Which of the issue's goals Hearth meets at its defaults."""
    p99 = max(v for k, v in clinc.items() if k.startswith("p99_ms_"))
    met = {f"{pool}_fp<=10%": clinc[f"{pool}_fp"] <= GOALS["oos_fp"] for pool in OOS}
    met["right>=50%"] = clinc["right"] >= GOALS["right"]
    met["wrong<=15%"] = clinc["wrong"] <= GOALS["wrong"]
    met["chat_fp<=5%"] = clinc["chat_fp"] <= GOALS["chat_fp"]
    met["p99<=2ms"] = p99 <= GOALS["p99_ms"]
    if chinese is not None:
        met["zh_chat_fp<=2%"] = chinese["chat_fp"] <= GOAL_ZH_CHAT_FP
    return met


def _logged(index: Ranker, policy: MatchPolicy, text: str) -> bool:
    """Whether the FAQ feature would log `text` as an unanswered question (a gap)."""
    question = is_question(text)
    needed = required_score(policy, question)
    if needed is None:
        return False
    ranked = index.rank(text, 2)
    return pick(ranked, needed, policy.margin) is None and is_gap(text, question, ranked)


def gap_figures(data: Path = DATA, faq: FaqSettings | None = None) -> dict[str, Any]:
    """Shares of messages the lexical FAQ under `faq` would log as gaps: chit-chat
    (`CHITCHAT_FILES`, English against the CLINC150 FAQ, Chinese against the xSID one; and
    every chit-chat file), which should not be, and CLINC150's out-of-scope questions
    (``question_gap_recall``), which should."""
    policy = match_policy(faq or FaqSettings(), semantic=False)
    clinc, xsid = clinc_suite(data), xsid_suite(data)
    faqs = {"en": FaqIndex(clinc.entries), "zh": FaqIndex(xsid.entries)}
    folders = {"en": "english", "zh": "chinese"}
    figures: dict[str, Any] = {}
    for language, index in faqs.items():
        folder = data / "chatterbot_corpus" / folders[language]
        others = [p.name for p in folder.glob("*.yml") if p.name not in CHITCHAT_FILES]
        for name, lines in (
            ("chitchat", chatterbot_lines(folder, skip=others)),
            ("chatterbot", chatterbot_lines(folder)),
        ):
            logged = sum(_logged(index, policy, text) for text in lines)
            figures[f"{name}_gap_rate_{language}"] = round(logged / max(1, len(lines)), 4)
            figures[f"{name}_n_{language}"] = len(lines)
    oos = [q.text for q in clinc.queries if q.pool in OOS]
    logged = sum(_logged(faqs["en"], policy, text) for text in oos)
    figures["question_gap_recall"] = round(logged / max(1, len(oos)), 4)
    figures["question_n"] = len(oos)
    counts = [figures[f"chitchat_n_{lang}"] for lang in faqs]
    shares = [figures[f"chitchat_gap_rate_{lang}"] for lang in faqs]
    figures["chitchat_gap_rate"] = round(
        sum(map(operator.mul, counts, shares)) / max(1, sum(counts)), 4
    )
    return figures


def _gap_lines(gaps: Mapping[str, Any]) -> list[str]:
    chitchat = ", ".join(
        f"{lang} {gaps[f'chitchat_gap_rate_{lang}']:.1%} of {gaps[f'chitchat_n_{lang}']}"
        for lang in ("en", "zh")
    )
    everything = ", ".join(
        f"{lang} {gaps[f'chatterbot_gap_rate_{lang}']:.1%} of {gaps[f'chatterbot_n_{lang}']}"
        for lang in ("en", "zh")
    )
    return [
        f"FAQ gaps (hearth): chitchat_gap_rate {gaps['chitchat_gap_rate']:.1%} ({chitchat}; "
        f"every chatterbot file but coding and tech_support: {everything}); "
        f"question_gap_recall {gaps['question_gap_recall']:.1%} of "
        f"{gaps['question_n']} CLINC150 out-of-scope questions",
        "",
    ]


def _table(title: str, results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    first = next(iter(results.values()))
    pools = [k.removesuffix("_fp") for k in first if k.endswith("_fp")]
    sizes = sorted(int(k.removeprefix("p50_ms_")) for k in first if k.startswith("p50_ms_"))
    positives = first["questions"]
    lines = [
        f"{title}: {positives} questions to answer, "
        + ", ".join(f"{first[pool + '_n']} {pool}" for pool in pools),
        f"{'system':<9}{'right':>7}{'wrong':>7}{'silent':>7}"
        + "".join(f"{pool + ' FP':>13}" for pool in pools)
        + "".join(f"{f'p50/p99 ms @{n}':>19}" for n in sizes),
    ]
    for name, row in results.items():
        cells = [f"{row[k]:>7.1%}" for k in ("right", "wrong", "silent")]
        cells += [f"{row[pool + '_fp']:>13.1%}" for pool in pools]
        cells += [f"{row[f'p50_ms_{n}']:>10.3f}/{row[f'p99_ms_{n}']:<8.3f}" for n in sizes]
        lines.append(f"{name:<9}" + "".join(cells))
    return [*lines, ""]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.faq", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument(
        "--entries", type=Path, help="an FAQ file as `hearth faq import` takes (YAML or CSV)"
    )
    parser.add_argument("--queries", type=Path, help='JSONL: {"text": ..., "expected": id|null}')
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset")
    parser.add_argument(
        "--config", type=Path, help="hearth.toml whose [faq] settings to measure (thresholds…)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if (args.entries is None) != (args.queries is None):
        parser.error("--entries and --queries go together")
    try:
        faq = load_settings(args.config).faq if args.config else FaqSettings()
    except ConfigError as error:
        parser.error(str(error))
    systems = [name for name in args.systems.split(",") if name]
    if "semantic" in systems and not _semantic_available():
        systems.remove("semantic")
        print('semantic skipped: pip install "hearth-bot[semantic]" to measure it', file=sys.stderr)
    if unknown := set(systems) - set(SYSTEMS):
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    if args.entries is not None:
        try:
            suites = [file_suite(args.entries, args.queries)]
        except FaqFileError as error:
            parser.error(str(error))
    else:
        suites = [clinc_suite(args.data), xsid_suite(args.data)]
    report: dict[str, Any] = {
        "settings": faq.model_dump(),
        "baselines": {"fuzzy_threshold": FUZZY_THRESHOLD, "tfidf_threshold": TFIDF_THRESHOLD},
        "python": platform.python_version(),
    }
    lines = [
        f"hearth: threshold {faq.threshold}, margin {faq.margin}, only questions "
        f"{faq.only_questions}; semantic: threshold {faq.semantic_threshold}, margin "
        f"{faq.semantic_margin}; fuzzy: token_set_ratio >= {FUZZY_THRESHOLD:g}; "
        f"tfidf: cosine >= {TFIDF_THRESHOLD:g}",
        "",
    ]
    for suite in suites:
        results = {name: f.as_dict() for name, f in run_suite(suite, systems, faq=faq).items()}
        report[suite.name] = results
        lines += _table(f"{suite.name} ({len(suite.entries)} entries)", results)
    if args.entries is None:
        for title, folds in held_out_suites(args.data).items():
            results = {name: f.as_dict() for name, f in run_folds(folds, systems, faq=faq).items()}
            report[title] = results
            lines += _table(f"{title} ({len(folds)} FAQs, counted together)", results)
    if args.entries is None and "hearth" in systems:
        gaps = gap_figures(args.data, faq)
        report.update(gaps)
        lines += _gap_lines(gaps)
        report["goals"] = goals(report["clinc150"]["hearth"], report["xsid_zh"]["hearth"])
        report["goals"]["chitchat_gap_rate<=2%"] = gaps["chitchat_gap_rate"] <= GOAL_CHITCHAT_GAPS
        verdicts = [f"{goal} {'met' if ok else 'NOT met'}" for goal, ok in report["goals"].items()]
        lines.append("Goals (hearth at these settings): " + ", ".join(verdicts))
    print(json.dumps(report) if args.json else "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
