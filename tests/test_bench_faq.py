"""bench/faq.py measures any FAQ and question file, under a community's own [faq] settings,
and its held-out runs ask each FAQ about the topics it lacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.faq import held_out_suites, main, run_folds

ENTRIES = [
    {"id": 1, "questions": ["how do I reset my password", "I forgot my password"], "answer": "a"},
    {"id": 2, "questions": ["when does the tournament start", "match start time"], "answer": "b"},
    {"id": 3, "questions": ["怎么修改昵称", "如何改名字"], "answer": "c"},
]
QUERIES = [
    {"text": "how can I reset my password?", "expected": 1},
    {"text": "what time does the tournament start?", "expected": 2},
    {"text": "怎么修改我的昵称？", "expected": 3},
    {"text": "what's the weather like on mars?", "expected": None},
    {"text": "lol that was fun", "expected": None},
]
SYSTEMS = "hearth,keyword,fuzzy,tfidf"


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    entries, queries = tmp_path / "guild.yaml", tmp_path / "asked.jsonl"
    entries.write_text(yaml.safe_dump(ENTRIES, allow_unicode=True), "utf-8")
    queries.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUERIES), "utf-8")
    return ["--entries", str(entries), "--queries", str(queries)]


def _report(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main([*argv, "--json"]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def test_other_data_gets_every_figure(files: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    report = _report(capsys, [*files, "--systems", SYSTEMS])
    assert report["settings"]["threshold"] == 0.19
    assert set(report["guild"]) == set(SYSTEMS.split(","))
    hearth = report["guild"]["hearth"]
    assert (hearth["questions"], hearth["right"], hearth["wrong"]) == (3, 1.0, 0.0)
    assert (hearth["negative_n"], hearth["negative_fp"]) == (2, 0.0)
    for row in report["guild"].values():  # latency at the FAQ's size and ten times it
        assert {"p50_ms_3", "p99_ms_3", "p50_ms_30", "p99_ms_30"} <= row.keys()
        assert row["right"] + row["wrong"] + row["silent"] == pytest.approx(1.0)


def test_a_communitys_settings_are_measured(
    files: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hearth.toml"
    config.write_text("[faq]\nthreshold = 0.99\n", "utf-8")
    report = _report(capsys, [*files, "--systems", "hearth", "--config", str(config)])
    assert report["settings"]["threshold"] == 0.99
    assert (report["guild"]["hearth"]["right"], report["guild"]["hearth"]["silent"]) == (0.0, 1.0)


def test_a_bad_setting_names_the_key(
    files: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hearth.toml"
    config.write_text("[faq]\nthreshold = 1.5\n", "utf-8")
    with pytest.raises(SystemExit) as exit_:
        main([*files, "--config", str(config)])
    assert exit_.value.code == 2
    assert "faq.threshold" in capsys.readouterr().err


def _intent_data(folder: Path) -> None:
    """A CLINC-shaped data set: two domains of three intents, six train and two val each."""
    intents = {"pets": ["cat", "dog", "fish"], "food": ["soup", "bread", "cheese"]}
    rows = {"train": [], "val": [], "oos_val": [], "oos_train": []}
    for names in intents.values():
        for name in names:
            rows["train"] += [[f"how do I feed my {name} {n}", name] for n in range(6)]
            rows["val"] += [[f"what does a {name} need {n}", name] for n in range(2)]
    (folder / "clinc150").mkdir()
    (folder / "clinc150" / "clinc150_visible.json").write_text(json.dumps(rows), "utf-8")
    (folder / "clinc150" / "domains.json").write_text(json.dumps(intents), "utf-8")


def test_held_out_runs_ask_about_the_topics_left_out(tmp_path: Path) -> None:
    _intent_data(tmp_path)
    runs = held_out_suites(tmp_path)
    by_domain, by_intent = runs["clinc150_domain_held_out"], runs["clinc150_intents_held_out"]
    assert [len(s.entries) for s in by_domain] == [3, 3]
    assert [len(s.entries) for s in by_intent] == [4, 4, 4]
    assert held_out_suites(tmp_path) == runs  # seeded: the same folds every run
    for suite in by_domain + by_intent:
        kept = {key for key, _ in suite.entries}
        assert all(len(phrasings) == 5 for _, phrasings in suite.entries)
        assert len(suite.queries) == 12  # every val question, kept or left out
        for query in suite.queries:
            intent = query.text.split()[3]
            assert query.expected == (intent if intent in kept else None)
            assert query.pool == ("val" if intent in kept else "unchosen")
    totals = run_folds(by_domain, ["hearth"])["hearth"]
    assert totals.right + totals.wrong + totals.silent == 12
    assert totals.asked["unchosen"] == 12


def test_the_import_formats_are_read_as_the_bot_reads_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq = tmp_path / "guild.csv"
    faq.write_text(
        "id,questions,answer,enabled\n"
        "1,how do I reset my password | I forgot my password,a,true\n"
        "2,when does the tournament start,b,false\n",
        "utf-8",
    )
    asked = tmp_path / "asked.jsonl"
    asked.write_text('{"text": "how can I reset my password?", "expected": "1"}\n', "utf-8")
    report = _report(capsys, ["--entries", str(faq), "--queries", str(asked), "--systems", SYSTEMS])
    assert report["guild"]["hearth"]["right"] == 1.0
    assert "p50_ms_1" in report["guild"]["hearth"]  # the disabled entry is not in the FAQ


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ('{"question": "hi?"}', "line 2: expected"),
        ("not json", "line 2: expected"),
        ('{"text": "hi?", "expected": 9}', "line 2: no enabled entry '9'"),
    ],
)
def test_a_bad_question_line_is_named(
    files: list[str], line: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    queries = Path(files[3])
    queries.write_text('{"text": "hello?", "expected": null}\n' + line + "\n", "utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(files)
    assert exit_.value.code == 2
    assert complaint in capsys.readouterr().err


def test_a_bad_faq_file_is_named(files: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path(files[1]).write_text("- id: 1\n  answer: no questions\n", "utf-8")
    with pytest.raises(SystemExit):
        main(files)
    assert "entry 1 (id '1'): questions must list at least one question" in capsys.readouterr().err


def test_an_empty_file_is_named(files: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path(files[3]).write_text("\n", "utf-8")
    with pytest.raises(SystemExit):
        main(files)
    assert "asked.jsonl: no questions" in capsys.readouterr().err
    Path(files[1]).write_text("[]\n", "utf-8")
    with pytest.raises(SystemExit):
        main(files)
    assert "guild.yaml: no enabled entries" in capsys.readouterr().err
