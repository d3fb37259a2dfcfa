"""Read the support mailbox (a Maildir): every new message becomes a ticket or a reply in
one (tickets.intake.email) and moves to cur/ — flagged "F" when it was rejected, so a person
can look at it. Run it from cron or a Celery beat entry every few minutes."""

import mailbox
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tickets.intake import email as intake


class Command(BaseCommand):
    help = "Turn new messages of a Maildir into tickets and move them to cur/."

    def add_arguments(self, parser):
        parser.add_argument("--maildir", required=True, help="path of the Maildir")

    def handle(self, *args, maildir, **options):
        if not (Path(maildir) / "new").is_dir():
            raise CommandError(f"{maildir} is not a Maildir (no new/ inside).")
        box = mailbox.Maildir(maildir, factory=None, create=False)
        counts = {"tickets": 0, "replies": 0, "rejected": 0}
        for key in list(box.iterkeys()):
            message = box[key]
            if message.get_subdir() != "new":
                continue
            outcome = intake.receive(box.get_bytes(key))
            if outcome is None:
                counts["rejected"] += 1
                message.add_flag("F")
            else:
                counts["tickets" if outcome.created else "replies"] += 1
            message.set_subdir("cur")
            message.add_flag("S")
            box[key] = message
        self.stdout.write(", ".join(f"{name}: {n}" for name, n in counts.items()))
