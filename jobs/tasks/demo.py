"""Demo task: publishes a small, real result so the whole path (scheduler -> store -> dashboard)
can be seen working before, and independently of, the analytics."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jobs.tasks import TaskContext, TaskOutcome, task


@task("demo", results=["demo"], description="Publish a small demo table (proves the pipeline).")
def demo(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Publish ``demo``: a few rows stamped with the run time.  ``args.fail=true`` makes it raise;
    ``args.delay_seconds`` makes it take that long first (a slow job for service tests), reporting
    progress once a second; with ``args.release_file`` (a path) it stops waiting as soon as that
    file exists, so a test holds the job running exactly as long as it needs, no fixed sleep."""
    delay = float(args.get("delay_seconds", 0))
    release = Path(str(args["release_file"])) if args.get("release_file") else None
    start, ticks, shown = time.monotonic(), int(delay), 0
    while (elapsed := time.monotonic() - start) < delay:
        if release is not None and release.exists():
            break
        if shown < ticks and elapsed >= shown:
            shown += 1
            ctx.progress(f"waiting {shown}/{ticks} s")
        next_event = shown if shown > elapsed else delay  # the next progress message, else the end
        time.sleep(min(0.05 if release is not None else 1.0, next_event - elapsed))
    if args.get("fail"):
        raise RuntimeError("demo task asked to fail (jobs.<name>.args.fail = true)")
    rows = int(args.get("rows", 5))
    rng = np.random.default_rng(ctx.settings.service.sample_seed)
    frame = pd.DataFrame(
        {
            "item": [f"item-{i}" for i in range(rows)],
            "value_usd": rng.normal(0, 1e6, rows).round(2),
            "computed_at": pd.Timestamp(ctx.now).tz_convert("UTC"),
        }
    )
    ctx.store.publish(
        "demo",
        frame,
        as_of=ctx.now,
        source=f"SAMPLE demo rows (seed {ctx.settings.service.sample_seed}, generated)",
        sample=True,
        headline={"total_usd": float(frame["value_usd"].sum()), "rows": rows},
    )
    return TaskOutcome(published=["demo"], rows=rows)
