"""ISO 3166-2 subdivision → IANA time zone, for the countries with more than one zone.

Source: the tz database's ``zone.tab`` / ``zone1970.tab`` (shipped by the ``tzdata`` package), whose
comment column names the states, provinces and regions each zone covers (for example "America/Boise:
Mountain - ID (south), OR (east)"); each subdivision below is assigned the zone that covers most of
its people. Codes are ISO 3166-2 without the country prefix; the other spellings the platforms send
are aliases (Shopify's Mexican codes "JAL", "Q ROO", "CDMX"; WooCommerce's two-letter Mexican state
codes "JA", "QR", "DF"; Spain's provinces "GC", "TF" for the Canaries; Malaysia's "SBH", "SWK").
A subdivision split between zones (Florida's panhandle, Oregon's Malheur county, Indiana's counties)
gets its majority zone: an address names no county, and a message an hour off in a few counties
beats a shop-time guess for the whole country.

Countries left out have one zone, or several zones that keep the same time today (Kazakhstan since
2024, Argentina, Germany's Büsingen): the country's principal zone is then exact.
"""
from __future__ import annotations

_US = {
    **dict.fromkeys(("CT", "DE", "DC", "FL", "GA", "ME", "MD", "MA", "NH", "NJ", "NY", "NC", "OH", "PA", "RI",
                     "SC", "VT", "VA", "WV"), "America/New_York"),
    "KY": "America/New_York", "MI": "America/Detroit", "IN": "America/Indiana/Indianapolis",
    **dict.fromkeys(("AL", "AR", "IL", "IA", "KS", "LA", "MN", "MS", "MO", "NE", "ND", "OK", "SD", "TN", "TX",
                     "WI"), "America/Chicago"),
    **dict.fromkeys(("CO", "MT", "NM", "UT", "WY"), "America/Denver"),
    "ID": "America/Boise", "AZ": "America/Phoenix",
    **dict.fromkeys(("CA", "NV", "OR", "WA"), "America/Los_Angeles"),
    "AK": "America/Anchorage", "HI": "Pacific/Honolulu",
    # Territories Shopify and WooCommerce list as US states.
    "PR": "America/Puerto_Rico", "VI": "America/St_Thomas", "GU": "Pacific/Guam", "AS": "Pacific/Pago_Pago",
    "MP": "Pacific/Saipan",
}

_CA = {
    "AB": "America/Edmonton", "BC": "America/Vancouver", "MB": "America/Winnipeg", "NB": "America/Moncton",
    "NL": "America/St_Johns", "NS": "America/Halifax", "NT": "America/Edmonton", "NU": "America/Iqaluit",
    "ON": "America/Toronto", "PE": "America/Halifax", "QC": "America/Toronto", "SK": "America/Regina",
    "YT": "America/Whitehorse",
}

_MX_ISO = {
    "AGU": "America/Mexico_City", "BCN": "America/Tijuana", "BCS": "America/Mazatlan", "CAM": "America/Merida",
    "CHP": "America/Mexico_City", "CHH": "America/Chihuahua", "COA": "America/Monterrey",
    "COL": "America/Mexico_City", "CMX": "America/Mexico_City", "DUR": "America/Monterrey",
    "GUA": "America/Mexico_City", "GRO": "America/Mexico_City", "HID": "America/Mexico_City",
    "JAL": "America/Mexico_City", "MEX": "America/Mexico_City", "MIC": "America/Mexico_City",
    "MOR": "America/Mexico_City", "NAY": "America/Mazatlan", "NLE": "America/Monterrey",
    "OAX": "America/Mexico_City", "PUE": "America/Mexico_City", "QUE": "America/Mexico_City",
    "ROO": "America/Cancun", "SLP": "America/Mexico_City", "SIN": "America/Mazatlan", "SON": "America/Hermosillo",
    "TAB": "America/Mexico_City", "TAM": "America/Monterrey", "TLA": "America/Mexico_City",
    "VER": "America/Mexico_City", "YUC": "America/Merida", "ZAC": "America/Mexico_City",
}
# Shopify's and WooCommerce's own Mexican codes → ISO.
_MX_ALIASES = {
    "AGS": "AGU", "AG": "AGU", "BC": "BCN", "BS": "BCS", "CAMP": "CAM", "CM": "CAM", "CHIS": "CHP", "CS": "CHP",
    "CHIH": "CHH", "CH": "CHH", "COAH": "COA", "CO": "COA", "CL": "COL", "CDMX": "CMX", "DF": "CMX", "DIF": "CMX",
    "DGO": "DUR", "DG": "DUR", "GTO": "GUA", "GT": "GUA", "GR": "GRO", "HGO": "HID", "HG": "HID", "JA": "JAL",
    "MX": "MEX", "MICH": "MIC", "MI": "MIC", "MO": "MOR", "NA": "NAY", "NL": "NLE", "OA": "OAX", "PU": "PUE",
    "QRO": "QUE", "QT": "QUE", "Q ROO": "ROO", "QR": "ROO", "SL": "SLP", "SI": "SIN", "SO": "SON", "TB": "TAB",
    "TAMPS": "TAM", "TM": "TAM", "TLAX": "TLA", "TL": "TLA", "VE": "VER", "YU": "YUC", "ZA": "ZAC",
}

_BR = {
    "AC": "America/Rio_Branco", "AL": "America/Maceio", "AP": "America/Belem", "AM": "America/Manaus",
    "BA": "America/Bahia", "CE": "America/Fortaleza", "DF": "America/Sao_Paulo", "ES": "America/Sao_Paulo",
    "GO": "America/Sao_Paulo", "MA": "America/Fortaleza", "MT": "America/Cuiaba", "MS": "America/Campo_Grande",
    "MG": "America/Sao_Paulo", "PA": "America/Belem", "PB": "America/Fortaleza", "PR": "America/Sao_Paulo",
    "PE": "America/Recife", "PI": "America/Fortaleza", "RJ": "America/Sao_Paulo", "RN": "America/Fortaleza",
    "RS": "America/Sao_Paulo", "RO": "America/Porto_Velho", "RR": "America/Boa_Vista", "SC": "America/Sao_Paulo",
    "SP": "America/Sao_Paulo", "SE": "America/Maceio", "TO": "America/Araguaina",
}

_AU = {
    "NSW": "Australia/Sydney", "ACT": "Australia/Sydney", "VIC": "Australia/Melbourne", "QLD": "Australia/Brisbane",
    "SA": "Australia/Adelaide", "WA": "Australia/Perth", "TAS": "Australia/Hobart", "NT": "Australia/Darwin",
}

_RU = {
    "KGD": "Europe/Kaliningrad",
    **dict.fromkeys(("MOW", "SPE", "MOS", "LEN", "ARK", "NEN", "VLG", "KR", "KO", "MUR", "NGR", "PSK", "TVE", "YAR",
                     "KOS", "IVA", "VLA", "RYA", "TUL", "KLU", "SMO", "BRY", "ORL", "KRS", "BEL", "LIP", "TAM",
                     "VOR", "PNZ", "MO", "CU", "ME", "NIZ", "TA", "AD", "KDA", "KB", "KC", "SE", "IN", "CE", "DA",
                     "STA", "ROS", "KL"), "Europe/Moscow"),
    "VGG": "Europe/Volgograd", "KIR": "Europe/Kirov",
    "SAM": "Europe/Samara", "UD": "Europe/Samara", "AST": "Europe/Astrakhan", "SAR": "Europe/Saratov",
    "ULY": "Europe/Ulyanovsk",
    **dict.fromkeys(("SVE", "CHE", "KGN", "TYU", "KHM", "YAN", "PER", "BA", "ORE"), "Asia/Yekaterinburg"),
    "OMS": "Asia/Omsk", "NVS": "Asia/Novosibirsk", "ALT": "Asia/Barnaul", "AL": "Asia/Barnaul",
    "TOM": "Asia/Tomsk", "KEM": "Asia/Novokuznetsk",
    **dict.fromkeys(("KYA", "TY", "KK"), "Asia/Krasnoyarsk"),
    "IRK": "Asia/Irkutsk", "BU": "Asia/Irkutsk", "ZAB": "Asia/Chita", "AMU": "Asia/Yakutsk", "SA": "Asia/Yakutsk",
    **dict.fromkeys(("PRI", "KHA", "YEV"), "Asia/Vladivostok"),
    "MAG": "Asia/Magadan", "SAK": "Asia/Sakhalin", "KAM": "Asia/Kamchatka", "CHU": "Asia/Anadyr",
}

_ID = {
    **dict.fromkeys(("AC", "SU", "SB", "RI", "JA", "SS", "BE", "LA", "BB", "KR", "JK", "JB", "JT", "YO", "JI", "BT"),
                    "Asia/Jakarta"),
    "KB": "Asia/Pontianak", "KT": "Asia/Pontianak",
    **dict.fromkeys(("KS", "KI", "KU", "BA", "NB", "NT", "SA", "ST", "SG", "SN", "GO", "SR"), "Asia/Makassar"),
    **dict.fromkeys(("MA", "MU", "PA", "PB", "PD", "PE", "PS", "PT"), "Asia/Jayapura"),
}

_CL = {"AI": "America/Coyhaique", "MA": "America/Punta_Arenas"}  # the rest: America/Santiago
_ES = {"CN": "Atlantic/Canary", "GC": "Atlantic/Canary", "TF": "Atlantic/Canary", "CE": "Africa/Ceuta",
       "ML": "Africa/Ceuta"}
_PT = {"20": "Atlantic/Azores", "30": "Atlantic/Madeira"}
_CN = {"XJ": "Asia/Urumqi", "65": "Asia/Urumqi"}
_EC = {"W": "Pacific/Galapagos"}
_NZ = {"CIT": "Pacific/Chatham"}

SUBDIVISION_ZONES: dict[str, dict[str, str]] = {
    "US": _US, "CA": _CA, "MX": {**_MX_ISO, **{alias: _MX_ISO[iso] for alias, iso in _MX_ALIASES.items()}},
    "BR": _BR, "AU": _AU, "RU": _RU, "ID": _ID, "CL": _CL, "ES": _ES, "PT": _PT, "CN": _CN, "EC": _EC, "NZ": _NZ,
}
# Countries whose table lists only the regions off the principal zone's time: any other region keeps it.
EXCEPTIONS_ONLY = frozenset({"CL", "ES", "PT", "CN", "EC", "NZ"})

# The zone most of a multi-zone country's people live by (zone.tab's order is not by population:
# Ukraine's first line is Simferopol). Used when the subdivision is unknown and the shop is abroad.
PRINCIPAL_ZONES = {
    "AR": "America/Argentina/Buenos_Aires", "AU": "Australia/Sydney", "BR": "America/Sao_Paulo",
    "CA": "America/Toronto", "CD": "Africa/Kinshasa", "CL": "America/Santiago", "CN": "Asia/Shanghai",
    "CY": "Asia/Nicosia", "DE": "Europe/Berlin", "EC": "America/Guayaquil", "ES": "Europe/Madrid",
    "FM": "Pacific/Chuuk", "GL": "America/Nuuk", "ID": "Asia/Jakarta", "KI": "Pacific/Tarawa", "KZ": "Asia/Almaty",
    "MH": "Pacific/Majuro", "MN": "Asia/Ulaanbaatar", "MX": "America/Mexico_City", "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland", "PF": "Pacific/Tahiti", "PG": "Pacific/Port_Moresby", "PS": "Asia/Hebron",
    "PT": "Europe/Lisbon", "RU": "Europe/Moscow", "UA": "Europe/Kyiv", "US": "America/New_York",
    "UZ": "Asia/Tashkent",
}
