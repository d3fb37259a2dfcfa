from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from connections import buildings, cards, hooks, selectors
        from connections import demo as connections_demo
        from connections import events as workflow_events
        from ispcrm import pdf

        from . import demo, events, history
        from .models import BillingSettings
        from .services import dunning, referrals, terms
        from .views.building import account_column
        from .views.card import account_section
        from .views.terms import terms_section

        connections_demo.register(demo.seed_billing)
        pdf.register_company(BillingSettings.current)  # our requisites on every document
        cards.register(terms_section)  # the terms first: they lead to the account
        cards.register(account_section)
        buildings.register_column(account_column)
        if "account" not in selectors.card_related:
            selectors.card_related.append("account")  # lists show the account: no N+1
        if history.billing_events not in selectors.history_sources:
            selectors.history_sources.append(history.billing_events)
        events.payment_received.connect(dunning.on_payment_received,
                                        dispatch_uid="billing.dunning.payment")
        events.payment_received.connect(referrals.on_payment_received,
                                        dispatch_uid="billing.referrals.payment")
        events.account_activated.connect(referrals.on_account_activated,
                                         dispatch_uid="billing.referrals.activated")
        # The connection workflow's money side (connections.hooks).
        hooks.terms, hooks.tariffs = terms.contract_terms, terms.tariff_choices
        hooks.agree_tariff = terms.agree_tariff
        hooks.add_guard("sign_contract", terms.no_tariff)
        workflow_events.stage_changed.connect(terms.on_stage_changed,
                                              dispatch_uid="billing.terms.stage")
        events.payment_received.connect(terms.on_payment_received,
                                        dispatch_uid="billing.terms.fee_paid")
