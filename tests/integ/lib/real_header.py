"""The header block of a real PREP results file, read with python's csv module alone
(never with prep): what tests/integ/real_files.sh and real_derived.sh hold prep's
figures to. header(path) -> (names, stated): the 13 names as written, and the values by
canonical name (accents folded, upper case; ACTAS_FUERA_DE_CATALOGO and
PORCENTAJE_ACTAS_CON_INCONSISTENCIAS under their short names)."""
import csv
import unicodedata

ALIAS = {'ACTAS_FUERA_DE_CATALOGO': 'ACTAS_FUERA_CATALOGO',
         'PORCENTAJE_ACTAS_CON_INCONSISTENCIAS': 'PORCENTAJE_ACTAS_INCONSISTENCIAS'}


def fold(s):
    s = unicodedata.normalize('NFD', s)
    return ''.join(c for c in s if not unicodedata.combining(c)).upper().strip()


def canonical(name):
    return ALIAS.get(fold(name), fold(name))


def header(path):
    raw = open(path, 'rb').read()
    if raw.startswith(b'\xef\xbb\xbf'):
        raw = raw[3:]
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        text = raw.decode('latin-1')
    lines = [l for l in text.replace('\r\n', '\n').replace('\r', '\n').split('\n') if l.strip()]
    sep = ','
    if lines[0].startswith('sep='):
        sep = lines[0][4]
        lines = lines[1:]
    k = next(i for i, l in enumerate(lines) if 'ACTAS_ESPERADAS' in l)
    names = next(csv.reader([lines[k]], delimiter=sep))
    values = next(csv.reader([lines[k + 1]], delimiter=sep))
    return names, {canonical(n): v.strip() for n, v in zip(names, values)}
