"""``complaintkit doctor``: what the worker set aside — quarantined timers and inbox rows, failed
messages — with the error each one carries, and ``--release`` to put them back once fixed."""

from __future__ import annotations

import click

from complaintkit.logging import mask_text


@click.command()
@click.option("--db", "db_url", required=True, help="Database URL (sqlite:///file.db or postgresql://…).")
@click.option("--release", is_flag=True, help="Put quarantined timers and inbox rows back to pending.")
def doctor(db_url: str, release: bool) -> None:
    """List what the worker quarantined (timers, inbox rows) and the messages that failed."""
    from datetime import UTC, datetime

    from complaintkit.cli.failures import open_store

    store = open_store(db_url)
    try:
        with store.read() as tx:
            timers = tx.quarantined_timers()
            held = tx.inbox(state="quarantined")
            failed = [m for m in tx.messages() if m["state"] == "failed"]
        click.echo(f"quarantined timers: {len(timers)}")
        for t in timers:
            click.echo(f"  timer {t['id']} {t['name']} of {t['ticket_id']} due {t['due_at']}: "
                       f"{mask_text(t['last_error'] or '')}")
        click.echo(f"quarantined inbox rows: {len(held)}")
        for row in held:
            click.echo(f"  inbox {row['id']} {row['kind']} after {row['attempts']} attempts: "
                       f"{mask_text(row['last_error'])}")
        click.echo(f"failed messages: {len(failed)}")
        for m in failed:
            click.echo(f"  {m['channel']} {m['key']}: {mask_text(m['last_error'])}")
        if release and (timers or held):
            now = datetime.now(UTC)
            with store.transaction() as tx:
                released = sum(tx.release_timer(t["id"]) for t in timers)
                released += sum(tx.release_inbox(r["id"], now) for r in held)
            click.echo(f"released: {released}")
    finally:
        store.close()
