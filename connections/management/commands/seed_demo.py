"""``manage.py seed_demo``: a realistic, deterministic demo data set (two cities, staff for every
role, an address register and client cards spread over the whole funnel).

Each section is a small ``seed_*`` function taking the shared :class:`Seeder`; a new section
(tariffs, accounts, …) is one more function appended to ``SECTIONS``. Each section draws from
its own random stream (``Seeder.rng``), so adding, skipping or resizing one section never
changes the data another produces for the same seed.

Bulk writes bypass django-simple-history on purpose: demo rows need no audit trail, and
history rows would double the time and size of a 100,000-client seed."""

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
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

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
# bulk_update builds one CASE WHEN per row: its cost grows with the square of the batch.
UPDATE_BATCH_SIZE = 500

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
    wanted[SUPERUSER] = (None, "Администратор", "Системы", "Администратор CRM", "msk")
    existing = {u.username: u for u in User.objects.filter(username__in=wanted)}
    s.phones.update(u.phone for u in existing.values() if u.phone)
    password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL_ROLES)}
    created = 0
    for username, (role, first, last, position, city_key) in wanted.items():
        phone = s.mobile(rng)  # drawn even for existing users: keeps the stream stable
        user = existing.get(username)
        if user is None:
            user = User.objects.create(
                username=username, password=password, first_name=first, last_name=last,
                position=position, phone=phone, email=f"{username}@demo.ispcrm.example",
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


