"""Where the sandbox shop's customers live: real cities and streets, each street with a postal
code of its own area, and names and phone numbers that look local.

Phone numbers come from the ranges regulators set aside for fiction where there is one
(SE 070-17406xx, GB 07700 900xxx, US 555-01xx, FR 06 39 98 xx xx), so no real person is rung.
Email addresses use the reserved example.* domains (RFC 2606).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    streets: tuple[tuple[str, str], ...]
    """(street, postal code of that street)."""
    region: str | None = None
    """State or province code, where the country's addresses require one."""
    phone_area: str = ""
    """Filled into ``{area}`` of the country's phone template."""


@dataclass(frozen=True)
class Country:
    code: str
    weight: int
    """Share of the shop's orders, relative to the other countries."""
    cities: tuple[City, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    street_line: str
    """How a street line is written: ``{street}`` and ``{number}``."""
    house_numbers: tuple[int, int]
    unit_lines: tuple[str, ...]
    """Second address lines; ``#`` is replaced by a digit."""
    phone: str
    """Phone template: ``#`` is replaced by a digit, ``{area}`` by the city's area code."""
    companies: tuple[str, ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        code="SE",
        weight=30,
        cities=(
            City(
                "Stockholm",
                (
                    ("Drottninggatan", "111 51"),
                    ("Sveavägen", "113 59"),
                    ("Odengatan", "113 22"),
                    ("Götgatan", "118 46"),
                    ("Hornsgatan", "118 49"),
                    ("Folkungagatan", "116 30"),
                ),
            ),
            City(
                "Göteborg",
                (("Linnégatan", "413 04"), ("Vasagatan", "411 24"), ("Andra Långgatan", "413 27")),
            ),
            City(
                "Malmö",
                (
                    ("Södra Förstadsgatan", "211 43"),
                    ("Davidshallsgatan", "211 45"),
                    ("Regementsgatan", "217 53"),
                ),
            ),
            City("Uppsala", (("Svartbäcksgatan", "753 20"), ("Kungsgatan", "753 21"))),
        ),
        first_names=("Astrid", "Erik", "Åsa", "Lars", "Maja", "Oskar", "Ingrid", "Björn", "Elsa"),
        last_names=("Lindqvist", "Johansson", "Berg", "Nyström", "Åkesson", "Lund", "Holm"),
        street_line="{street} {number}",
        house_numbers=(1, 120),
        unit_lines=("lgh 1###", "c/o Lund"),
        phone="+46 70-174 06 ##",
        companies=("Lund & Berg AB", "Nordljus Design AB"),
    ),
    Country(
        code="NL",
        weight=15,
        cities=(
            City(
                "Amsterdam",
                (
                    ("Prinsengracht", "1016 GV"),
                    ("Overtoom", "1054 HR"),
                    ("Ferdinand Bolstraat", "1072 LK"),
                    ("Javastraat", "1094 HG"),
                ),
            ),
            City(
                "Rotterdam",
                (("Witte de Withstraat", "3012 BM"), ("Nieuwe Binnenweg", "3014 GA")),
            ),
            City("Utrecht", (("Oudegracht", "3511 AR"), ("Biltstraat", "3572 AW"))),
        ),
        first_names=("Daan", "Sanne", "Lotte", "Bram", "Fleur", "Joost", "Anouk", "Thijs"),
        last_names=("de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Smit", "de Boer"),
        street_line="{street} {number}",
        house_numbers=(1, 400),
        unit_lines=("#-hoog", "huis"),
        phone="+31 6 ## ## ## ##",
        companies=("De Kleine Winkel B.V.", "Studio Gracht"),
    ),
    Country(
        code="DE",
        weight=20,
        cities=(
            City(
                "Berlin",
                (
                    ("Kastanienallee", "10435"),
                    ("Oranienstraße", "10999"),
                    ("Bergmannstraße", "10961"),
                    ("Karl-Marx-Straße", "12043"),
                ),
            ),
            City("München", (("Leopoldstraße", "80802"), ("Sendlinger Straße", "80331"))),
            City("Hamburg", (("Schanzenstraße", "20357"), ("Lange Reihe", "20099"))),
            City("Köln", (("Ehrenstraße", "50672"), ("Venloer Straße", "50823"))),
        ),
        first_names=("Jürgen", "Lena", "Felix", "Sophie", "Lukas", "Hannah", "Maximilian", "Jana"),
        last_names=("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann"),
        street_line="{street} {number}",
        house_numbers=(1, 150),
        unit_lines=("Hinterhaus", "#. OG"),
        phone="+49 152 ########",
        companies=("Müller Design GmbH", "Weber & Söhne KG"),
    ),
    Country(
        code="GB",
        weight=12,
        cities=(
            City(
                "London",
                (
                    ("Upper Street", "N1 0PN"),
                    ("Brick Lane", "E1 6QL"),
                    ("Kings Road", "SW3 5UZ"),
                    ("Portobello Road", "W11 1LJ"),
                ),
            ),
            City("Manchester", (("Oldham Street", "M1 1JQ"), ("Wilmslow Road", "M14 5TQ"))),
            City("Edinburgh", (("Leith Walk", "EH6 8RG"), ("Bruntsfield Place", "EH10 4HN"))),
            City("Bristol", (("Gloucester Road", "BS7 8AE"), ("North Street", "BS3 1HT"))),
        ),
        first_names=("Oliver", "Amelia", "George", "Isla", "Harry", "Zoë", "Freddie", "Poppy"),
        last_names=("Smith", "Taylor", "Hughes", "O'Brien", "Walker", "Patel", "Wright"),
        street_line="{number} {street}",
        house_numbers=(1, 300),
        unit_lines=("Flat #", "Unit #"),
        phone="+44 7700 900###",
        companies=("Hartley & Sons Ltd", "Kettle Studio Ltd"),
    ),
    Country(
        code="US",
        weight=13,
        cities=(
            City(
                "New York",
                (
                    ("Broadway", "10012"),
                    ("West 14th Street", "10011"),
                    ("East 7th Street", "10003"),
                ),
                region="NY",
                phone_area="212",
            ),
            City(
                "San Francisco",
                (("Valencia Street", "94110"), ("Haight Street", "94117")),
                region="CA",
                phone_area="415",
            ),
            City(
                "Chicago",
                (("North Milwaukee Avenue", "60622"), ("West Armitage Avenue", "60614")),
                region="IL",
                phone_area="312",
            ),
            City(
                "Austin",
                (("South Congress Avenue", "78704"), ("East 6th Street", "78702")),
                region="TX",
                phone_area="512",
            ),
            City(
                "Portland",
                (("Southeast Hawthorne Boulevard", "97214"), ("Northwest 23rd Avenue", "97210")),
                region="OR",
                phone_area="503",
            ),
        ),
        first_names=("James", "Emily", "Michael", "Olivia", "Daniel", "Sofia", "Ethan", "Ava"),
        last_names=("Johnson", "Garcia", "Miller", "Davis", "Rodriguez", "Nguyen", "Brown"),
        street_line="{number} {street}",
        house_numbers=(100, 4999),
        unit_lines=("Apt #B", "Suite #00"),
        phone="+1 {area} 555-01##",
        companies=("Bluebird Coffee LLC", "Hawthorne Supply Co."),
    ),
    Country(
        code="FR",
        weight=10,
        cities=(
            City(
                "Paris",
                (
                    ("rue de Rivoli", "75001"),
                    ("rue Oberkampf", "75011"),
                    ("rue des Martyrs", "75009"),
                    ("rue Lepic", "75018"),
                ),
            ),
            City("Lyon", (("rue de la République", "69002"), ("rue Garibaldi", "69003"))),
            City("Marseille", (("La Canebière", "13001"), ("rue Paradis", "13006"))),
            City("Bordeaux", (("rue Sainte-Catherine", "33000"), ("cours Victor Hugo", "33000"))),
        ),
        first_names=("Camille", "Louis", "Léa", "Hugo", "Chloé", "Gabriel", "Manon", "François"),
        last_names=("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Roux"),
        street_line="{number} {street}",
        house_numbers=(1, 150),
        unit_lines=("Bâtiment B", "Appartement #"),
        phone="+33 6 39 98 ## ##",
        companies=("Atelier Martin SARL", "Maison Roux"),
    ),
)
