"""The database itself keeps the ledger append-only: an UPDATE (and on PostgreSQL a DELETE)
of an entry is refused, whoever tries, as an integrity error. A correction is a new entry.

SQLite gets the UPDATE guard only: the test runner empties tables with DELETE there, while on
PostgreSQL it uses TRUNCATE, which row triggers do not see."""

from django.db import migrations

MESSAGE = "ledger entries are append-only: post a correction instead"

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION billing_ledger_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; END
        $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER billing_ledger_append_only BEFORE UPDATE OR DELETE
        ON billing_ledgerentry FOR EACH ROW EXECUTE FUNCTION billing_ledger_append_only()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS billing_ledger_append_only ON billing_ledgerentry",
    "DROP FUNCTION IF EXISTS billing_ledger_append_only()",
]
SQLITE = [
    f"""CREATE TRIGGER billing_ledger_append_only BEFORE UPDATE ON billing_ledgerentry
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS billing_ledger_append_only"]


def _run(postgres, sqlite):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in postgres if vendor == "postgresql" else sqlite if vendor == "sqlite" else []:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(_run(POSTGRES, SQLITE), _run(POSTGRES_DROP, SQLITE_DROP))]
