"""``complaintkit standard check PATH``: load a province standard and say what it defines and
everything wrong with it (each problem with its file and field); non-zero exit on problems."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def standard() -> None:
    """Province standards: check one before shipping it."""


@standard.command()
@click.argument("path")
def check(path: str) -> None:
    """Load PATH — a standard's folder, or the name of an installed standard — and print what it
    defines and every problem, each naming its file and field. Exits 1 if there are problems."""
    from complaintkit.core.errors import ComplaintKitError, StandardInvalid
    from complaintkit.standard import Standard, load_standard
    from complaintkit.standard.installed import named, names

    try:
        found: Standard = load_standard(Path(path)) if Path(path).is_dir() else named(path)
    except StandardInvalid as exc:
        click.echo(f"{exc.source}: {len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}")
        for problem in exc.problems:
            click.echo(f"  - {problem}")
        raise SystemExit(1) from None
    except ComplaintKitError as exc:
        click.echo(f"{path}: {exc}", err=True)
        if not Path(path).exists():
            click.echo(f"(not a folder; installed standards: {', '.join(names()) or 'none'})", err=True)
        raise SystemExit(1) from None
    s, d = found.settings, found.dispatch
    levels: dict[str, int] = {}
    for dep in found.departments:
        levels[dep.level] = levels.get(dep.level, 0) + 1
    click.echo(f"standard {found.name} {found.version} ({found.source}): no problems")
    rows = [
        ("categories", f"{sum(1 for _ in found.iter_categories())} ({len(found.categories)} at the top)"),
        ("departments", ", ".join(f"{n} {lvl}" for lvl, n in sorted(levels.items()))),
        ("complaint-management department", s.complaint_department),
        ("processing mode (A6)", f"{s.processing_mode}: " + ", ".join(f"{g.code}" for g in d.skill_groups)),
        ("dispatch routes (D1, D2)", f"{len(d.routes)}, {sum(1 for r in d.routes if r.direct)} direct"),
        ("transfer graph (D3)", f"{len(d.transfers)} edges" if d.transfers else "none: every transfer allowed"),
        ("misdispatches before arbitration (D5)", str(s.misdispatch_limit)),
        ("handlers (D6, E6)", (f"{len(d.handlers)}, {sum(1 for h in d.handlers if h.level >= s.high_skill_level)} "
                              f"of skill level {s.high_skill_level}+")),
        ("batch thresholds (E2)", f"{len(d.batch_thresholds)} (else {s.batch_threshold})"),
        ("repeat window (E3)", f"{s.repeat_window_days} days, category level {s.repeat_category_level}"),
        ("follow-up reply code / fast-service number (B3)", f"{s.follow_up_reply_code} / {s.fast_service_number}"),
        ("time-limit rules (C1)", str(len(found.time_limits))),
        ("follow-up problem types (B2)", str(len(found.follow_up_types))),
        ("templates", str(len(found.templates))),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"  {key.ljust(width)}  {value}")
