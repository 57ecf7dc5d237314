"""The clinician's report: server time of ``POST /report`` (the page) and ``POST /report.pdf``.

The application is driven in-process through its ASGI interface (Starlette's test client:
no socket, no worker), so the figure is the server's own time for a request: form
parsing, validation, assessment, surveillance plan, timeline picture, templates, and for
the PDF WeasyPrint's layout and writing. Cases: the bundled examples and the golden
scenarios, cycled. Prints median and p90 per route, and where the PDF's time goes;
asserts nothing. Goals: page <= 100 ms, PDF <= 400 ms median.

Run: .venv/bin/python bench/bench_report.py [--rounds N] [--pdf-rounds N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

from fastapi.testclient import TestClient  # noqa: E402

from pecoma.case import Case, parse_case, parse_case_json  # noqa: E402
from pecoma.engine import assess  # noqa: E402
from pecoma.engine.schedule import plan_surveillance  # noqa: E402
from pecoma.knowledge import load_knowledge  # noqa: E402
from pecoma.web import WebConfig, create_app, forms  # noqa: E402
from pecoma.web.app import make_templates  # noqa: E402
from pecoma.web.pages import build_report_view, example_cases  # noqa: E402
from pecoma.web.pdf import render_pdf_html, report_pdf_bytes  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ON = dt.date(2026, 11, 28)


def cases() -> list[Case]:
    out = [parse_case_json(text) for text in example_cases().values()]
    for folder in sorted((ROOT / "tests" / "scenarios").iterdir()):
        path = folder / "case.json"
        if path.is_file():
            out.append(parse_case(json.loads(path.read_text(encoding="utf-8"))))
    return out


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    p90 = xs[min(len(xs) - 1, int(0.9 * len(xs)))]
    median = statistics.median(xs) * 1000
    return f"median {median:7.1f} ms   p90 {p90 * 1000:7.1f} ms   (n={len(xs)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2, help="passes over the cases (page)")
    ap.add_argument("--pdf-rounds", type=int, default=1, help="passes over the examples (PDF)")
    ap.add_argument("--pdf-cases", type=int, default=12, help="cases for the PDF")
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"report page and PDF, in-process (cores {os.cpu_count()}, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    client = TestClient(create_app(WebConfig(), today=lambda: ON), base_url="http://localhost")
    all_cases = cases()
    forms_ = [forms.case_to_values(c, ON) for c in all_cases]
    client.post("/report", data=forms_[0])  # warm: imports, templates, knowledge

    page: list[float] = []
    for _ in range(args.rounds):
        for values in forms_:
            start = time.perf_counter()
            r = client.post("/report", data=values)
            page.append(time.perf_counter() - start)
            assert r.status_code == 200
    print(f"  POST /report       {ms(page)}")

    pdf_cases = all_cases[: args.pdf_cases]
    bodies = [{"case": c.model_dump_json(exclude_defaults=True), "on": ON.isoformat()}
              for c in pdf_cases]
    client.post("/report.pdf", data=bodies[0])  # warm: WeasyPrint, fonts
    pdf: list[float] = []
    for _ in range(args.pdf_rounds):
        for body in bodies:
            start = time.perf_counter()
            r = client.post("/report.pdf", data=body)
            pdf.append(time.perf_counter() - start)
            assert r.status_code == 200 and r.content.startswith(b"%PDF")
    print(f"  POST /report.pdf   {ms(pdf)}")

    # Where the PDF's time goes (the same cases, the same steps as the route).
    from weasyprint import HTML

    templates = make_templates()
    k = load_knowledge()
    steps: dict[str, list[float]] = {"assess + plan + view": [], "HTML (Jinja)": [],
                                      "layout (WeasyPrint)": [], "write PDF": [],
                                      "whole (report_pdf_bytes)": []}
    for c in pdf_cases:
        t0 = time.perf_counter()
        a = assess(c, ON)
        view = build_report_view(c, a, k, plan_surveillance(c, a, ON))
        t1 = time.perf_counter()
        html = render_pdf_html(templates, view, a)
        t2 = time.perf_counter()
        doc = HTML(string=html).render()
        t3 = time.perf_counter()
        doc.write_pdf()
        t4 = time.perf_counter()
        report_pdf_bytes(templates, view, a)
        t5 = time.perf_counter()
        for key, value in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4),
                              strict=True):
            steps[key].append(value)
    for key, xs in steps.items():
        print(f"    {key:<26} {ms(xs)}")
    load = os.getloadavg()
    print(f"  load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
