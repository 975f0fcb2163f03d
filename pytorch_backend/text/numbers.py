"""Spelling out English numbers: cardinals, ordinals, years, decimals, digit strings.

Compound numbers are written with spaces ("twenty one", not "twenty-one") because the
cleaners drop hyphens; American style without "and" ("one hundred five").
"""

from __future__ import annotations

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SCALES = ["", "thousand", "million", "billion", "trillion"]
# Ordinals of the words a cardinal can end with; the others take "th" ("seventy" -> "seventieth").
IRREGULAR_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                      "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def _below_thousand(n: int) -> list[str]:
    words = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(TENS[tens])
        if ones:
            words.append(ONES[ones])
    elif rest or not words:
        words.append(ONES[rest])
    return words


def digits_to_words(digits: str) -> str:
    """Read a digit string one digit at a time ("042" -> "zero four two")."""
    return " ".join(ONES[int(d)] for d in digits)


def cardinal(n: int) -> str:
    """``1234`` -> "one thousand two hundred thirty four"; negatives get "minus".

    Numbers of 10**15 and above are read digit by digit.
    """
    if n < 0:
        return "minus " + cardinal(-n)
    if n >= 1000 ** len(SCALES):
        return digits_to_words(str(n))
    if n < 1000:
        return " ".join(_below_thousand(n))
    words = []
    scale = 0
    groups = []
    while n:
        n, group = divmod(n, 1000)
        groups.append((group, scale))
        scale += 1
    for group, scale in reversed(groups):
        if group:
            words += _below_thousand(group)
            if SCALES[scale]:
                words.append(SCALES[scale])
    return " ".join(words)


def ordinal(n: int) -> str:
    """``21`` -> "twenty first", ``100`` -> "one hundredth"."""
    words = cardinal(n).split()
    last = words[-1]
    if last in IRREGULAR_ORDINALS:
        words[-1] = IRREGULAR_ORDINALS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year(n: int) -> str:
    """Read a year the way people say it: 1999 -> "nineteen ninety nine".

    2000 -> "two thousand", 2005 -> "two thousand five", 1900 -> "nineteen hundred",
    1905 -> "nineteen oh five", 2019 -> "twenty nineteen". Outside 1000..2999: cardinal.
    """
    if not 1000 <= n <= 2999:
        return cardinal(n)
    if 2000 <= n < 2010:
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return f"{cardinal(high)} hundred"
    if low < 10:
        return f"{cardinal(high)} oh {ONES[low]}"
    return f"{cardinal(high)} {cardinal(low)}"


def decimal(integer_part: str, fraction_part: str) -> str:
    """``("3", "14")`` -> "three point one four"."""
    whole = cardinal(int(integer_part)) if integer_part else "zero"
    return f"{whole} point {digits_to_words(fraction_part)}"
