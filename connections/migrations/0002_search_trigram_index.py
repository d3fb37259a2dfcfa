"""A trigram index for the client search box on PostgreSQL: `search_text LIKE '%word%'` then
uses the index instead of reading every card. SQLite (the embedded demo mode) has no such
index type and needs none at demo sizes."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS connections_clientcard_search_trgm "
    "ON connections_clientcard USING gin (search_text gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS connections_clientcard_search_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("connections", "0001_initial")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
