"""Where the `.tcss` stylesheets are: the repository's top-level `styles/` in a checkout (editable install),
or `omk_tui/styles/` in an installed wheel. In the source tree `omk_tui/styles` is a symlink to `../styles`, so
setuptools' `package-data` (`styles/*.tcss`) copies the real files into the wheel and the sdist."""

from __future__ import annotations

from pathlib import Path

STYLESHEETS = ("app.tcss", "dashboard.tcss", "screens.tcss")


def styles_dir() -> Path:
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "styles", here.parents[1] / "styles"):
        if (candidate / STYLESHEETS[0]).is_file():
            return candidate
    raise FileNotFoundError(
        f"omk-tui stylesheets not found (looked in {here.parents[2] / 'styles'} and {here.parents[1] / 'styles'}); "
        "reinstall omk-tui"
    )


def stylesheet_paths() -> list[Path]:
    d = styles_dir()
    return [d / name for name in STYLESHEETS]
