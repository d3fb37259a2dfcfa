from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from billing import events
        from reports import rollups

        # A payment dated earlier (a bank statement, a cancellation) changes its month's
        # figures: its rollup months are marked stale and rebuilt, the cache forgotten.
        events.payment_received.connect(rollups.on_payment_received,
                                        dispatch_uid="reports.late_payment")
        events.payment_cancelled.connect(rollups.on_payment_cancelled,
                                         dispatch_uid="reports.cancelled")
        # The current month's stored part is built again once a charge run's charges
        # have settled (and marked stale if the run outlasted reports.rollups.SETTLE).
        events.charges_posted.connect(rollups.on_charges_posted,
                                      dispatch_uid="reports.charges")
