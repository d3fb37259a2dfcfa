"""How Russian accounting documents write numbers, money and dates: «1 500,00»,
«Одна тысяча пятьсот рублей 00 копеек», «30.11.2026», «ноябрь 2026».

These are the forms of a legal document, so they are Russian whatever the reader's
interface language is."""

from datetime import date
from decimal import Decimal

from billing.money import to_money

MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
          "сентябрь", "октябрь", "ноябрь", "декабрь")

_UNITS_MASCULINE = ("", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь",
                    "девять")
_UNITS_FEMININE = ("", "одна", "две", "три", "четыре", "пять", "шесть", "семь", "восемь",
                   "девять")
_TEENS = ("десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать",
          "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать")
_TENS = ("", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят",
         "восемьдесят", "девяносто")
_HUNDREDS = ("", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот",
             "восемьсот", "девятьсот")
# (forms for 1, 2–4, 5+; feminine?) of each group of three digits, lowest first.
_GROUPS = (
    (("", "", ""), False),
    (("тысяча", "тысячи", "тысяч"), True),
    (("миллион", "миллиона", "миллионов"), False),
    (("миллиард", "миллиарда", "миллиардов"), False),
)


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The form of a noun after the number n: 1 рубль, 2 рубля, 5 рублей, 11 рублей."""
    n = abs(n)
    if 11 <= n % 100 <= 14:
        return many
    if n % 10 == 1:
        return one
    if 2 <= n % 10 <= 4:
        return few
    return many


def _triple(n: int, feminine: bool) -> list[str]:
    units = _UNITS_FEMININE if feminine else _UNITS_MASCULINE
    words = [_HUNDREDS[n // 100]]
    rest = n % 100
    if 10 <= rest <= 19:
        words.append(_TEENS[rest - 10])
    else:
        words += [_TENS[rest // 10], units[rest % 10]]
    return [word for word in words if word]


def number_in_words_ru(n: int) -> str:
    """A whole number in masculine words: 21 → «двадцать один», 0 → «ноль»."""
    if n == 0:
        return "ноль"
    if n < 0:
        return "минус " + number_in_words_ru(-n)
    if n >= 1000 ** len(_GROUPS):
        raise ValueError(f"too large to write in words: {n}")
    words: list[str] = []
    for power in range(len(_GROUPS) - 1, -1, -1):
        part = n // 1000 ** power % 1000
        if not part:
            continue
        (one, few, many), feminine = _GROUPS[power]
        words += _triple(part, feminine)
        if power:
            words.append(plural_ru(part, one, few, many))
    return " ".join(words)


def amount_in_words_ru(amount: Decimal) -> str:
    """«Одна тысяча пятьсот рублей 50 копеек»: roubles in words, kopecks in two digits, as
    invoices and acts write the total."""
    amount = to_money(amount)
    sign = "минус " if amount < 0 else ""
    kopecks_total = int(abs(amount) * 100)
    roubles, kopecks = divmod(kopecks_total, 100)
    text = (f"{sign}{number_in_words_ru(roubles)} "
            f"{plural_ru(roubles, 'рубль', 'рубля', 'рублей')} "
            f"{kopecks:02d} {plural_ru(kopecks, 'копейка', 'копейки', 'копеек')}")
    return text[0].upper() + text[1:]


def format_money(amount: Decimal) -> str:
    """1500 → «1 500,00» (the space separates thousands; templates keep it unbroken)."""
    amount = to_money(amount)
    sign = "-" if amount < 0 else ""
    whole, fraction = f"{abs(amount):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups)},{fraction}"


def format_quantity(value: Decimal | int) -> str:
    """1 → «1», 2.50 → «2,5»: a quantity or hours without trailing zeros."""
    value = Decimal(value)
    text = f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def format_date(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def month_year(period: date) -> str:
    """«ноябрь 2026»"""
    return f"{MONTHS[period.month - 1]} {period.year}"
