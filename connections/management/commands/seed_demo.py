"""``manage.py seed_demo``: a realistic, deterministic demo data set (two cities, staff for every
role, an address register and client cards spread over the whole funnel).

Each section is a small ``seed_*`` function taking the shared :class:`Seeder`; a new section
(tariffs, accounts, …) is one more function appended to ``SECTIONS``. Each section draws from
its own random stream (``Seeder.rng``), so adding, skipping or resizing one section never
changes the data another produces for the same seed.

Bulk writes bypass django-simple-history on purpose: demo rows need no audit trail, and
history rows (simple_history's ``bulk_create_with_history``) would double the time and size
of a 100,000-client seed. The few cities, branches and users are saved one by one and do get
history."""

import datetime
import random
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from connections import demo
from connections.demo_workflow import seed_workflow
from connections.models import (
    Building,
    ClientCard,
    ClientContact,
    ConnectionType,
    District,
    Stage,
    Street,
)
from ispcrm import roles
from ispcrm.models import Branch, City, User

DEMO_PASSWORD = "demo12345"
BATCH_SIZE = 5000

# --- Reference data -----------------------------------------------------------------------


@dataclass(frozen=True)
class CitySpec:
    key: str
    city: str
    branch: str
    time_zone: str
    address: str
    phone: str
    client_share: float  # of all demo clients
    inn_prefixes: tuple[str, ...]  # region + tax office: the first four INN digits
    # district -> ((latitude, longitude) of its centre, streets)
    districts: dict[str, tuple[tuple[float, float], tuple[str, ...]]]


CITIES = (
    CitySpec(
        key="msk", city="Москва", branch="Москва — Центральный", time_zone="Europe/Moscow",
        address="г. Москва, ул. Покровка, д. 12, оф. 301", phone="+74952150000",
        client_share=0.65,
        inn_prefixes=("7701", "7702", "7703", "7704", "7705", "7707", "7710", "7714", "7719",
                      "7720", "7722", "7725", "7728", "7730", "7733", "7743", "7751"),
        districts={
            "Басманный": ((55.7660, 37.6690), (
                "ул. Покровка", "ул. Старая Басманная", "ул. Новая Басманная",
                "ул. Бауманская", "ул. Спартаковская", "ул. Радио")),
            "Тверской": ((55.7700, 37.6080), (
                "ул. Тверская", "ул. Петровка", "ул. Малая Дмитровка", "ул. Новослободская",
                "ул. Долгоруковская", "ул. Каретный Ряд")),
            "Хамовники": ((55.7290, 37.5760), (
                "ул. Остоженка", "ул. Пречистенка", "Комсомольский пр-т", "ул. Льва Толстого",
                "ул. Усачёва", "ул. Плющиха")),
            "Пресненский": ((55.7620, 37.5650), (
                "ул. Большая Грузинская", "ул. Красная Пресня", "Пресненская наб.",
                "ул. Малая Грузинская", "ул. Баррикадная", "ул. Климашкина")),
            "Таганский": ((55.7390, 37.6600), (
                "ул. Таганская", "ул. Марксистская", "ул. Большие Каменщики",
                "ул. Воронцовская", "ул. Нижегородская", "ул. Земляной Вал")),
            "Мещанский": ((55.7810, 37.6320), (
                "пр-т Мира", "ул. Гиляровского", "ул. Сретенка", "Олимпийский пр-т",
                "ул. Щепкина", "ул. Трифоновская")),
        },
    ),
    CitySpec(
        key="ekb", city="Екатеринбург", branch="Екатеринбург", time_zone="Asia/Yekaterinburg",
        address="г. Екатеринбург, ул. Малышева, д. 51, оф. 1204", phone="+73432870000",
        client_share=0.35,
        inn_prefixes=("6658", "6659", "6661", "6670", "6671", "6672", "6673", "6679", "6685",
                      "6686"),
        districts={
            "Ленинский": ((56.8200, 60.5900), (
                "пр-т Ленина", "ул. 8 Марта", "ул. Белинского", "ул. Большакова",
                "ул. Фурманова", "ул. Щорса")),
            "Кировский": ((56.8480, 60.6450), (
                "ул. Малышева", "ул. Мира", "ул. Первомайская", "ул. Блюхера",
                "ул. Комсомольская", "ул. Учителей")),
            "Октябрьский": ((56.8250, 60.6350), (
                "ул. Луначарского", "ул. Куйбышева", "ул. Восточная", "Сибирский тракт",
                "ул. Декабристов", "ул. Шевченко")),
            "Верх-Исетский": ((56.8450, 60.5550), (
                "ул. Крауля", "ул. Викулова", "ул. Заводская", "ул. Красноуральская",
                "ул. Металлургов", "ул. Репина")),
            "Железнодорожный": ((56.8600, 60.5900), (
                "ул. Челюскинцев", "ул. Свердлова", "ул. Таватуйская", "ул. Ватутина",
                "ул. Стрелочников", "ул. Машинистов")),
            "Орджоникидзевский": ((56.8950, 60.6100), (
                "пр-т Космонавтов", "ул. Бакинских Комиссаров", "ул. Победы",
                "ул. Уральских Рабочих", "ул. Культуры", "ул. Ильича")),
        },
    ),
)

# username -> (role, first name, last name, position, city key). One user per role is named
# after the role so the logins are guessable; extra managers give each branch a choice.
ROLE_PROFILES = {
    roles.MANAGER: ("Анна", "Соколова", "Менеджер по подключениям"),
    roles.HEAD_OF_SALES: ("Ирина", "Лебедева", "Руководитель отдела продаж"),
    roles.COMMERCIAL_DIRECTOR: ("Олег", "Захаров", "Коммерческий директор"),
    roles.NOC_HEAD: ("Павел", "Григорьев", "Начальник центра управления сетью"),
    roles.TECHNICAL_DIRECTOR: ("Сергей", "Воронин", "Технический директор"),
    roles.CHIEF_ENGINEER: ("Николай", "Кудрявцев", "Главный инженер"),
    roles.CREW_LEADER: ("Виктор", "Савельев", "Бригадир монтажников"),
    roles.SUBSCRIBER_DEPT: ("Елена", "Миронова", "Специалист абонентского отдела"),
    roles.ACCOUNTANT: ("Татьяна", "Белова", "Главный бухгалтер"),
    roles.SUPPORT: ("Максим", "Ефимов", "Инженер технической поддержки"),
    roles.DIRECTOR: ("Андрей", "Колесников", "Генеральный директор"),
    roles.LAWYER: ("Марина", "Полякова", "Юрист"),
}
EXTRA_STAFF = {
    "manager2": (roles.MANAGER, "Дмитрий", "Орлов", "Менеджер по подключениям", "msk"),
    "manager_ekb": (roles.MANAGER, "Екатерина", "Шестакова", "Менеджер по подключениям", "ekb"),
    "manager_ekb2": (roles.MANAGER, "Артём", "Мальцев", "Менеджер по подключениям", "ekb"),
}
SUPERUSER = "admin"

MALE_NAMES = (
    "Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий", "Василий",
    "Виктор", "Владимир", "Владислав", "Георгий", "Денис", "Дмитрий", "Евгений", "Егор", "Иван",
    "Игорь", "Илья", "Кирилл", "Константин", "Максим", "Михаил", "Никита", "Николай", "Олег",
    "Павел", "Роман", "Руслан", "Сергей", "Станислав", "Степан", "Тимофей", "Фёдор", "Юрий",
    "Ярослав",
)
FEMALE_NAMES = (
    "Алёна", "Алина", "Анастасия", "Анна", "Валентина", "Валерия", "Вера", "Виктория", "Галина",
    "Дарья", "Екатерина", "Елена", "Елизавета", "Жанна", "Ирина", "Кристина", "Ксения",
    "Лариса", "Любовь", "Людмила", "Маргарита", "Марина", "Мария", "Надежда", "Наталья", "Нина",
    "Оксана", "Ольга", "Полина", "Светлана", "Софья", "Татьяна", "Юлия",
)
PATRONYMICS = (  # (male, female)
    ("Александрович", "Александровна"), ("Алексеевич", "Алексеевна"),
    ("Анатольевич", "Анатольевна"), ("Андреевич", "Андреевна"), ("Борисович", "Борисовна"),
    ("Валерьевич", "Валерьевна"), ("Васильевич", "Васильевна"), ("Викторович", "Викторовна"),
    ("Владимирович", "Владимировна"), ("Геннадьевич", "Геннадьевна"),
    ("Дмитриевич", "Дмитриевна"), ("Евгеньевич", "Евгеньевна"), ("Иванович", "Ивановна"),
    ("Игоревич", "Игоревна"), ("Константинович", "Константиновна"),
    ("Михайлович", "Михайловна"), ("Николаевич", "Николаевна"), ("Олегович", "Олеговна"),
    ("Павлович", "Павловна"), ("Петрович", "Петровна"), ("Сергеевич", "Сергеевна"),
    ("Юрьевич", "Юрьевна"),
)
SURNAMES = (  # male forms; _female_surname() derives the female ones
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Быков",
    "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв",
    "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников",
    "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров", "Емельянов",
    "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов", "Кириллов",
    "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов",
    "Анисимов", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов",
    "Нестеров", "Симонов", "Харитонов", "Князев", "Цветков", "Мальцев", "Логинов", "Горшков",
    "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов", "Плотников",
    "Жданов", "Блинов", "Шестаков", "Островский", "Покровский", "Вишневский", "Высоцкий",
    "Шевчук", "Бондаренко", "Ткаченко", "Коваленко", "Кравец", "Мельник", "Лысенко",
)
COMPANY_FORMS = (("ООО", 80), ("АО", 12), ("ПАО", 2), ("ЗАО", 4), ("АНО", 2))
COMPANY_ROOTS = (
    "Альфа", "Вектор", "Гранит", "Меридиан", "Ромашка", "Сфера", "Прогресс", "Альянс",
    "Горизонт", "Восток", "Урал", "Север", "Статус", "Триада", "Фаворит", "Эталон", "Аргус",
    "Атлант", "Квант", "Магистраль", "Ресурс", "Капитал", "Форвард", "Оптима", "Арсенал",
    "Пульс", "Стимул", "Орион", "Вега", "Омега", "Континент", "Импульс", "Лидер", "Авангард",
    "Кристалл", "Монолит", "Палитра", "Радуга", "Сигма", "Спектр", "Темп", "Феникс", "Гарант",
    "Интеграл", "Аврора", "Байкал", "Зенит", "Полюс", "Созвездие", "Технолайн",
)
COMPANY_SUFFIXES = (
    "", "", "", "-Сервис", " Плюс", "-Строй", " Групп", "-Трейд", "-Логистик", " Консалтинг",
    "-Медиа", "-Инжиниринг", " Девелопмент", "-Торг", " Технологии", "-Авто", "-Мед",
    "-Проект", "-Урал", "-М",
)
CONTACT_ROLES = ("главный бухгалтер", "бухгалтер", "системный администратор", "директор",
                 "офис-менеджер", "руководитель IT-отдела", "заместитель директора")
EMAIL_DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru", "inbox.ru",
                 "rambler.ru", "ya.ru")
# Mobile operator codes (MTS, Beeline, MegaFon, T2) and their rough weights.
MOBILE_CODES = (
    *("910", "911", "912", "913", "914", "915", "916", "917", "919", "980", "985", "987"),
    *("903", "905", "906", "909", "960", "961", "962", "963", "964", "965", "967", "968"),
    *("920", "921", "922", "923", "925", "926", "927", "929", "931", "932", "937", "939"),
    *("900", "901", "902", "904", "950", "951", "952", "953", "958", "977", "992", "999"),
)
APARTMENT_PROFILES = ((40, 100), (40, 100), (100, 250), (100, 250), (100, 250), (250, 400))
BUSINESS_CENTRE_SHARE = 0.15  # of the buildings
HOUSE_SUFFIXES = ("", "", "", "", "", "", "А", "Б", "к1", "к2", "к3")
# A business centre's number carries a structure ("12с1", as Moscow writes non-residential
# buildings): that is how a re-run tells offices from flats, the model stores no type.
OFFICE_MARK = "с"

# The funnel: most cards are active subscribers, a tail in each stage of the standard.
STAGE_WEIGHTS = {
    Stage.ACTIVE: 62, Stage.COMMERCIAL: 8, Stage.EXPERTISE: 5, Stage.CONTRACT: 4,
    Stage.INSTALLATION: 4, Stage.ACTIVATION: 3, Stage.NETWORK_DEVELOPMENT: 3,
    Stage.CANCELLED: 6, Stage.TERMINATED: 5,
}
# When a card in each stage was opened (days ago): the open funnel is recent, churn is old.
# At least a day ago, so the order of cards does not depend on the hour the seed runs.
STAGE_AGE_DAYS = {
    Stage.COMMERCIAL: (1, 30), Stage.EXPERTISE: (3, 40), Stage.CONTRACT: (7, 50),
    Stage.INSTALLATION: (10, 60), Stage.ACTIVATION: (14, 60),
    Stage.NETWORK_DEVELOPMENT: (20, 365), Stage.ACTIVE: (14, 3 * 365),
    Stage.CANCELLED: (10, 3 * 365), Stage.TERMINATED: (120, 3 * 365),
}
STAGE_NOTES = {
    Stage.CANCELLED: ("Отказ: не устроила цена.", "Отказ: выбрал другого провайдера.",
                      "Отказ: переезд.", "Нет технической возможности, клиент не ждёт."),
    Stage.NETWORK_DEVELOPMENT: ("Дом не подключён: ждёт строительства сети.",
                                "Нужна трасса до здания, согласование с УК."),
}
COMPANY_SHARE = 0.2
REFERRAL_SHARE = 0.1
PERSON_CONNECTIONS = {ConnectionType.LAN: 85, ConnectionType.RADIO: 12,
                      ConnectionType.SATELLITE: 3}
COMPANY_CONNECTIONS = {ConnectionType.LAN: 45, ConnectionType.LEASED_LINE: 35,
                       ConnectionType.RADIO: 15, ConnectionType.SATELLITE: 5}

_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ("a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"),
    strict=True,
))
_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)


# --- Helpers -------------------------------------------------------------------------------


def translit(text: str) -> str:
    return "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())


def female_surname(surname: str) -> str:
    if surname.endswith(("ский", "цкий")):
        return surname[:-2] + "ая"
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    return surname  # Шевчук, Бондаренко: the same for women


def company_inn(prefix: str, number: int) -> str:
    """A 10-digit organisation INN: region and tax office, a record number, the check digit."""
    body = f"{prefix}{number:05d}"
    check = sum(int(d) * w for d, w in zip(body, _INN10_WEIGHTS, strict=True)) % 11 % 10
    return f"{body}{check}"


def quota(rng: random.Random, n: int, weights: dict) -> list:
    """``n`` labels in the given proportions (largest remainder), each label at least once when
    ``n`` allows, in random order: even a small seed covers every stage and type."""
    total = sum(weights.values())
    exact = {k: n * w / total for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    by_remainder = sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)
    for k in by_remainder[: n - sum(counts.values())]:
        counts[k] += 1
    if n >= len(weights):
        for k in counts:
            if counts[k] == 0:
                counts[max(counts, key=counts.get)] -= 1
                counts[k] = 1
    labels = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(labels)
    return labels


def update_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Set different values on many rows in one statement: ``columns`` are field names,
    ``rows`` are (pk, *values).

    ``bulk_update`` would do it with a CASE WHEN per row, which Django compiles slowly (it
    was 3/4 of a 100,000-client seed). ``UPDATE … FROM (VALUES …)`` works on PostgreSQL and
    SQLite ≥ 3.33, which both name the VALUES columns column1, column2, …"""
    if not rows:
        return
    ops = connection.ops
    table, pk = ops.quote_name(model._meta.db_table), ops.quote_name(model._meta.pk.column)
    fields = [model._meta.get_field(name) for name in columns]
    # PostgreSQL types a VALUES column from its values: one of only NULLs would be text.
    cast = "::{}" if connection.vendor == "postgresql" else ""
    assignments = ", ".join(
        f"{ops.quote_name(f.column)} = v.column{i + 2}{cast.format(f.db_type(connection))}"
        for i, f in enumerate(fields))
    row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    params = []
    for pk_value, *values in rows:
        params.append(pk_value)
        # The backend's own conversion: SQLite keeps datetimes as UTC text.
        params.extend(f.get_db_prep_save(v, connection) for f, v in zip(fields, values,
                                                                        strict=True))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} "
                       f"FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v "
                       f"WHERE {table}.{pk} = v.column1", params)


# Fields whose Python values every database driver takes as they are; dates and times go
# through the backend's adapters, the rest (money, JSON, files, addresses) through the
# field's own conversion.
_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
          models.ForeignKey)


def _converter(field):
    ops = connection.ops
    if isinstance(field, _PLAIN):
        return None
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.TimeField):
        return ops.adapt_timefield_value
    return lambda value: field.get_db_prep_save(value, connection)


def insert_rows(model, rows: list) -> list[int]:
    """Insert many new rows fast; returns their ids (model instances get theirs too).

    ``rows`` are model instances or dicts of attribute names (``card_id``) to values, the
    fields' defaults filling the rest. ``bulk_create`` compiles every value of every row
    through the ORM, and building a model instance per row costs as much again; for the
    workflow's hundreds of thousands of narrow rows that was most of a 10,000-client seed.
    Here ids are taken after the table's largest (the seed is one transaction), the rows go
    in by COPY (PostgreSQL) or multi-row INSERTs (SQLite), and PostgreSQL's sequence is
    moved past them."""
    if not rows:
        return []
    ops = connection.ops
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if f is not pk]
    convert = [_converter(f) for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    first = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
    ids = list(range(first, first + len(rows)))
    values = []
    for number, row in zip(ids, rows, strict=True):
        if isinstance(row, dict):
            get = row.get
            line = [number]
            for f, conv in zip(fields, convert, strict=True):
                value = get(f.attname, defaults[f.attname])
                line.append(value if conv is None or value is None else conv(value))
        else:
            row.pk = number
            row._state.adding, row._state.db = False, connection.alias
            line = [number]
            for f, conv in zip(fields, convert, strict=True):
                value = getattr(row, f.attname)
                line.append(value if conv is None or value is None else conv(value))
        values.append(line)
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in [pk, *fields])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: the fastest way in; psycopg's query parsing of a huge multi-row INSERT
            # costs more than the insert itself.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for line in values:
                    copy.write_row(line)
        else:
            # Many rows a statement (one call), within SQLite's 32,766 parameters.
            row_sql = f"({', '.join(['%s'] * (len(fields) + 1))})"
            per_statement = max(1, min(BATCH_SIZE, 30_000 // (len(fields) + 1)))
            for start in range(0, len(values), per_statement):
                chunk = values[start:start + per_statement]
                cursor.execute(f"INSERT INTO {table} ({columns}) "
                               f"VALUES {', '.join([row_sql] * len(chunk))}",
                               [value for line in chunk for value in line])
        for statement in ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(statement)
    return ids


@dataclass
class Seeder:
    """What the sections share: the options, the output and what earlier sections made."""

    seed: int
    clients: int
    log: Callable[[str], None]
    branches: dict[str, Branch] = field(default_factory=dict)  # by city key
    managers: dict[str, list[User]] = field(default_factory=dict)  # by city key
    staff: list[tuple[User, str]] = field(default_factory=list)  # (user, role label)
    phones: set[str] = field(default_factory=set)  # every phone handed out, to keep them unique
    card_ids: list[int] = field(default_factory=list)  # cards created by this run

    def rng(self, section: str) -> random.Random:
        # One stream per section, so one section's size never shifts another's data.
        return random.Random(f"ispcrm-demo:{self.seed}:{section}")

    def mobile(self, rng: random.Random) -> str:
        while True:
            phone = f"+7{rng.choice(MOBILE_CODES)}{rng.randrange(10**7):07d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone


# --- Sections ------------------------------------------------------------------------------


def seed_org(s: Seeder) -> None:
    """Two cities with one branch each (D15); existing ones are kept as they are."""
    for spec in CITIES:
        city, _ = City.objects.get_or_create(name=spec.city)
        branch, created = Branch.objects.get_or_create(
            name=spec.branch,
            defaults={"city": city, "time_zone": spec.time_zone, "address": spec.address,
                      "phone": spec.phone},
        )
        s.branches[spec.key] = branch
        s.log(f"branch {branch.name}: {'created' if created else 'exists'}")


def seed_staff(s: Seeder) -> None:
    """A user per role (username = role), extra managers and the superuser. Existing accounts
    keep their password; only group membership is (re)asserted."""
    rng = s.rng("staff")
    wanted = {role: (role, *ROLE_PROFILES.get(role, ("Демо", "Сотрудник", role)), "msk")
              for role in roles.ALL_ROLES}
    wanted.update(EXTRA_STAFF)
    wanted[SUPERUSER] = (None, "Алексей", "Кириллов", "Администратор CRM", "msk")
    existing = {u.username: u for u in User.objects.filter(username__in=wanted)}
    s.phones.update(u.phone for u in existing.values() if u.phone)
    password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL_ROLES)}
    created = 0
    for username, (role, first, last, position, city_key) in wanted.items():
        user = existing.get(username)
        if user is None:
            # Role users work in the CRM; only the superuser gets the Django admin.
            user = User.objects.create(
                username=username, password=password, first_name=first, last_name=last,
                position=position, phone=s.mobile(rng), email=f"{username}@demo.ispcrm.example",
                branch=s.branches[city_key], is_staff=role is None, is_superuser=role is None,
            )
            created += 1
        if role is not None:
            group = groups.get(role) or Group.objects.get_or_create(name=role)[0]
            user.groups.add(group)
        s.staff.append((user, role or "superuser"))
    for spec in CITIES:
        s.managers[spec.key] = list(
            User.objects.filter(groups__name=roles.MANAGER, branch=s.branches[spec.key],
                                is_active=True).order_by("username"))
    s.log(f"staff: {created} created, {len(wanted) - created} existed")


def seed_addresses(s: Seeder) -> None:
    """Districts, streets and buildings of each city; buildings are topped up to about one per
    15 clients (at least 20), so penetration stays realistic at any size."""
    total = max(20, s.clients // 15)
    for spec in CITIES:
        rng = s.rng(f"addresses:{spec.key}")
        city = s.branches[spec.key].city
        target = max(5, round(total * spec.client_share))
        districts, streets = {}, []
        for name, (centre, street_names) in spec.districts.items():
            districts[name] = District.objects.get_or_create(city=city, name__iexact=name,
                                                             defaults={"name": name})[0]
            for street_name in street_names:
                street = Street.objects.get_or_create(
                    city=city, name__iexact=street_name, defaults={"name": street_name})[0]
                streets.append((street, districts[name], centre))
        used = {(b.street_id, b.house.lower())
                for b in Building.objects.filter(street__city=city).only("street", "house")}
        missing = target - len(used)
        if missing <= 0:
            s.log(f"{spec.city}: {len(used)} buildings exist")
            continue
        # House numbers go high enough that every street has room for its share.
        top = max(150, 2 * target // len(streets))
        new = []
        for i in range(missing):
            street, district, (lat, lon) = rng.choice(streets)
            # Every city gets business centres from its first new building on.
            office = i % round(1 / BUSINESS_CENTRE_SHARE) == 0
            while True:
                suffix = (f"{OFFICE_MARK}{rng.randint(1, 3)}" if office
                          else rng.choice(HOUSE_SUFFIXES))
                house = f"{rng.randint(1, top)}{suffix}"
                if (street.pk, house.lower()) not in used:
                    used.add((street.pk, house.lower()))
                    break
            households = (rng.randint(10, 80) if office  # offices
                          else rng.randint(*rng.choice(APARTMENT_PROFILES)))  # flats
            new.append(Building(
                street=street, district=district, house=house, households=households,
                latitude=Decimal(f"{lat + rng.uniform(-0.012, 0.012):.6f}"),
                longitude=Decimal(f"{lon + rng.uniform(-0.02, 0.02):.6f}"),
            ))
        Building.objects.bulk_create(new, batch_size=BATCH_SIZE)
        s.log(f"{spec.city}: {len(new)} buildings created")


@dataclass
class _Draft:
    """A client drawn before insertion: cards are inserted in the order they were opened."""

    card: ClientCard
    city_key: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    contacts: list[ClientContact]
    referrer: int | None = None  # index of an earlier draft


class _Pool:
    """Buildings of one kind in a city, drawn in proportion to their households."""

    def __init__(self, buildings: list[Building]):
        self.buildings = buildings
        self.cum_weights = []
        total = 0
        for b in buildings:
            total += max(1, b.households)
            self.cum_weights.append(total)

    def draw(self, rng: random.Random) -> Building:
        return rng.choices(self.buildings, cum_weights=self.cum_weights)[0]


def _pools_by_city() -> dict[int, tuple[_Pool, _Pool]]:
    """City id -> (apartment blocks, business centres), in id order for a stable draw."""
    lists: dict[int, tuple[list[Building], list[Building]]] = {}
    for b in Building.objects.select_related("street").order_by("pk"):
        flats, offices = lists.setdefault(b.street.city_id, ([], []))
        (offices if OFFICE_MARK in b.house.lower() else flats).append(b)
    return {city: (_Pool(flats or offices), _Pool(offices or flats))
            for city, (flats, offices) in lists.items()}


def _person(rng: random.Random) -> tuple[str, str]:
    """A full name (surname first, as Russian documents write it) and maybe an email."""
    male = rng.random() < 0.5
    first = rng.choice(MALE_NAMES if male else FEMALE_NAMES)
    surname = rng.choice(SURNAMES)
    if not male:
        surname = female_surname(surname)
    patronymic = rng.choice(PATRONYMICS)[0 if male else 1]
    email = ""
    if rng.random() < 0.35:
        tail = rng.choice(("", "", str(rng.randint(1, 99)), str(rng.randint(1965, 2005))))
        email = f"{translit(first)}.{translit(surname)}{tail}@{rng.choice(EMAIL_DOMAINS)}"
    return f"{surname} {first} {patronymic}", email


def _premises(rng: random.Random, building: Building, office: bool) -> str:
    n = rng.randint(1, max(1, building.households))
    if not office:
        return f"кв. {n}"
    return f"оф. {1 + (n - 1) // 10}{(n - 1) % 10 + 1:02d}"  # 10 offices a floor: «оф. 305»


def _draft_clients(s: Seeder, rng: random.Random) -> list[_Draft]:
    n = s.clients
    pools = _pools_by_city()
    person, company = ClientCard.Kind.PERSON, ClientCard.Kind.COMPANY
    kinds = quota(rng, n, {company: COMPANY_SHARE, person: 1 - COMPANY_SHARE})
    stages = quota(rng, n, STAGE_WEIGHTS)
    n_companies = kinds.count(company)
    connection_types = {company: iter(quota(rng, n_companies, COMPANY_CONNECTIONS)),
                        person: iter(quota(rng, n - n_companies, PERSON_CONNECTIONS))}
    now = timezone.now()
    # One anchor date for both cities: the cards' order then does not depend on the run time.
    today = timezone.localdate(now)
    city_weights = [spec.client_share for spec in CITIES]
    occupied: set[tuple[int, str]] = set()
    inns: set[str] = set()
    drafts = []
    for kind, stage in zip(kinds, stages, strict=True):
        spec = rng.choices(CITIES, weights=city_weights)[0]
        branch = s.branches[spec.key]
        flats, offices = pools[branch.city_id]
        in_office = kind == company and rng.random() < 0.8
        for _ in range(5):  # a few tries for a free flat; two cards in one flat happen too
            building = (offices if in_office else flats).draw(rng)
            premises = (_premises(rng, building, in_office) if in_office or kind == person
                        else f"пом. {rng.randint(1, 6)}")  # a shop on the ground floor
            if (building.pk, premises) not in occupied:
                break
        occupied.add((building.pk, premises))
        contacts = []
        if kind == person:
            name, email = _person(rng)
            inn = kpp = ""
        else:
            brand = rng.choice(COMPANY_ROOTS) + rng.choice(COMPANY_SUFFIXES)
            form = rng.choices([f for f, _ in COMPANY_FORMS],
                               weights=[w for _, w in COMPANY_FORMS])[0]
            name = f"{form} «{brand}»"
            prefix = rng.choice(spec.inn_prefixes)
            inn = company_inn(prefix, rng.randrange(1, 100_000))
            while inn in inns:
                inn = company_inn(prefix, rng.randrange(1, 100_000))
            inns.add(inn)
            kpp = f"{inn[:4]}01001"  # registered where it was founded: tax office + reason 01
            domain = translit(brand).replace(" ", "-") + ".ru"
            email = (f"{rng.choice(('info', 'office', 'mail', 'zakaz'))}@{domain}"
                     if rng.random() < 0.9 else "")
            for role in rng.sample(CONTACT_ROLES, rng.randint(1, 2)):
                contact_name, _ = _person(rng)
                surname, first = contact_name.split()[:2]
                contacts.append(ClientContact(
                    name=contact_name, role=role, phone=s.mobile(rng),
                    email=(f"{translit(first)[0]}.{translit(surname)}@{domain}"
                           if rng.random() < 0.7 else ""),
                ))
        managers = s.managers.get(spec.key) or []
        lo, hi = STAGE_AGE_DAYS[stage]
        day = today - datetime.timedelta(days=rng.randint(lo, hi))
        opened = datetime.datetime.combine(
            day, datetime.time(rng.randint(9, 19), rng.randrange(60), rng.randrange(60)),
            tzinfo=zoneinfo.ZoneInfo(branch.time_zone))
        touched = min(now, opened + datetime.timedelta(seconds=rng.randrange(30 * 86400)))
        card = ClientCard(
            kind=kind, name=name, phone=s.mobile(rng), email=email, inn=inn, kpp=kpp,
            building=building, premises=premises, connection_type=next(connection_types[kind]),
            branch=branch, lead_manager=rng.choice(managers) if managers else None,
            stage=stage, notes=rng.choice(STAGE_NOTES[stage]) if stage in STAGE_NOTES else "",
        )
        drafts.append(_Draft(card, spec.key, opened, touched, contacts))
    drafts.sort(key=lambda d: d.created_at)  # ids grow with time; referrers come first
    # Referrals come from earlier subscribers of the same city.
    subscribers: dict[str, list[int]] = {spec.key: [] for spec in CITIES}
    for i, draft in enumerate(drafts):
        if rng.random() < REFERRAL_SHARE and subscribers[draft.city_key]:
            draft.referrer = rng.choice(subscribers[draft.city_key])
        if draft.card.stage in (Stage.ACTIVE, Stage.TERMINATED):
            subscribers[draft.city_key].append(i)
    return drafts


def seed_clients(s: Seeder) -> None:
    """``s.clients`` cards over the whole funnel. Skipped when any card exists: a second run
    must not duplicate clients, and topping up would not reproduce the same seed."""
    existing = ClientCard.objects.count()
    if existing:
        s.log(f"clients: {existing} cards exist, none added (flush the database to reseed)")
        return
    if not s.clients:
        return
    started = time.monotonic()
    drafts = _draft_clients(s, s.rng("clients"))
    s.log(f"clients: {len(drafts)} drawn in {time.monotonic() - started:.1f} s")
    pks: list[int] = []
    for start in range(0, len(drafts), BATCH_SIZE):
        chunk = drafts[start:start + BATCH_SIZE]
        # bulk_create: no per-row save(), no history rows (see the module docstring), so
        # the search text save() keeps is built here.
        for draft in chunk:
            draft.card.refresh_search_text()
        ClientCard.objects.bulk_create([d.card for d in chunk])
        stamps, referrals = [], []
        for draft in chunk:
            pks.append(draft.card.pk)
            stamps.append((draft.card.pk, draft.created_at, draft.updated_at))
            if draft.referrer is not None:
                # Set only now: a referrer in the same batch had no id before the insert.
                referrals.append((draft.card.pk, pks[draft.referrer]))
            for contact in draft.contacts:
                contact.client = draft.card
        # auto_now_add stamped every row "now": put back when each card was really opened.
        update_rows(ClientCard, ("created_at", "updated_at"), stamps)
        update_rows(ClientCard, ("referrer",), referrals)
        ClientContact.objects.bulk_create([c for d in chunk for c in d.contacts],
                                          batch_size=BATCH_SIZE)
        if len(drafts) > BATCH_SIZE:
            s.log(f"clients: {len(pks)}/{len(drafts)} ({time.monotonic() - started:.1f} s)")
    s.card_ids = pks


# Run in this order; higher apps' sections (billing…) follow, see connections/demo.py.
# seed_workflow (connections/demo_workflow.py) puts the connection standard behind each new
# card's stage: surveys, contracts, installations, the stage log.
SECTIONS: tuple[Callable[[Seeder], None], ...] = (
    seed_org, seed_staff, seed_addresses, seed_clients, seed_workflow,
)


# --- The command ---------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Fill the database with demo data: two cities with a branch each, a login per role "
        f"(username = role name, password {DEMO_PASSWORD}), extra managers, the superuser "
        f"'{SUPERUSER}', districts, streets and about one building per 15 clients, and N "
        "client cards over every stage and connection type, each with what its stage implies "
        "(survey requests and results with estimates, contracts, crews and installations, "
        "the stage log; branch workflow settings). The same --seed gives the same "
        "data. Safe to re-run: it adds only what is missing — existing cities, branches, "
        "users (passwords untouched), districts and streets are kept, buildings are topped up "
        "to the size N needs, and clients are added only when there are no client cards at "
        "all (otherwise it says so and adds none: flush the database to reseed)."
    )
    requires_migrations_checks = True

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=300, metavar="N",
                            help="Number of client cards to create (default 300).")
        parser.add_argument("--seed", type=int, default=1, metavar="S",
                            help="Random seed; the same seed gives the same data (default 1).")

    def handle(self, *args, clients: int, seed: int, verbosity: int = 1, **options):
        if clients < 0:
            raise CommandError("--clients must not be negative.")
        self.verbosity = verbosity
        started = time.monotonic()
        seeder = Seeder(seed=seed, clients=clients, log=self.info)
        # One transaction: an interrupted seed leaves nothing half-made, and SQLite commits
        # 100,000 rows far faster in one go.
        with transaction.atomic():
            for section in (*SECTIONS, *demo.extra_sections):
                section(seeder)
        if connection.vendor == "postgresql":
            # Planner statistics now, not when autovacuum gets round to it: a freshly seeded
            # (or copied) database otherwise plans its first queries on empty estimates.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.info(self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f} s."))
        self.summary()
        self.logins(seeder)

    def info(self, text: str) -> None:
        if self.verbosity:
            self.stdout.write(text)

    def summary(self) -> None:
        cards = ClientCard.objects.all()
        by_stage = dict(cards.values_list("stage").annotate(n=Count("pk")).order_by())
        by_type = dict(cards.values_list("connection_type").annotate(n=Count("pk")).order_by())
        by_kind = Counter(dict(cards.values_list("kind").annotate(n=Count("pk")).order_by()))
        self.info(self.style.MIGRATE_HEADING("Client cards by stage:"))
        for stage in Stage:
            self.info(f"  {stage.value:<20} {by_stage.get(stage.value, 0):>8}")
        self.info(f"  {'total':<20} {sum(by_stage.values()):>8}")
        self.info(self.style.MIGRATE_HEADING("By connection type:"))
        for ctype in ConnectionType:
            self.info(f"  {ctype.value:<20} {by_type.get(ctype.value, 0):>8}")
        households = Building.objects.aggregate(n=Sum("households"))["n"] or 0
        active = by_stage.get(Stage.ACTIVE.value, 0)
        self.info(
            f"Persons {by_kind['person']}, companies {by_kind['company']}, "
            f"contacts {ClientContact.objects.count()}, "
            f"referred {cards.filter(referrer__isnull=False).count()}; "
            f"buildings {Building.objects.count()}, households {households}, penetration "
            f"{100 * active / households if households else 0:.1f}% (active / households)."
        )

    def logins(self, seeder: Seeder) -> None:
        self.info(self.style.MIGRATE_HEADING(
            f"Logins (password {DEMO_PASSWORD} unless the account existed before):"))
        self.info(f"  {'username':<22} {'role':<22} {'branch':<24} name")
        for user, role in seeder.staff:
            branch = user.branch.name if user.branch else "—"
            self.info(f"  {user.username:<22} {role:<22} {branch:<24} {user.get_full_name()}")
