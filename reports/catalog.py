"""The list of reports the index page (``reports:index``) shows, in this order: (title, URL
name, description). Each report helper adds its lines in its own block; a URL name that does
not resolve (not merged yet) is left out of the page, not an error."""

from django.utils.translation import gettext_lazy as _

REPORTS: list[tuple[str, str, str]] = [
    # Dashboard and connection speed (dashboard helper)
    (_("Director's dashboard"), "reports:dashboard",
     _("New and lost clients, connections, money collected (debt, current, prepaid), "
       "charged and ARPU for any period, by month, tariff and geography (D8).")),
    (_("Connection speed"), "reports:connection_speed",
     _("Working days from the connection fee payment to activation per connection type and "
       "month, and the share connected within 24 hours (CS-6).")),

    # Excel exports (excel helper)

    # 1C exchange (1C helper)

    # Analytic reports: tariffs, penetration, employees, churn, operations
    # Employees and operational reports (analytics-b)
    (_("Employees"), "reports:employees",
     _("Each employee's results: managers' cards, contracts, activations, payments and "
       "retention calls; surveys and installations on time; tickets, SLA, first response "
       "and ratings (D11).")),
    (_("Managers' daily and weekly report"), "reports:operations_managers",
     _("New cards, stage moves, payments taken, calls and tickets per manager for a day or a "
       "week; printable (R4).")),
    (_("Overdue requests"), "reports:operations_overdue",
     _("Overdue tickets, surveys and installations per responsible employee and branch, and "
       "deadlines missed in the period (R7).")),
    (_("Ticket KPIs"), "reports:operations_tickets",
     _("Volume, first response in working hours, share within SLA and poor ratings by week or "
       "month, per category and group (Q5).")),
    (_("Service hours utilization"), "reports:operations_hours",
     _("Included and used hours of business clients on hourly tariffs, with Excel; the "
       "helpdesk's own page is linked from it (SP-10).")),
    # Tariffs, penetration and churn (analytics-a)
    (_("Tariff effectiveness"), "reports:tariffs",
     _("Per tariff over its whole life or a period: subscribers month by month, revenue, "
       "ARPU, churn, average lifetime and what promotions change (D9).")),
    (_("Penetration"), "reports:penetration",
     _("Clients per household by district and building, the trend as a heat table, and the "
       "advertising target list: buildings with the network and few clients (D10).")),
    (_("Churn"), "reports:churn",
     _("Monthly churn of persons and businesses by ARPU grade, controllable or not, against "
       "the plan; business clients' grades and the grade of the manager leading each "
       "(R1, R3).")),
]
