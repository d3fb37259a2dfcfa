"""manage.py import_usage FILE.csv: daily traffic per account from a CSV file (UTF-8, header
``account,day,bytes_in,bytes_out``), the same import as POST /api/v1/usage/ but without its
row limit. All or nothing: bad rows are listed (numbered as the file's lines) and nothing is
imported; a day already imported is replaced."""

import csv

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.services.usage import FIELDS, usage_import


class Command(BaseCommand):
    help = ("Import daily traffic per account from a CSV file with the header "
            "account,day,bytes_in,bytes_out (UTF-8). All rows or none.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle)
                header = [name.strip().lower() for name in next(reader, [])]
                if tuple(header) != FIELDS:
                    raise CommandError(f"{path}: the first line must be "
                                       f"{','.join(FIELDS)}, not {','.join(header) or 'empty'}.")
                rows, lines = [], []
                for row in reader:  # as read: a short or long row is reported by the import
                    if any(cell.strip() for cell in row):
                        rows.append(row)
                        lines.append(reader.line_num)
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text ({exc.reason}).") from exc
        except csv.Error as exc:
            raise CommandError(f"{path}: {exc}") from exc
        try:
            imported = usage_import(rows, row_numbers=lines)
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(f"{path}: nothing imported.") from exc
        self.stdout.write(f"Imported {imported} rows from {path}.")
