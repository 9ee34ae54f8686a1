"""The HTML report: self-contained, in the chosen language, suppression and redaction kept.

The fixture is a hand-made classified frame (no model needed): 30 respondents in three
regions, one of which ("islands") has only 3 respondents and must be suppressed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from textmine._html import STRINGS_PATH, render_html
from textmine.codebook import load_codebook
from textmine.summary import Summary, summarize

THEMES = ["processing_time", "reachability", "fees", "praise"]
EMAIL = "anna.virtanen@example.com"
SCRIPT = "<script>alert('x')</script>"
LABELS_FI = ["Käsittelyn nopeus", "Tavoitettavuus", "Maksut ja kustannukset", "Myönteinen palaute"]
LABELS_SV = ["Handläggningens snabbhet", "Nåbarhet", "Avgifter och kostnader", "Positiv respons"]
LABELS_EN = ["Processing speed", "Reachability", "Fees and costs", "Positive feedback"]

TEXTS = {
    "fi": ["Käsittely kesti liian kauan, odotin kuusi kuukautta.", "Puhelimeen ei vastata koskaan.",
           "Hakemusmaksu on liian kallis opiskelijalle.", "Kiitos, palvelu oli hyvää."],
    "en": ["The decision took far too long.", "Nobody answers the phone or e-mails.",
           "The fee is too high for a family.", "Great service, thank you."],
    "sv": ["Handläggningen tog för lång tid.", "Ingen svarar i telefon.",
           "Avgiften är för hög.", "Tack för bra service."],
}


def make_tagged() -> pd.DataFrame:
    """30 classified answers; region 'islands' has 3 respondents (under min_cell=5)."""
    n = 30
    region = ["north"] * 13 + ["south"] * 14 + ["islands"] * 3
    group = ["a" if i % 2 else "b" for i in range(n)]
    langs = (["fi", "en", "fi", "sv", "en"] * 6)[:n]
    langs[-4] = ""  # one empty answer
    overall = ["4", "5", "3", "4", "5", "2", "4", "EOS", "3", "5", "4", "4", "3", "5", "4", "2", "3", "4", "5", "4",
               "3", "4", "5", "4", "3", "4", "4", "1", "1", "2"]
    speed = [""] * n
    speed[0], speed[1], speed[2] = "3", "4", "5"  # only 3 answers: suppressed
    rows = []
    for i in range(n):
        lg = langs[i]
        flags = {t: 0 for t in THEMES}
        theme = THEMES[i % 4]
        if lg:
            flags[theme] = 1
            if i % 5 == 0 and theme != "processing_time":
                flags["processing_time"] = 1
        text = TEXTS[lg][THEMES.index(theme)] + f" ({i})" if lg else ""
        rows.append({
            "respondent": f"R{i:03d}", "region": region[i], "group": group[i], "overall": overall[i],
            "speed": speed[i], "answer": text, "lang": lg,
            "themes": "|".join(t for t in THEMES if flags[t]),
            **flags,
            **{f"p_{t}": (0.6 + (i % 7) / 20 if flags[t] else 0.05 + (i % 3) / 20) for t in THEMES},
            "confidence": 0.7, "needs_review": i % 6 == 0,
        })
    df = pd.DataFrame(rows)
    # The most confident answer for processing_time carries an e-mail address and markup:
    # the report must redact and escape it.
    df.loc[0, "answer"] = f"Odotin kuusi kuukautta, kirjoittakaa osoitteeseen {EMAIL} {SCRIPT}"
    df.loc[0, "p_processing_time"] = 0.99
    return df


@pytest.fixture(scope="module")
def tagged() -> pd.DataFrame:
    return make_tagged()


@pytest.fixture(scope="module")
def summary(tagged: pd.DataFrame) -> Summary:
    s = summarize(tagged, text_col="answer", min_cell=5)
    assert s.meta["scores"] == ["overall", "speed"]
    assert set(s.meta["segments"]) == {"region", "group"}
    return s


@pytest.fixture(scope="module")
def pages(summary: Summary, tagged: pd.DataFrame) -> dict[str, str]:
    cb = load_codebook()
    return {lang: render_html(summary, tagged, codebook=cb, lang=lang, quotes=2, text_col="answer")
            for lang in ("fi", "sv", "en")}


def overall_mean(summary: Summary, decimal: str) -> str:
    row = summary.scores.set_index("score").loc["overall"]
    return f"{row['mean']:.2f}".replace(".", decimal)


class Tables(HTMLParser):
    """Collects each table as rows of (cell text, cell class)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[tuple[str, str]]]] = []
        self._cell: list[str] | None = None
        self._cls = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell, self._cls = [], dict(attrs).get("class") or ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(("".join(self._cell).strip(), self._cls))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(page: str) -> list[list[list[tuple[str, str]]]]:
    parser = Tables()
    parser.feed(page)
    return parser.tables


# -- fast tests ---------------------------------------------------------------------------
def test_strings_have_the_same_keys_in_every_language():
    with open(STRINGS_PATH, "rb") as fh:
        strings = tomllib.load(fh)
    assert set(strings) == {"fi", "sv", "en"}

    def keys(d: dict, prefix: str = "") -> set[str]:
        out = set()
        for k, v in d.items():
            out |= keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}"}
        return out

    assert keys(strings["fi"]) == keys(strings["sv"]) == keys(strings["en"])
    for lang, table in strings.items():
        for key, value in table.items():
            assert value not in ("", None), (lang, key)


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_page_is_self_contained(pages: dict[str, str], lang: str):
    page = pages[lang]
    assert page.startswith("<!DOCTYPE html>")
    assert f'<html lang="{lang}">' in page
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert "<link" not in page.lower() and "@import" not in page
    for ref in re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)""", page, flags=re.I):
        assert ref.startswith(("#", "data:")), ref
    for ref in re.findall(r"url\(([^)]*)\)", page):
        assert ref.strip("'\" ").startswith(("#", "data:")), ref
    assert page.count("<svg") >= 4  # scores, a chart per segment, themes, impact
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids repeat across the inline charts"


def test_headline_figures_per_language(pages: dict[str, str], summary: Summary):
    assert summary.meta["n_respondents"] == 30
    fi, en = overall_mean(summary, ","), overall_mean(summary, ".")
    assert re.fullmatch(r"\d,\d\d", fi)
    assert fi in pages["fi"] and fi in pages["sv"] and en in pages["en"]
    assert en not in pages["fi"].split("<svg")[0]  # no decimal point in the Finnish text
    for page in pages.values():
        assert ">30<" in page  # the respondents key figure
    assert "Kyselyyn vastasi 30 henkilöä" in pages["fi"]
    assert "30 personer svarade" in pages["sv"]
    assert "30 people answered" in pages["en"]
    assert f"overall is {en} (95% CI" in pages["en"]
    row = summary.scores.set_index("score").loc["overall"]
    ci_fi = f"{row['ci_low']:.2f}–{row['ci_high']:.2f}".replace(".", ",")
    assert ci_fi in pages["fi"]


def test_theme_labels_in_the_chosen_language(pages: dict[str, str]):
    for label in LABELS_FI:
        assert label in pages["fi"]
    for label in LABELS_SV:
        assert label in pages["sv"]
    for label in LABELS_EN:
        assert label in pages["en"]
    for label in LABELS_EN:
        assert label not in pages["fi"] and label not in pages["sv"]
    # the top themes in the headline sentence
    headline = re.search(r'<p class="headline">(.*?)</p>', pages["fi"]).group(1)
    assert "Käsittelyn nopeus" in headline and " ja " in headline


def test_suppressed_cells_show_the_marker_never_a_number(pages: dict[str, str], summary: Summary, tagged: pd.DataFrame):
    small = tagged[tagged["region"] == "islands"]
    assert len(small) == 3
    true_mean = pd.to_numeric(small["overall"]).mean()
    hidden = f"{true_mean:.2f}".replace(".", ",")  # 1,33
    assert hidden not in pages["fi"]
    page = pages["fi"]
    marker = "n&lt;5"
    # the segment chart: the value is labelled with the marker and has no figure
    assert "islands (n&lt;5)" in page
    # the heat map: every cell of the islands column is the marker
    heat = [t for t in tables(page) if any(text == "islands" for text, _ in t[0])]
    assert len(heat) == 1
    col = [text for text, _ in heat[0][0]].index("islands")
    body = heat[0][1:]
    assert len(body) == 1 + len(THEMES)  # answers row + one row per theme
    for row in body:
        text, cls = row[col]
        assert text == "n<5" and "sup" in cls
    # every suppressed cell anywhere holds only the marker
    for table in tables(page):
        for row in table:
            for text, cls in row:
                if "sup" in cls.split():
                    assert text == "n<5"
    # the score with only 3 answers: its row in the scores table is suppressed
    scores = [t for t in tables(page) if t[0][0][0] == "Mittari"][0]
    speed = [r for r in scores if r[0][0] == "speed"][0]
    assert [text for text, _ in speed[1:5]] == ["n<5"] * 4
    assert marker in page.split('<svg')[1]  # and the scores chart writes the marker instead of a bar


def test_quotes_are_redacted_escaped_and_most_confident_first(pages: dict[str, str]):
    for page in pages.values():
        assert EMAIL not in page and "anna.virtanen" not in page
        assert "alert(" not in page or "&lt;script&gt;" in page
        assert "<script" not in page
        quotes = re.findall(r"<blockquote[^>]*>(.*?)</blockquote>", page, flags=re.S)
        assert quotes, "no example answers"
        assert any("&lt;EMAIL&gt;" in q for q in quotes)
        # the planted answer is the most confident processing_time answer: first quote of the theme
        assert "&lt;EMAIL&gt;" in quotes[0]
        assert 'lang="fi"' in page and '<span class="lang"' in page
    # quotes=2: at most two per theme
    fi = pages["fi"]
    blocks = re.findall(r'<div class="quotes">(.*?)</div>', fi, flags=re.S)
    assert blocks and all(1 <= b.count("<blockquote") <= 2 for b in blocks)


def test_languages_review_and_method(pages: dict[str, str], summary: Summary):
    en = pages["en"]
    assert "classified.csv" in en and "needs_review" in en
    assert f"{summary.meta['n_needs_review']} open answers" in en
    assert "Finnish" in en and "Swedish" in en
    assert "suomi" in pages["fi"] and "ruotsi" in pages["fi"]
    assert "Cells with fewer than 5 respondents are not shown" in en
    assert "eos" in en.lower() and "en osaa sanoa" in en  # the don't-know codes
    assert "No model information was available." in en


def test_model_card_figures(summary: Summary, tagged: pd.DataFrame):
    card = {"textmine_version": "9.9.9", "created": "2026-03-04T10:00:00+00:00",
            "codebook": {"version": 1, "hash": "abc", "name": "Test codebook"},
            "thresholds": {t: 0.35 for t in THEMES},
            "cv_metrics": {"micro_f1": 0.7725, "macro_f1": 0.6928,
                           "per_theme": {t: {"f1": 0.81} for t in THEMES}}}
    s = summarize(tagged, text_col="answer", min_cell=5, model_card=card)
    fi = render_html(s, tagged, lang="fi", quotes=0)
    assert "textmine 9.9.9" in fi and "4.3.2026" in fi and "Test codebook" in fi
    assert "mikro-F1 0,77" in fi and "makro-F1 0,69" in fi
    assert "0,35" in fi and "0,81" in fi
    assert "<blockquote" not in fi  # quotes=0
    en = render_html(s, tagged, lang="en", quotes=0)
    assert "micro-F1 0.77" in en and "4 March 2026" in en


def test_everything_suppressed(summary: Summary, tagged: pd.DataFrame):
    s = summarize(tagged, text_col="answer", min_cell=100)
    page = render_html(s, tagged, lang="en", codebook=load_codebook())
    assert "The mean of overall is not shown (fewer than 100 answers)." in page
    assert "Theme counts are not shown (fewer than 100 respondents)." in page
    assert overall_mean(summary, ".") not in page
    assert "<blockquote" not in page  # no quotes for themes whose counts are hidden
    for table in tables(page):
        for row in table[1:]:
            for text, cls in row:
                if "sup" in cls.split():
                    assert text == "n<100"


def test_defaults_and_bad_language(summary: Summary, tagged: pd.DataFrame):
    page = render_html(summary, tagged, lang=None, quotes=None, text_col=None)  # settings: en, 3 quotes
    assert '<html lang="en">' in page
    blocks = re.findall(r'<div class="quotes">(.*?)</div>', page, flags=re.S)
    assert max(b.count("<blockquote") for b in blocks) == 3
    with pytest.raises(ValueError, match="language"):
        render_html(summary, tagged, lang="de")


def test_write_report_writes_the_page(summary: Summary, tagged: pd.DataFrame, tmp_path: Path):
    from textmine.report import write_report

    paths = write_report(summary, tagged, tmp_path / "out", codebook=load_codebook(), lang="sv", text_col="answer")
    page = paths["report.html"].read_text(encoding="utf-8")
    assert '<html lang="sv">' in page and overall_mean(summary, ",") in page


# -- the page in a real browser -------------------------------------------------------------
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _require_chromium() -> str:
    """The browser, or a skip (a failure under CI, where .ci/run installs it)."""
    binary = _chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed")
    return binary


def _run_chromium(binary: str, page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *extra, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.slow
def test_page_renders_in_headless_chromium(pages: dict[str, str], summary: Summary, tmp_path: Path):
    binary = _require_chromium()
    page = tmp_path / "report.html"
    page.write_text(pages["fi"], encoding="utf-8")
    png = tmp_path / "report.png"
    shot = _run_chromium(binary, page, tmp_path / "profile1", f"--screenshot={png}", "--window-size=1200,3000")
    assert png.exists(), shot.stderr[-2000:]
    assert png.stat().st_size > 10_000
    dom = _run_chromium(binary, page, tmp_path / "profile2", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Kyselyyn vastasi 30 henkilöä" in dom.stdout
    assert overall_mean(summary, ",") in dom.stdout
    assert "Käsittelyn nopeus" in dom.stdout
    for run in (shot, dom):
        for line in run.stderr.splitlines():
            assert "Uncaught" not in line, line
            assert "Failed to load resource" not in line, line


# Chromium's own service hosts (update checks, accounts) that it contacts whatever the page.
_BROWSER_HOSTS = re.compile(r"(^|\.)(google\.com|googleapis\.com|gstatic\.com|gvt1\.com)$")


def _requested_hosts(binary: str, page: Path, tmp_path: Path, name: str) -> set[str]:
    log = tmp_path / f"{name}.netlog.json"
    _run_chromium(binary, page, tmp_path / f"profile-{name}", f"--log-net-log={log}", "--dump-dom")
    hosts = set(re.findall(r'"url":"[a-z]+://([^"/:]+)', log.read_text(encoding="utf-8", errors="ignore")))
    return {h for h in hosts if not _BROWSER_HOSTS.search(h)}


@pytest.mark.slow
def test_no_request_leaves_the_file(pages: dict[str, str], tmp_path: Path):
    binary = _require_chromium()
    control = tmp_path / "control.html"
    control.write_text('<img src="http://textmine-probe.invalid/x.png">', encoding="utf-8")
    assert "textmine-probe.invalid" in _requested_hosts(binary, control, tmp_path, "control")  # the log sees requests
    page = tmp_path / "report.html"
    page.write_text(pages["en"], encoding="utf-8")
    assert _requested_hosts(binary, page, tmp_path, "report") == set()
