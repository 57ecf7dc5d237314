"""axe-core in a Playwright page: the copy packaged by axe-playwright-python, injected by
the test (never served by pecoma; the page's content policy is bypassed for it), no
network. Shared by the browser tests that check accessibility."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.base import AXE_FILE_PATH

__all__ = ["axe_violations"]

_RUN = (
    "async (options) => { const r = await axe.run(document, options);"
    " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
    " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))})); }"
)


def axe_violations(pg: Any, rules: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, of every default rule (WCAG 2 A/AA
    and best practices) or of ``rules`` only; each with its id, impact, help text and up
    to five of the elements concerned. axe is injected once per document."""
    if not pg.evaluate("typeof axe !== 'undefined'"):
        pg.add_script_tag(content=AXE_FILE_PATH.read_text(encoding="utf-8"))
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if rules is not None:
        options["runOnly"] = {"type": "rule", "values": rules}
    found: list[dict[str, Any]] = pg.evaluate(_RUN, options)
    return found
