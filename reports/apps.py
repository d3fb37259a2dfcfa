from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from billing import events
        from reports.selectors.summary import forget_if_late

        # A payment of a closed month (a bank statement, a cancellation) changes its
        # figures: the cached closed months are forgotten.
        events.payment_received.connect(forget_if_late, dispatch_uid="reports.late_payment")
        events.payment_cancelled.connect(forget_if_late, dispatch_uid="reports.cancelled")
