"""The products downloaded from the web speak the viewer's language: Arabic right to left,
French, English; values, TLP labels and the JSON's keys stay as they are."""

from __future__ import annotations

import datetime as dt
import subprocess
import unicodedata

from tests.web.conftest import Browser, WebWorld
from tests.web.test_products_pages import FJ_HIDDEN, FJ_VISIBLE, plant_fijian


def _pdf_words(body: bytes) -> str:
    assert body.startswith(b"%PDF")
    done = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True)
    text = done.stdout.decode()
    return " ".join("".join(c for c in text if unicodedata.category(c) != "Cf").split())


def test_product_downloads_follow_the_viewers_language(
    browser: Browser, web_world: WebWorld
) -> None:
    plant_fijian(web_world.store)
    month = dt.date.today().strftime("%Y-%m")
    browser.sign_in("fiji.officer")
    browser.client.cookies.set("marsad_lang", "ar")
    asked = {"country": "FJ", "period": month}
    shown = browser.client.get("/reports", params=asked).text  # the report in the page
    assert "فيجي" in shown and "takedown request" not in shown and "طلب إزالة" in shown
    page = browser.client.get("/reports/activity.html", params=asked).text
    assert '<html lang="ar" dir="rtl">' in page and "تقرير النشاط السيبراني" in page
    words = _pdf_words(browser.client.get("/reports/activity.pdf", params=asked).content)
    assert "تقرير النشاط السيبراني" in words and FJ_VISIBLE in words
    assert FJ_HIDDEN not in words and "Cyber activity report" not in words
    browser.client.cookies.set("marsad_lang", "fr")
    region = {"region": "asia-south-pacific", "period": month}
    words = _pdf_words(browser.client.get("/reports/assessment.pdf", params=region).content)
    assert "Évaluation de la menace" in words and "Synthèse" in words and FJ_VISIBLE in words
    shown = browser.client.get("/reports/assessment", params=region).text
    assert "Asie et Pacifique Sud" in shown and "Fidji" in shown
    data = browser.client.get("/reports/assessment.json", params=region).json()
    assert "summary" in data and data["tlp"].startswith("TLP:")  # keys and labels as they are
    advisory = browser.client.get("/reports/advisory.html", params={"threat": "phishing"}).text
    assert '<html lang="fr" dir="ltr">' in advisory and "Signes d'alerte" in advisory
    browser.client.cookies.set("marsad_lang", "en")
    english = browser.client.get("/reports/advisory.html", params={"threat": "phishing"}).text
    assert "Warning signs" in english and "Signes d'alerte" not in english
