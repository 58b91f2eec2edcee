"""Build the course as a static website from executed notebooks, for reading without Jupyter.

    python tools/build_site.py                                 # from outputs/executed (full run)
    python tools/build_site.py --from outputs/smoke/executed   # what CI builds and checks
    python -m http.server -d outputs/site                      # then open http://localhost:8000

One page per notebook, in the order of notebooks/ (README's course map), each with a
navigation bar, and an index page made from README.md. Every page shows what the
executed notebook stored: the code, its printed output, every figure, the mathematics
(typeset in the browser by MathJax), the Colab badge, and, for each ipywidgets
explorer, its first frame drawn from the widget state the run saved. Links between
notebooks (`NN_name.ipynb`) point at their pages; links to other files of the
repository point at the repository on GitHub.

Why these tools: nbconvert's HTML exporter is how Jupyter itself renders a notebook,
it comes with JupyterLab (nothing new to install) and its lab template gives the
pages JupyterLab's look. The site loads nothing from the network when it is built or
read: the template drops nbconvert's CDN scripts (require.js, the widget renderer,
Mermaid, MathJax), and MathJax 3 — the version JupyterLab 4 renders with — is the
official npm package at a pinned version and checksum, fetched once with `npm pack`
and cached in `outputs/site-cache/` (or given with `--mathjax`). The build fails if a
page would still load anything from the network.

The exit status is 1 if a notebook of the course has no executed copy (its page is
still built, from the stored notebook, with a note), unless `--allow-missing`.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SITE_FILES = REPO / "tools" / "site"
REPOSITORY_URL = "https://github.com/image-synthesis-course/image-synthesis/blob/main/"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
COURSE_TITLE = "Deep learning for image synthesis"

# MathJax 3's single-file build with every TeX package (no extension is loaded later).
MATHJAX_PACKAGE = "mathjax@3.2.2"
MATHJAX_SHA256 = "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"
MATHJAX_FILE = "package/es5/tex-svg-full.js"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@dataclass
class Page:
    stem: str  # "03_variational_autoencoders", or "index"
    number: str  # "03"
    title: str  # "Variational autoencoders"
    href: str  # "03_variational_autoencoders.html"


def course_pages(readme: str) -> list[Page]:
    """The notebooks in course order, titled as in README's course map (else by their H1)."""
    rows = re.findall(r"^\|\s*\d+\s*\|\s*\[([^\]]+)\]\(notebooks/([^)]+)\.ipynb\)", readme, re.M)
    titles = {stem: title for title, stem in rows}
    pages = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        title = titles.get(path.stem) or _first_heading(path) or path.stem
        pages.append(Page(path.stem, path.stem[:2], title, f"{path.stem}.html"))
    return pages


def _first_heading(path: Path) -> str | None:
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            match = re.search(r"^#\s+(?:\d+\s*·\s*)?(.+)$", "".join(cell["source"]), re.M)
            if match:
                return match.group(1).strip()
    return None


# --------------------------------------------------------------------------- MathJax


def mathjax_file(given: Path | None, cache: Path) -> Path:
    """MathJax's tex-svg-full.js: the one given, the cached one, or one fetched with npm."""
    if given is not None:
        if not given.is_file():
            raise SystemExit(f"--mathjax {given}: no such file")
        return given
    tarball = cache / f"{MATHJAX_PACKAGE.replace('@', '-')}.tgz"
    if not tarball.exists() or _sha256(tarball) != MATHJAX_SHA256:
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit(
                f"MathJax is needed and npm is not installed: install npm (Node.js), or pass "
                f"--mathjax PATH to es5/tex-svg-full.js of {MATHJAX_PACKAGE}"
            )
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run(
                [npm, "pack", MATHJAX_PACKAGE, "--silent", "--pack-destination", folder],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            (fetched,) = Path(folder).glob("*.tgz")
            shutil.move(str(fetched), tarball)
    digest = _sha256(tarball)
    if digest != MATHJAX_SHA256:
        raise SystemExit(f"{tarball}: SHA-256 {digest}, expected {MATHJAX_SHA256}")
    target = cache / "tex-svg-full.js"
    if not target.exists():
        with tarfile.open(tarball) as archive:
            for name, out in ((MATHJAX_FILE, target), ("package/LICENSE", cache / "LICENSE")):
                out.write_bytes(archive.extractfile(name).read())
    return target


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- widgets


def widget_html(view: dict, state: dict) -> str | None:
    """Static HTML of a widget's first frame from the saved widget state, or None if absent.

    The course's explorers use only boxes, HTML, images and sliders (course_lib.widgets);
    other widgets show their description and value as text.
    """
    models = state.get("state", {})
    if view.get("model_id") not in models:
        return None

    def draw(model_id: str) -> str:
        model = models.get(model_id.removeprefix("IPY_MODEL_"))
        if model is None:
            return ""
        name, values = model["model_name"], model.get("state", {})
        if name in ("VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel"):
            kind = "hbox" if name == "HBoxModel" else "vbox"
            children = "".join(draw(child) for child in values.get("children", []))
            return f'<div class="{kind}">{children}</div>'
        if name in ("HTMLModel", "HTMLMathModel"):
            return f"<div>{values.get('value', '')}</div>"
        if name == "LabelModel":
            return f"<div>{html.escape(str(values.get('value', '')))}</div>"
        if name == "ImageModel":
            buffers = {tuple(b["path"]): b["data"] for b in model.get("buffers", [])}
            data = buffers.get(("value",))
            if data is None:
                return ""
            size = "".join(
                f' {key}="{html.escape(str(values[key]))}"'
                for key in ("width", "height")
                if values.get(key)
            )
            source = f"data:image/{html.escape(values.get('format', 'png'))};base64,{data}"
            return f'<img alt="the explorer\'s image" src="{source}"{size}>'
        description = html.escape(str(values.get("description", "")))
        value = values.get("value", "")
        if name in ("FloatSliderModel", "IntSliderModel", "FloatLogSliderModel"):
            readout = _readout(value, values.get("readout_format") or ".2f", name)
            return (
                f"<label>{description} <input type=range disabled min={values.get('min', 0)} "
                f"max={values.get('max', 1)} step={values.get('step', 1)} value={value}> "
                f"{readout}</label>"
            )
        return f"<div>{description} {html.escape(str(value))}</div>"

    caption = (
        '<p class="course-widget-caption">Interactive in JupyterLab or Colab: '
        "here, its first frame.</p>"
    )
    return f'<div class="course-widget">{caption}{draw(view["model_id"])}</div>'


def _readout(value, spec: str, name: str) -> str:
    try:
        return format(value, "d" if name == "IntSliderModel" else spec)
    except (TypeError, ValueError):
        return html.escape(str(value))


def prepare(nb: dict) -> dict:
    """A copy of the notebook ready for the exporter: widget views replaced by their first frame."""
    nb = copy.deepcopy(nb)
    state = nb.get("metadata", {}).pop("widgets", {}).get(WIDGET_STATE, {})
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                continue
            frame = widget_html(data[WIDGET_VIEW], state)
            if frame is None:
                frame = (
                    '<p class="course-widget-caption">An interactive widget: run this notebook '
                    "in JupyterLab or Colab to use it.</p>"
                )
            output["data"] = {"text/html": frame}
    return nb


# --------------------------------------------------------------------------- links and checks


def github_slug(text: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def rewrite_links(soup, base: str, site_stems: set[str]) -> None:
    """Point links and images at the site: notebooks to pages, README to the index, files to GitHub.

    `base`: the folder, relative to the repository root, that the page's relative links
    start from ("notebooks/" for a notebook, "" for README).
    """
    for anchor in soup.find_all("a", href=True):
        href = anchor["href"]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("#", "mailto:")):
            continue
        path = _normalise(base + parts.path)
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        stem = Path(path).stem
        if path.startswith("notebooks/") and path.endswith(".ipynb") and stem in site_stems:
            anchor["href"] = f"{stem}.html{fragment}"
        elif path == "README.md":
            anchor["href"] = f"index.html{fragment}"
        else:
            anchor["href"] = REPOSITORY_URL + path + fragment
    for image in soup.find_all("img", src=True):
        if image["src"] == COLAB_BADGE:
            image["src"] = "_static/colab-badge.svg"


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def remote_resources(soup) -> list[str]:
    """Every URL the page would fetch from the network: scripts, styles, images, fonts, frames."""
    found = []
    for tag, attribute in (
        ("script", "src"),
        ("link", "href"),
        ("img", "src"),
        ("iframe", "src"),
        ("source", "src"),
        ("video", "src"),
        ("audio", "src"),
        ("embed", "src"),
        ("object", "data"),
    ):
        for element in soup.find_all(tag):
            url = element.get(attribute) or ""
            if tag == "link" and not {"stylesheet", "icon", "preload", "modulepreload"} & set(
                element.get("rel") or []
            ):
                continue
            if re.match(r"^(https?:)?//", url):
                found.append(f"<{tag} {attribute}={url}>")
    for style in soup.find_all("style"):
        found += [
            f"CSS {url}"
            for url in re.findall(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", style.text)
        ]
        found += [
            f"CSS @import {url}"
            for url in re.findall(r"@import\s+['\"]((?:https?:)?//[^'\"]+)", style.text)
        ]
    return found


# --------------------------------------------------------------------------- the build


def build(source: Path, out: Path, mathjax: Path | None = None, allow_missing: bool = False) -> int:
    """Build the site from the executed notebooks in `source` into `out`; return the exit status."""
    import nbformat
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    started = time.perf_counter()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    pages = course_pages(readme)
    stems = {page.stem for page in pages}
    script = mathjax_file(mathjax, REPO / "outputs" / "site-cache")

    if out.exists():
        if any(out.iterdir()) and not (out / "index.html").exists():
            raise SystemExit(f"{out} is not empty and holds no site: refusing to replace it")
        shutil.rmtree(out)
    static = out / "_static"
    shutil.copytree(SITE_FILES / "static", static)
    (static / "mathjax").mkdir()
    shutil.copy(script, static / "mathjax" / "tex-svg-full.js")
    if (script.parent / "LICENSE").exists():
        shutil.copy(script.parent / "LICENSE", static / "mathjax" / "LICENSE")

    exporter = HTMLExporter(
        template_name="course", extra_template_basedirs=[str(SITE_FILES / "templates")]
    )
    missing, problems = [], []
    index = Page("index", "", COURSE_TITLE, "index.html")
    for position, page in enumerate([index, *pages]):
        notes = []
        if page is index:
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(readme)])
            base = ""
        else:
            executed = source / f"{page.stem}.ipynb"
            if executed.exists():
                nb = nbformat.read(executed, as_version=4)
            else:
                missing.append(page.stem)
                nb = nbformat.read(NOTEBOOKS / f"{page.stem}.ipynb", as_version=4)
                notes.append("This notebook has not been run yet: the page shows its code only.")
            profile = nb.metadata.get("papermill", {}).get("parameters", {}).get("PROFILE")
            if profile == "smoke":
                notes.append(
                    "A smoke run: tiny data and one or two epochs, to prove the notebook runs. "
                    "Its figures make no claim about quality; the full profile is what a "
                    "learner runs."
                )
            base = "notebooks/"
        nb = nbformat.from_dict(prepare(nb))
        resources = {
            "metadata": {"name": f"{page.number} · {page.title}" if page.number else page.title},
            "course": {
                "title": COURSE_TITLE,
                "pages": pages,
                "current": page.stem,
                "previous": ([index, *pages][position - 1] if position > 0 else None),
                "next": pages[position] if position < len(pages) else None,
                "notes": notes,
            },
        }
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        soup = BeautifulSoup(body, "html.parser")
        rewrite_links(soup, base, stems)
        if page is index:
            _github_heading_ids(soup)
        problems += [f"{page.href}: {url}" for url in remote_resources(soup)]
        figures = sum(
            "image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])
        )
        shown = len(soup.select('img[src^="data:image/png"]'))
        if shown < figures:
            problems.append(f"{page.href}: {figures} figures in the notebook, {shown} on the page")
        (out / page.href).write_text(str(soup), encoding="utf-8")

    if problems:
        raise SystemExit("pages that are not self-contained:\n" + "\n".join(problems))
    print(f"{len(pages) + 1} pages in {out} ({time.perf_counter() - started:.1f} s) from {source}")
    if missing:
        print(f"no executed copy in {source} of: {', '.join(missing)}", file=sys.stderr)
        return 0 if allow_missing else 1
    return 0


def _github_heading_ids(soup) -> None:
    """Give the index page's headings GitHub's anchors, which README's own links use."""
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        if not heading.get("id"):
            continue
        link = heading.find("a", class_="anchor-link")
        text = heading.get_text().removesuffix(link.get_text() if link else "")
        heading["id"] = github_slug(text)
        if link is not None:
            link["href"] = f"#{heading['id']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=REPO / "outputs" / "executed",
        help="the folder of executed notebooks (default: outputs/executed, the full run)",
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "outputs" / "site", help="default: outputs/site"
    )
    parser.add_argument("--mathjax", type=Path, help=f"es5/tex-svg-full.js of {MATHJAX_PACKAGE}")
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="exit 0 even if some notebook has no executed copy",
    )
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        parser.error(f"--from {args.source}: no such folder (run the notebooks first)")
    return build(args.source, args.out, args.mathjax, args.allow_missing)


if __name__ == "__main__":
    sys.exit(main())
