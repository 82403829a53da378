"""`essay batch --defer --dry-run`: what would be submitted, from the notes and the workspace's state alone.

Nothing is sent and nothing is written. Per essay: the calls and tokens it would still put into batch files (an
estimate, as `essay draft --dry-run` makes one), their price at batch rates where it is known, and which private
notes stay on this machine; and the batches already waiting at the provider.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.batch.batch import up_to_date
from pipeline.batch.deferred import Ledger
from pipeline.core.errors import EssayError
from pipeline.drafting.dryrun import dry_run
from pipeline.drafting.inputs import read_inputs
from pipeline.files.drafts import essay_dir, list_versions
from pipeline.models import prices
from pipeline.models.session import Run
from pipeline.plan.reading import PLAN_NAME


def preview(run: Run, ledger: Ledger, prompts: list[Path], force: bool) -> list[str]:
    endpoint, model = run.provider.endpoint, run.provider.model
    lines = [f"dry run: nothing is sent; the calls would go to {endpoint} ({model}) as Batch API files"]
    for sub, calls in ledger.pending(endpoint):
        essays = ", ".join(sorted({k.essay for k in calls}))
        where = f"batch {sub.batch_id}" if sub.batch_id else "a batch not yet created"
        lines.append(f"{where}: {len(calls)} calls of {essays} wait at the provider; the next run collects them")
    for path in prompts:
        lines.extend(_essay_lines(run, path, force))
    return lines


def _essay_lines(run: Run, path: Path, force: bool) -> list[str]:
    name = path.stem
    try:
        inputs = read_inputs(run, path)
        folder = essay_dir(run.workspace.drafts, path, run.workspace.root)
    except EssayError as exc:
        return [f"{name}: would fail: {exc}"]
    versions = list_versions(folder)
    if versions and not force and up_to_date(versions[-1].path, inputs, run):
        return [f"{name}: up to date, nothing to submit"]
    report = dry_run(run, inputs)
    planned = (folder / PLAN_NAME).is_file()
    sort = "its plan.md is followed, no sorting" if planned else f"{report.batches} to sort first"
    calls = report.calls - (report.batches if planned else 0)
    p = run.provider
    dollars = prices.cost(p.provider, p.model, report.prompt_tokens, report.output_tokens, run.settings.prices, True)
    price = f", at most ${dollars:.4f} at batch rates" if dollars is not None else ""
    lines = [
        f"{name}: about {calls} calls ({sort}, then the sections), at most ~{report.prompt_tokens} tokens in and "
        f"~{report.output_tokens} out{price}"
    ]
    if inputs.withheld_private:
        kept = ", ".join(inputs.withheld_private)
        lines.append(f"{name}: private notes kept on this machine, in no batch file: {kept}")
    return lines
