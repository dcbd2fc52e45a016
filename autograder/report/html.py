"""The feedback report as one self-contained HTML file: inline CSS, base64 PNG plots."""
from __future__ import annotations

import base64
import html

from .build import FunctionSection

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;margin:2em auto;color:#212529;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}.sub{color:#666;margin-top:0}
table.scores{border-collapse:collapse;margin:1em 0;width:100%}
.scores td,.scores th{border-bottom:1px solid #dee2e6;padding:.3em .6em;text-align:left}
.scores td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{color:#2b8a3e}.bad{color:#c92a2a}.part{color:#e67700}
section{border:1px solid #dee2e6;border-radius:6px;padding:.6em 1em;margin:1em 0}
section h2{font-size:1.15em;margin:.2em 0}
.check{margin:.5em 0;padding:.3em .6em;border-left:3px solid #dee2e6}
.check.failed{border-left-color:#c92a2a;background:#fff5f5}
.call{font-family:ui-monospace,monospace;font-size:.9em;color:#495057;word-break:break-all}
.mistake{background:#fff9db;border-left:3px solid #f59f00;padding:.4em .6em;margin:.4em 0}
.none{color:#666;font-style:italic}
img{max-width:100%;margin-top:.5em}
pre{white-space:pre-wrap;background:#f8f9fa;padding:.5em;font-size:.85em}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _status(earned: float, available: float) -> str:
    if earned >= available:
        return "ok"
    return "bad" if earned == 0 else "part"


def render(title: str, subtitle: str, sections: list[FunctionSection], notes: list[str] = ()) -> str:
    earned = round(sum(s.earned for s in sections), 2)
    available = round(sum(s.available for s in sections), 2)
    rows = "".join(
        f'<tr><td><a href="#{_e(s.function)}">{_e(s.function)}</a></td>'
        f'<td class="num {_status(s.earned, s.available)}">{s.earned:g} / {s.available:g}</td>'
        f'<td>{"all checks pass" if s.earned >= s.available else _e(_first_failure(s))}</td></tr>'
        for s in sections)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>",
             f"<style>{CSS}</style></head><body>",
             f"<h1>{_e(title)}</h1><p class='sub'>{_e(subtitle)}</p>",
             f"<p><b>Score: {earned:g} / {available:g}</b></p>",
             "".join(f"<p>{_e(n)}</p>" for n in notes),
             f"<table class='scores'><tr><th>function</th><th>points</th><th>first failure</th></tr>{rows}</table>"]
    for section in sections:
        parts.append(_section(section))
    parts.append("</body></html>")
    return "\n".join(parts)


def _first_failure(section: FunctionSection) -> str:
    failed = next((c for c in section.checks if not c.passed), None) or next(
        (c for c in section.checks if c.points < c.max_points), None)
    text = failed.message if failed else ""
    return text if len(text) < 140 else text[:137] + "..."


def _section(section: FunctionSection) -> str:
    status = _status(section.earned, section.available)
    parts = [f"<section id='{_e(section.function)}'><h2>{_e(section.function)} "
             f"<span class='{status}'>{section.earned:g} / {section.available:g}</span></h2>"]
    for check in section.checks:
        lost = check.points < check.max_points
        parts.append(f"<div class='check{' failed' if lost else ''}'>"
                     f"<b>{'✔' if not lost else '✘'} {_e(check.description)}</b> "
                     f"({check.points:g} / {check.max_points:g})")
        if lost:
            if check.label:
                parts.append(f"<div class='call'>{_e(check.label)}</div>")
            parts.append(f"<div>{_e(check.message)}</div>")
            for mistake in check.mistakes:
                parts.append(f"<div class='mistake'><b>Likely mistake:</b> {_e(mistake['explanation'])}<br>"
                             f"<b>Hint:</b> {_e(mistake['hint'])}</div>")
            if not check.passed and not check.mistakes and check.run is not None and _diagnosable(check):
                parts.append("<div class='none'>None of the catalogued mistakes matches this answer.</div>")
        parts.append("</div>")
    if section.plot:
        encoded = base64.b64encode(section.plot).decode()
        parts.append(plot_img(encoded, plot_alt_text(section.function)))
    parts.append("</section>")
    return "".join(parts)


def plot_alt_text(function: str) -> str:
    """The alt text of a function's plot, for screen readers and nbconvert's check."""
    return f"Plot for {function}: your answer against the expected one on a failed check"


def plot_img(encoded_png: str, alt: str) -> str:
    """An ``<img>`` of a base64 PNG that always carries alt text."""
    return f"<img alt='{_e(alt)}' src='data:image/png;base64,{encoded_png}'>"


def _diagnosable(check) -> bool:
    last = check.run.replies[-1] if check.run.replies else {}
    return last.get("error") not in ("WorkerFailure", "ModuleProblem", "NotImplementedError")
