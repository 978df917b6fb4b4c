"""The command line: every command has help and is documented, errors are one line, and
`extract --json` follows the public contract."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scheduler.cli import cli
from scheduler.demo import content
from scheduler.demo.reportgen import ReportSpec, make_report_pdf

REPO = Path(__file__).resolve().parents[1]
OUTCOME_KEYS = {
    "local_authority",
    "ons_code",
    "event_type",
    "framework",
    "overall",
    "judgements",
    "send_outcome",
    "inspection_start",
    "inspection_end",
    "published",
    "previous_overall",
    "previous_year",
    "confidence",
    "evidence",
}


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
    return found


@pytest.mark.parametrize("path", all_commands(cli), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "-h"])
    assert result.exit_code == 0, result.output
    command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    if not isinstance(command, click.Group):
        assert "Example:" in result.output


@pytest.mark.parametrize("path", all_commands(cli), ids=" ".join)
def test_every_command_is_in_the_readme(path: tuple[str, ...]) -> None:
    assert f"`{' '.join(path)}" in (REPO / "README.md").read_text()


def test_contract_commands_exist() -> None:
    names = set(cli.commands)
    assert {"run", "serve", "extract", "demo", "history", "status", "check-config"} <= names


def test_config_error_is_one_line_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[database]\nurl = "sqlite:///x.db"\nflavour = "mint"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"])
    assert result.exit_code == 2
    assert result.output == (f"Error: {config}:3: database.flavour: unknown key; valid keys: url\n")


def test_missing_config_uses_env_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFSTED_WATCH_CONFIG", str(tmp_path / "absent.toml"))
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 2
    assert "absent.toml: config file not found" in result.output


def extract_json(*args: str, stdin: bytes | None = None) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["extract", "--json", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_extract_html_article(tmp_path: Path) -> None:
    page = tmp_path / "story.html"
    page.write_text(content.paper_article(content.SOUTHEND_NEW))
    (record,) = extract_json(str(page))
    assert record["input"] == str(page) and record["kind"] == "article"
    (outcome,) = record["outcomes"]  # type: ignore[misc]
    assert set(outcome) >= OUTCOME_KEYS
    assert outcome["local_authority"] == "Southend-on-Sea" and outcome["ons_code"] == "E06000033"
    assert outcome["overall"] == "good" and outcome["event_type"] == "inspection"
    assert (
        outcome["previous_overall"] == "requires_improvement" and outcome["previous_year"] == 2019
    )


def test_extract_pdf_report(tmp_path: Path) -> None:
    spec = ReportSpec(
        authority="Thurrock Council",
        kind="ilacs",
        start=date(2023, 3, 6),
        end=date(2023, 3, 17),
        lead_inspector="A Person",
        judgements={
            "leaders": "good",
            "help_and_protection": "good",
            "children_in_care": "good",
            "care_leavers": "requires_improvement",
        },
        overall="good",
    )
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(make_report_pdf(spec))
    (record,) = extract_json(str(pdf))
    assert record["kind"] == "ofsted_report"
    (outcome,) = record["outcomes"]  # type: ignore[misc]
    assert outcome["local_authority"] == "Thurrock" and outcome["framework"] == "ILACS"
    assert outcome["judgements"]["care_leavers"] == "requires_improvement"
    assert outcome["inspection_start"] == "2023-03-06" and outcome["status"] == "confirmed"


def test_extract_text_from_stdin_with_date() -> None:
    text = (
        "Ofsted rates Thurrock children's services inadequate\n\n"
        "Ofsted has judged children's services in Thurrock to be inadequate, in a report published"
        " today. The council was rated good in 2019."
    )
    (record,) = extract_json("--date", "2025-03-04", "-", stdin=text.encode())
    assert record["input"] == "-"
    (outcome,) = record["outcomes"]  # type: ignore[misc]
    assert outcome["overall"] == "inadequate" and outcome["local_authority"] == "Thurrock"
    assert outcome["published"] == "2025-03-04"


def test_extract_irrelevant_text_has_no_outcomes(tmp_path: Path) -> None:
    page = tmp_path / "bins.txt"
    page.write_text("Bin collections move by one day over the bank holiday weekend.\n")
    (record,) = extract_json(str(page))
    assert record["outcomes"] == []
    assert record["reason"] == "no_ofsted_news"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "Hillside primary school rated outstanding\n\nOfsted inspectors have judged Hillside"
            " Primary School in Leeds outstanding in every area after a two-day inspection.",
            "school",
        ),
        (
            "Council-run children's home in Luton found inadequate\n\nA children's home run by"
            " Luton Borough Council has been rated inadequate by Ofsted after an inspection.",
            "childrens_home",
        ),
        (
            "Join our social work team in Norfolk\n\nWe are looking for experienced social"
            " workers to join Norfolk County Council. Our children's services are rated good by"
            " Ofsted, and we offer a relocation package.",
            "background_rating",
        ),
    ],
    ids=["school", "childrens_home", "background_rating"],
)
def test_extract_says_why_a_page_gave_nothing(text: str, reason: str) -> None:
    (record,) = extract_json("--date", "2024-05-01", "-", stdin=text.encode())
    assert (record["outcomes"], record["reason"]) == ([], reason)
    plain = CliRunner().invoke(cli, ["extract", "-"], input=text.encode())
    assert plain.output.startswith(f"-: article, 0 outcome(s) ({reason})")


def test_extract_gives_no_reason_when_it_finds_an_outcome(tmp_path: Path) -> None:
    page = tmp_path / "story.html"
    page.write_text(content.paper_article(content.SOUTHEND_NEW))
    (record,) = extract_json(str(page))
    assert record["outcomes"] and "reason" not in record


def test_extract_broken_pdf_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    good = tmp_path / "bins.txt"
    good.write_text("Nothing to see here.\n")
    result = CliRunner().invoke(cli, ["extract", "--json", str(bad), str(good)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and str(bad) in errors[0]
    assert '"input": "' + str(good) in result.output


def test_extract_seed_stories(shared_dir: Path) -> None:
    seeds = sorted((shared_dir / "seeds").glob("*.txt"))
    records = extract_json(*map(str, seeds))
    first = {r["input"]: r["outcomes"] for r in records}
    southend = first[str(seeds[4])][0]  # type: ignore[index]
    assert southend["local_authority"] == "Southend-on-Sea" and southend["overall"] == "good"
    focused = first[str(seeds[3])]
    assert [o["event_type"] for o in focused] == ["focused_visit"]  # type: ignore[index]


def test_extract_real_report(shared_dir: Path) -> None:
    (record,) = extract_json(str(shared_dir / "ofsted-reports" / "pdf0009.pdf"))
    (outcome,) = record["outcomes"]  # type: ignore[misc]
    assert outcome["local_authority"] == "Barnsley"
    assert outcome["judgements"]["help_and_protection"] == "requires_improvement"


def test_console_script_runs() -> None:
    script = Path(sys.executable).parent / "ofsted-watch"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "version" in result.stdout


def test_status_and_history_after_a_pass(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "w.db"}"\n')
    runner = CliRunner()
    never = runner.invoke(cli, ["--config", str(config), "status", "--json"])
    assert never.exit_code == 2 and json.loads(never.output)["health"] == "failing"
    assert runner.invoke(cli, ["--config", str(config), "run"]).exit_code == 0
    healthy = runner.invoke(cli, ["--config", str(config), "status"])
    assert healthy.exit_code == 0 and healthy.output.startswith("health: healthy")
    empty = runner.invoke(cli, ["--config", str(config), "history", "Southend"])
    assert empty.exit_code == 0 and "no stored events" in empty.output
    unknown = runner.invoke(cli, ["--config", str(config), "history", "Atlantis"])
    assert unknown.exit_code == 2 and unknown.output.startswith("Error: 'Atlantis'")


def test_extract_council_release_that_names_no_council(tmp_path: Path) -> None:
    page = tmp_path / "release.txt"
    page.write_text(
        "Our children's services rated good\n\n"
        "Ofsted has rated our children's services good, up from requires improvement in 2021."
    )
    assert extract_json(str(page))[0]["outcomes"] == []
    (record,) = extract_json("--council", "Thurrock", str(page))
    (outcome,) = record["outcomes"]  # type: ignore[misc]
    assert outcome["local_authority"] == "Thurrock" and outcome["overall"] == "good"


def test_extract_html_saved_as_pdf_is_other(tmp_path: Path) -> None:
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"<!doctype html><html><body><h1>Report not found</h1></body></html>")
    result = CliRunner().invoke(cli, ["extract", "--json", str(fake)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert f"Warning: {fake}: not a PDF; nothing to extract" in lines
    record = json.loads(next(line for line in lines if line.startswith("{")))
    assert record == {"input": str(fake), "kind": "other", "outcomes": []}


@pytest.mark.parametrize(
    ("flags", "ours", "library"),
    [
        ([], "WARNING", "WARNING"),
        (["-v"], "INFO", "WARNING"),
        (["-vv"], "DEBUG", "WARNING"),
        (["-vvv"], "DEBUG", "DEBUG"),
    ],
)
def test_each_v_adds_a_level_and_libraries_wait_for_the_third(
    flags: list[str], ours: str, library: str
) -> None:
    import logging

    from scheduler.logs import configure_logging

    try:
        result = CliRunner().invoke(cli, [*flags, "sources"])
        assert result.exit_code == 0, result.output
        assert logging.getLevelName(logging.getLogger().level) == ours
        assert logging.getLevelName(logging.getLogger("sqlalchemy").level) == library
        assert logging.getLevelName(logging.getLogger("scrapy").level) == library
    finally:
        configure_logging()  # later tests expect the default levels


def test_an_unavailable_database_is_exit_3_with_one_error_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{blocker / "sub" / "w.db"}"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "status"])
    assert result.exit_code == 3, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
