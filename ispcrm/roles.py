"""Staff roles (D15, API.md): Django groups with fixed names and the permissions each needs.

The groups are created by a data migration; their permissions are granted here after every
``migrate`` (Django creates permissions only after migrations run). Grants are only ever
added, so an admin may widen a role in the admin without the next deploy undoing it."""

from django.apps import apps as django_apps
from django.contrib.auth.management import create_permissions

MANAGER = "manager"
HEAD_OF_SALES = "head_of_sales"
COMMERCIAL_DIRECTOR = "commercial_director"
NOC_HEAD = "noc_head"
TECHNICAL_DIRECTOR = "technical_director"
CHIEF_ENGINEER = "chief_engineer"
CREW_LEADER = "crew_leader"
SUBSCRIBER_DEPT = "subscriber_dept"
ACCOUNTANT = "accountant"
SUPPORT = "support"
DIRECTOR = "director"
LAWYER = "lawyer"

ALL_ROLES = (
    MANAGER, HEAD_OF_SALES, COMMERCIAL_DIRECTOR, NOC_HEAD, TECHNICAL_DIRECTOR, CHIEF_ENGINEER,
    CREW_LEADER, SUBSCRIBER_DEPT, ACCOUNTANT, SUPPORT, DIRECTOR, LAWYER,
)

SALES = (MANAGER, HEAD_OF_SALES, COMMERCIAL_DIRECTOR)
TECHNICAL = (NOC_HEAD, TECHNICAL_DIRECTOR, CHIEF_ENGINEER)
# Who sees reports (D8…D14): the director, the heads who answer for the figures, and the
# accountant who closes the month.
REPORTS = (DIRECTOR, COMMERCIAL_DIRECTOR, HEAD_OF_SALES, ACCOUNTANT, TECHNICAL_DIRECTOR)

_VIEW_ADDRESSES = ("connections.view_district", "connections.view_street",
                   "connections.view_building")
_EDIT_ADDRESSES = ("connections.add_district", "connections.add_street",
                   "connections.add_building", "connections.change_building")
_VIEW_CLIENTS = ("connections.view_clientcard", "connections.view_clientcontact")
_EDIT_CONTACTS = ("connections.add_clientcontact", "connections.change_clientcontact",
                  "connections.delete_clientcontact")
_EDIT_CLIENTS = ("connections.add_clientcard", "connections.change_clientcard", *_EDIT_CONTACTS)
_VIEW_STAFF = ("ispcrm.view_user", "ispcrm.view_branch", "ispcrm.view_city")
_VIEW_BILLING = ("billing.view_tariff", "billing.view_service", "billing.view_promotion",
                 "billing.view_account", "billing.view_subscription",
                 "billing.view_accountservice", "billing.view_pause", "billing.view_ledgerentry",
                 "billing.view_payment", "billing.view_notice", "billing.view_claim",
                 "billing.view_document", "billing.view_promisedpayment")
_TAKE_PAYMENTS = ("billing.add_payment",)
_MANAGE_ACCOUNTS = ("billing.change_account", "billing.add_pause", "billing.add_subscription",
                    "billing.add_accountservice", "billing.add_promisedpayment")
_MANAGE_CATALOG = ("billing.add_tariff", "billing.change_tariff", "billing.add_service",
                   "billing.change_service", "billing.add_promotion", "billing.change_promotion")
_ACCOUNTING = ("billing.change_payment", "billing.add_ledgerentry", "billing.add_bankstatement",
               "billing.view_bankstatement", "billing.view_banktransfer",
               "billing.change_banktransfer", "billing.view_billingsettings")
# Helpdesk (issue 5): every staff role sees tickets and outages; the NOC and support run
# outages (API.md); those who take calls open tickets; those who solve them also change them.
_VIEW_TICKETS = ("tickets.view_ticket", "tickets.view_comment", "tickets.view_category",
                 "tickets.view_outage", "tickets.view_outageupdate", "tickets.view_rating")
_OPEN_TICKETS = ("tickets.add_ticket", "tickets.add_comment")
_WORK_TICKETS = (*_OPEN_TICKETS, "tickets.change_ticket", "tickets.add_timeentry")
_RUN_OUTAGES = ("tickets.add_outage", "tickets.change_outage", "tickets.add_outageupdate")
# Traffic usage (R5): the NetFlow/RADIUS collector posts it with a token of such a user.
_IMPORT_USAGE = ("billing.add_usage",)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    MANAGER: (*_VIEW_ADDRESSES, *_EDIT_ADDRESSES, *_VIEW_CLIENTS, *_EDIT_CLIENTS,
              *_VIEW_BILLING, *_TAKE_PAYMENTS, *_MANAGE_ACCOUNTS, *_VIEW_TICKETS,
              *_OPEN_TICKETS),
    HEAD_OF_SALES: (*_VIEW_ADDRESSES, *_EDIT_ADDRESSES, *_VIEW_CLIENTS, *_EDIT_CLIENTS,
                    *_VIEW_STAFF, *_VIEW_BILLING, *_TAKE_PAYMENTS, *_MANAGE_ACCOUNTS,
                    *_MANAGE_CATALOG, *_VIEW_TICKETS, *_OPEN_TICKETS),
    COMMERCIAL_DIRECTOR: (*_VIEW_ADDRESSES, *_EDIT_ADDRESSES, *_VIEW_CLIENTS, *_EDIT_CLIENTS,
                          *_VIEW_STAFF, *_VIEW_BILLING, *_MANAGE_ACCOUNTS, *_MANAGE_CATALOG,
                          *_VIEW_TICKETS),
    NOC_HEAD: (*_VIEW_ADDRESSES, *_EDIT_ADDRESSES, *_VIEW_CLIENTS, "billing.view_tariff",
               *_VIEW_TICKETS, *_WORK_TICKETS, *_RUN_OUTAGES, *_IMPORT_USAGE),
    TECHNICAL_DIRECTOR: (*_VIEW_ADDRESSES, *_EDIT_ADDRESSES, *_VIEW_CLIENTS, *_VIEW_STAFF,
                         "billing.view_tariff", *_VIEW_TICKETS, *_WORK_TICKETS,
                         *_RUN_OUTAGES, *_IMPORT_USAGE),
    CHIEF_ENGINEER: (*_VIEW_ADDRESSES, *_EDIT_ADDRESSES, *_VIEW_CLIENTS, "billing.view_tariff",
                     *_VIEW_TICKETS, *_WORK_TICKETS),
    CREW_LEADER: (*_VIEW_ADDRESSES, *_VIEW_CLIENTS, "billing.view_tariff", *_VIEW_TICKETS,
                  *_WORK_TICKETS),
    SUBSCRIBER_DEPT: (*_VIEW_ADDRESSES, *_VIEW_CLIENTS, "connections.change_clientcard",
                      *_EDIT_CONTACTS, *_VIEW_BILLING, *_TAKE_PAYMENTS, *_MANAGE_ACCOUNTS,
                      *_VIEW_TICKETS, *_OPEN_TICKETS),
    ACCOUNTANT: (*_VIEW_ADDRESSES, *_VIEW_CLIENTS, *_VIEW_BILLING, *_TAKE_PAYMENTS,
                 *_ACCOUNTING, *_VIEW_TICKETS),
    SUPPORT: (*_VIEW_ADDRESSES, *_VIEW_CLIENTS, *_EDIT_CONTACTS, *_VIEW_BILLING,
              *_VIEW_TICKETS, *_WORK_TICKETS, *_RUN_OUTAGES),
    DIRECTOR: (*_VIEW_ADDRESSES, *_VIEW_CLIENTS, *_VIEW_STAFF, *_VIEW_BILLING,
               "ispcrm.view_calendarday", "billing.view_bankstatement",
               "billing.view_banktransfer", *_VIEW_TICKETS),
    LAWYER: (*_VIEW_ADDRESSES, *_VIEW_CLIENTS, *_VIEW_BILLING, *_VIEW_TICKETS),
}


def sync_role_permissions(sender=None, using="default", **kwargs) -> None:
    """Grant each role group the permissions listed above (post_migrate handler)."""
    if sender is not None and sender.name != "ispcrm":
        return  # once per migrate is enough
    # post_migrate reaches this app before the apps after it have their permissions made.
    for app_config in django_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    Group = django_apps.get_model("auth", "Group")
    Permission = django_apps.get_model("auth", "Permission")
    wanted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    by_name = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
        if f"{p.content_type.app_label}.{p.codename}" in wanted
    }
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(by_name[p] for p in perms if p in by_name))
