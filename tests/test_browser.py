"""The generated pages in a real browser: they render, log no error, and run no student script.

Builds reports for hand-made GradeResults (a strong submission with realistic
measured data, and a hostile one whose output, name and messages carry
script and ``onerror`` payloads), opens them in headless Chromium
(Debian's ``chromium``; ``.ci/run`` installs it), and checks the screenshot,
the DOM after scripts ran, and the console log. Skipped, with the reason,
only when no Chromium is installed.

Set ACCELGRADE_SCREENSHOT_DIR to keep the screenshots for a human to look at.
"""
from __future__ import annotations

import importlib.util
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader.models import FLAG_TAMPERING, GradeResult
from grader.reports import OutputFolder, write_selfcheck

# The realistic results live with the report tests; loaded by path so this works
# whatever pytest's import mode is.
_spec = importlib.util.spec_from_file_location("_report_fixtures", Path(__file__).with_name("test_reports.py"))
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

PWNED = "PWNED"
SCRIPT_PAYLOAD = "<script>document.title='PWNED'</script>"
IMG_PAYLOAD = "<img src=x onerror=\"document.title='PWNED'\">"
PAYLOAD = SCRIPT_PAYLOAD + IMG_PAYLOAD


def find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium found (/usr/bin/chromium, or chromium on PATH); .ci/run installs Debian's chromium",
)


# ---------------------------------------------------------------- the pages under test

def hostile_result() -> GradeResult:
    """Measured data like a real run, with student-controlled text everywhere it can reach."""
    result = _fixtures.measured_result()
    sub = result.submission
    sub.student, sub.display_name = "mallory_666", "Mallory " + IMG_PAYLOAD
    result.stdout = f"hello\n{SCRIPT_PAYLOAD}\n{IMG_PAYLOAD}\n"
    result.stderr = "Traceback: " + PAYLOAD
    result.messages = ["note from the file: " + PAYLOAD]
    result.flags = [FLAG_TAMPERING]
    speed = _fixtures._item_by_id(result, "speed.fused_gelu")
    speed.output = "raised ValueError: " + PAYLOAD
    speed.hint = "try " + SCRIPT_PAYLOAD
    speed.score, speed.status = 0.0, "failed"
    speed.flags = [FLAG_TAMPERING]
    speed.data["flag_reasons"] = {FLAG_TAMPERING: "student: " + PAYLOAD}
    speed.data["what"] = "what " + PAYLOAD  # reaches an SVG <desc>
    speed.data["speed"]["seconds_per_call"] = {IMG_PAYLOAD: {"student": 0.1, "baseline": 0.2}}
    roof = _fixtures._item_by_id(result, "roofline.measured_predict")
    roof.data["points"][3]["name"] = "gelu " + SCRIPT_PAYLOAD  # reaches SVG <text> and <title>
    memory = _fixtures._item_by_id(result, "memory.fused_gelu")
    memory.data["memory"]["student"]["dtype"] = IMG_PAYLOAD
    result.score = 34.0
    return result


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    strong, hostile = _fixtures.measured_result(), hostile_result()
    folder = OutputFolder(out)
    for r in (strong, hostile):
        folder.write_student(r)
    folder.publish([strong, hostile], "Acceleration", 41, _fixtures.MACHINE, 1, {})
    for r in (strong, hostile):
        write_selfcheck(r, out / r.submission.student / "self-check.html")
    return out


# ---------------------------------------------------------------- running Chromium

@dataclass
class Page:
    dom: str
    png: bytes
    console: list[str]  # console messages and uncaught errors the browser logged


def _console_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if ":CONSOLE" in line or "CONSOLE(" in line or "Uncaught" in line]


def open_in_chromium(url: str, work: Path, name: str) -> Page:
    """Load ``url`` once: screenshot, DOM after scripts ran, console messages (from the log)."""
    assert CHROMIUM
    work.mkdir(parents=True, exist_ok=True)
    png = work / f"{name}.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", f"--user-data-dir={work / ('profile-' + name)}",
           f"--screenshot={png}", "--window-size=1200,2000", "--dump-dom",
           "--enable-logging=stderr", "--v=0", url]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, "HOME": str(work)})
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"chromium did not finish loading {url} within 120 s: {exc}")
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    assert png.exists(), f"chromium wrote no screenshot:\n{proc.stderr[-3000:]}"
    keep = os.environ.get("ACCELGRADE_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, Path(keep) / png.name)
    return Page(proc.stdout, png.read_bytes(), _console_lines(proc.stderr))


def decode_png(data: bytes) -> np.ndarray:
    """RGB(A) pixels of the screenshot Chromium wrote."""
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG", image.format
        return np.asarray(image.convert("RGBA") if image.mode not in ("RGB", "RGBA") else image)


def _document_title(dom: str) -> str:
    found = re.search(r"<title>(.*?)</title>", dom, re.DOTALL)  # the first one is the document's
    return found.group(1) if found else ""


def _assert_rendered(page: Page, headings: list[str]) -> np.ndarray:
    pixels = decode_png(page.png)
    assert pixels.shape[:2] == (2000, 1200)
    rgb = pixels[:, :, :3].astype(np.uint32)
    colours = np.unique((rgb[:, :, 0] << 16) | (rgb[:, :, 1] << 8) | rgb[:, :, 2])  # one number per colour
    assert len(colours) > 1, "the screenshot is blank"
    assert len(colours) > 20, f"only {len(colours)} colours: hardly a rendered page"
    ink = (pixels[:, :, :3] != 255).any(axis=2).mean()
    assert ink > 0.01, f"only {ink:.2%} of the screenshot is not white"
    for heading in headings:
        assert heading in page.dom, heading
    assert "<svg" in page.dom
    # An injected script would have set the title to exactly this (the name may hold it as text).
    assert _document_title(page.dom) != PWNED and _document_title(page.dom).startswith("Acceleration")
    assert page.console == [], "the page logged console messages:\n" + "\n".join(page.console)
    return pixels


def _has_colour(pixels: np.ndarray, rgb: tuple[int, int, int]) -> bool:
    return bool((pixels[:, :, :3] == np.array(rgb, dtype=np.uint8)).all(axis=2).any())


# ---------------------------------------------------------------- tests

@needs_chromium
def test_browser_detects_script_and_errors(tmp_path: Path) -> None:
    """Control: an unescaped payload does run and an error is logged, so the checks below can fail."""
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><head><title>ok</title></head><body><h1>x</h1>{SCRIPT_PAYLOAD}"
                       "<script>undefinedFunction();</script></body></html>")
    page = open_in_chromium(control.as_uri(), tmp_path, "control")
    assert _document_title(page.dom) == PWNED
    assert any("Uncaught" in line for line in page.console), page.console


@needs_chromium
def test_report_renders_in_chromium(site: Path, tmp_path: Path) -> None:
    page = open_in_chromium((site / "lovelace_10001" / "report.html").as_uri(), tmp_path, "report-strong")
    pixels = _assert_rendered(page, ["Acceleration: lovelace", "By category", "Performance on the grading machine",
                                     "Speed", "Memory", "Roofline", "Checks", "Grading machine"])
    assert page.dom.count('class="chart speed"') == 5 and "mk-measured" in page.dom
    # The charts were painted: the submission's blue and the reference's orange are on screen.
    assert _has_colour(pixels, (0x09, 0x69, 0xDA)) and _has_colour(pixels, (0xBC, 0x4C, 0x00))


@needs_chromium
def test_hostile_report_runs_no_student_script(site: Path, tmp_path: Path) -> None:
    page = open_in_chromium((site / "mallory_666" / "report.html").as_uri(), tmp_path, "report-hostile")
    _assert_rendered(page, ["Flags, in plain words", "Checks", "stdout", "Roofline"])
    assert _document_title(page.dom).startswith("Acceleration: Mallory")
    # The payloads are on the page as text, not as elements.
    assert "&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in page.dom
    assert "&lt;img src=x onerror=" in page.dom
    # In the serialised DOM "<" in text is "&lt;", so any "<img" or "<x onerror=" is a real element.
    assert "<img" not in page.dom and "<script" not in page.dom
    assert not re.search(r"<[a-zA-Z][^>]*\sonerror\s*=", page.dom)


@needs_chromium
def test_index_renders_and_sorts_in_chromium(site: Path, tmp_path: Path) -> None:
    page = open_in_chromium((site / "index.html").as_uri(), tmp_path, "index")
    _assert_rendered(page, ["Acceleration: class summary", "Needs a human look", "Scores", "Students", "Checks"])
    assert 'class="chart histogram"' in page.dom
    assert 'data-sortable="on"' in page.dom  # the sort script ran, allowed by the page's CSP
    assert "<img" not in page.dom
    # Flagged first without sorting; "#sort=score-desc" puts the best score first.
    rows = re.findall(r'<tr data-order="\d+"[^>]*>\s*<td>([^<]*)</td>', page.dom)
    assert rows[0].startswith("Mallory") and rows[1] == "lovelace"
    page = open_in_chromium((site / "index.html").as_uri() + "#sort=score-desc", tmp_path, "index-sorted")
    rows = re.findall(r'<tr data-order="\d+"[^>]*>\s*<td>([^<]*)</td>', page.dom)
    assert rows[0] == "lovelace" and rows[1].startswith("Mallory")
    assert 'aria-sort="descending"' in page.dom
    assert page.console == []


@needs_chromium
def test_selfcheck_renders_in_chromium(site: Path, tmp_path: Path) -> None:
    page = open_in_chromium((site / "mallory_666" / "self-check.html").as_uri(), tmp_path, "selfcheck")
    _assert_rendered(page, ["self-check", "Checks", "Roofline"])
    assert page.dom.count('class="chart speed"') == 4  # the hidden speed check is not shown


EXTERNAL = re.compile(r'(src|href)="https?://')  # the acceptance criterion's grep -E, verbatim
EXTERNAL_LOOSE = re.compile(r"""(?:src|href|xlink:href|action)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//""",
                            re.IGNORECASE)


def test_no_page_links_to_the_network(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 5  # index, 2 reports, 2 self-checks
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert not EXTERNAL.search(text), (path, EXTERNAL.search(text))
        assert not EXTERNAL_LOOSE.search(text), (path, EXTERNAL_LOOSE.search(text))
        assert "@import" not in text
