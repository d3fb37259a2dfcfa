"""``manage.py check --deploy`` warns while the test gateway takes payments: it credits
money no bank took. (Registered when billing's models load: billing.models.online.)"""

from django.core import checks

from . import UnknownGateway, active_name, get_gateway


@checks.register(checks.Tags.security, deploy=True)
def payment_gateway_check(app_configs=None, **kwargs):
    name = active_name()
    if not name:  # online payment is off: nothing can credit money no bank took
        return []
    try:
        gateway = get_gateway(name)
    except (UnknownGateway, ImportError) as exc:
        return [checks.Error(f"PAYMENT_GATEWAY={name!r} is not a registered gateway ({exc}).",
                             hint="Add it to PAYMENT_GATEWAYS or choose another.",
                             id="billing.E001")]
    if gateway.test_mode:
        return [checks.Warning(
            "The test payment gateway is on: any client can top up with a test card and no "
            "bank takes the money.",
            hint="Set PAYMENT_GATEWAY to a real provider's adapter (docs/CABINET.md).",
            id="billing.W001")]
    return []
