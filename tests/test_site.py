"""The course's website (tools/build_site.py): the builder's pieces, then every page in a browser.

The browser tests (marked `browser`) open each page in headless Chromium through
Playwright: Debian's /usr/bin/chromium, no browser download. They are skipped, with
the reason, where either is missing; CI installs both (.ci/run). They check the site
in COURSE_SITE_DIR when it is set (tools/test.sh builds it from the smoke run), else
one built here from outputs/smoke/executed. One screenshot of each notebook's first
formula and of its first figure goes to outputs/site-screenshots/.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tools import build_site

REPO = Path(__file__).resolve().parents[1]
SMOKE_EXECUTED = REPO / "outputs" / "smoke" / "executed"
SCREENSHOTS = REPO / "outputs" / "site-screenshots"


def _browser_missing() -> str:
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return ""


skip_without_browser = pytest.mark.skipif(
    bool(_browser_missing()), reason=_browser_missing() or "-"
)


# --------------------------------------------------------------------------- the builder


def test_course_pages_follow_notebooks_and_readme_titles():
    pages = build_site.course_pages((REPO / "README.md").read_text(encoding="utf-8"))
    stems = [p.stem for p in pages]
    assert stems == sorted(p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert pages[3].title == "Variational autoencoders" and pages[3].href.endswith(".html")


def test_links_point_at_pages_the_index_or_the_repository():
    bs4 = pytest.importorskip("bs4")
    soup = bs4.BeautifulSoup(
        '<a href="03_variational_autoencoders.ipynb#The-ELBO">a</a>'
        '<a href="../README.md#profiles-and-outputs">b</a>'
        '<a href="../docs/benchmarks.md">c</a><a href="#here">d</a>'
        '<a href="https://arxiv.org/abs/1312.6114">e</a>'
        f'<img src="{build_site.COLAB_BADGE}">',
        "html.parser",
    )
    build_site.rewrite_links(soup, "notebooks/", {"03_variational_autoencoders"})
    assert [a["href"] for a in soup.find_all("a")] == [
        "03_variational_autoencoders.html#The-ELBO",
        "index.html#profiles-and-outputs",
        build_site.REPOSITORY_URL + "docs/benchmarks.md",
        "#here",
        "https://arxiv.org/abs/1312.6114",
    ]
    assert soup.img["src"] == "_static/colab-badge.svg"


def test_remote_resources_are_found():
    bs4 = pytest.importorskip("bs4")
    soup = bs4.BeautifulSoup(
        '<script src="https://cdn.example/x.js"></script><script src="_static/y.js"></script>'
        '<link rel="stylesheet" href="//cdn.example/a.css"><a href="https://example.org">ok</a>'
        "<style>@font-face { src: url('https://fonts.example/f.woff2') }</style>",
        "html.parser",
    )
    assert len(build_site.remote_resources(soup)) == 3


def test_a_widget_view_becomes_its_first_frame():
    state = {
        "state": {
            "box": {
                "model_name": "VBoxModel",
                "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_i"]},
            },
            "s": {
                "model_name": "FloatSliderModel",
                "state": {"description": "z[0]", "min": -3, "max": 3, "step": 0.05, "value": 0.5},
            },
            "i": {
                "model_name": "ImageModel",
                "state": {"format": "png", "width": "168"},
                "buffers": [{"path": ["value"], "data": "iVBORw0KGgo=", "encoding": "base64"}],
            },
        }
    }
    nb = {
        "metadata": {"widgets": {build_site.WIDGET_STATE: state}},
        "cells": [
            {
                "cell_type": "code",
                "outputs": [
                    {"data": {build_site.WIDGET_VIEW: {"model_id": "box"}, "text/plain": "VBox"}}
                ],
            }
        ],
    }
    prepared = build_site.prepare(nb)
    frame = prepared["cells"][0]["outputs"][0]["data"]["text/html"]
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in frame and 'width="168"' in frame
    assert "z[0]" in frame and "0.50" in frame and "type=range disabled" in frame
    assert "widgets" not in prepared["metadata"] and "widgets" in nb["metadata"]  # a copy


def test_github_slugs():
    assert build_site.github_slug("Profiles and outputs") == "profiles-and-outputs"
    assert build_site.github_slug("Data") == "data"


# --------------------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The folder of a built site: COURSE_SITE_DIR, or one built from the smoke run."""
    given = os.environ.get("COURSE_SITE_DIR")
    if given:
        return Path(given)
    if not list(SMOKE_EXECUTED.glob("*.ipynb")):
        pytest.skip(f"no executed notebooks in {SMOKE_EXECUTED}: run the smoke profile first")
    folder = tmp_path_factory.mktemp("site")
    build_site.build(SMOKE_EXECUTED, folder, allow_missing=True)
    return folder


@pytest.fixture(scope="module")
def server(site):
    """The site over HTTP on 127.0.0.1, as `python -m http.server -d outputs/site` serves it."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Text nodes outside code, outputs' <pre>, scripts and MathJax's own output.
LEFTOVER_MATH = r"""() => {
  const skip = "PRE, CODE, SCRIPT, STYLE, TEXTAREA, MJX-CONTAINER";
  const tex = /\$\$[\s\S]+?\$\$|\$[^$\s][^$]*?\$|\\\(|\\\[|\\begin\{/;
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(skip)) continue;
    if (tex.test(node.textContent)) found.push(node.textContent.trim().slice(0, 120));
  }
  return found;
}"""
BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(image => !image.complete || image.naturalWidth === 0)
  .map(image => image.src.slice(0, 80))"""


PAGES = build_site.course_pages((REPO / "README.md").read_text(encoding="utf-8"))


@pytest.mark.browser
@skip_without_browser
@pytest.mark.parametrize("which", ["index", *(p.stem for p in PAGES)])
def test_page_renders_offline(which, site, server, browser):
    """Formulas typeset, every image loaded, no console error, every link on the site resolves."""
    page_file = site / f"{which}.html"
    assert page_file.exists(), f"{page_file} was not built"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, outside = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url[:100]}"))
    page.on(
        "request",
        lambda request: (
            urlsplit(request.url).scheme in ("http", "https")
            and not request.url.startswith(server)
            and outside.append(request.url)
        ),
    )
    try:
        page.goto(server + page_file.name, wait_until="load")
        loaded = page.evaluate("() => Boolean(window.MathJax && MathJax.startup)")
        assert loaded, f"MathJax did not load: {errors}"
        page.evaluate("MathJax.startup.promise")  # resolves when every formula is typeset
        assert outside == [], "the page fetched from the network"
        assert errors == []
        assert page.evaluate(LEFTOVER_MATH) == [], "math left as raw TeX"
        merrors = page.locator('mjx-merror, [data-mml-node="merror"]')
        assert merrors.count() == 0, "MathJax could not typeset a formula"
        assert page.evaluate(BROKEN_IMAGES) == []
        _check_links(page, site, server)
        if which != "index":
            _screenshots(page, which)
    finally:
        page.close()


def _check_links(page, site, server):
    hrefs = page.eval_on_selector_all("a[href]", "anchors => anchors.map(a => a.href)")
    for href in hrefs:
        if not href.startswith(server):
            continue  # Colab, GitHub, papers: outside the site
        target, fragment = urldefrag(href)
        path = site / (urlsplit(target).path.lstrip("/") or "index.html")
        assert path.is_file(), f"link to a missing page: {href}"
        if fragment:
            ids = _ids(path)
            assert fragment in ids, f"link to a missing anchor: {href}"


@functools.cache
def _ids(path: Path) -> frozenset:
    return frozenset(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))


def _screenshots(page, which):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for kind, selector in (
        ("math", "mjx-container[display='true']"),
        ("figure", ".jp-OutputArea-output img"),
    ):
        element = page.locator(selector).first
        if element.count():
            element.scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -120)")  # some context above it
            page.screenshot(path=str(SCREENSHOTS / f"{which}_{kind}.png"))
