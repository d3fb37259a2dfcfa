"""Create the role groups named in API.md. Their permissions are granted by
ispcrm.roles.sync_role_permissions after every migrate (permissions exist only then)."""

from django.db import migrations

ROLES = (
    "manager", "head_of_sales", "commercial_director", "noc_head", "technical_director",
    "chief_engineer", "crew_leader", "subscriber_dept", "accountant", "support", "director",
    "lawyer",
)


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("ispcrm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
